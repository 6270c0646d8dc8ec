"""A tiny pix2pix or ProGAN run, in one process or as one worker of several (tests/test_distribute.py).

    python multiworker_tiny.py APP RUN [--distribute multiworker|jax] [--sleep S]

APP: ``pix2pix`` (4 epochs of 2 steps at global batch 8) or ``progan`` (8x8: level 0 for 1 epoch, then 8x8 fading
in and stable, 4 epochs of 2 steps; the level boundary at epoch 1). ``--distribute multiworker`` reads the
cluster from TF_CONFIG (one CPU per worker); ``--distribute jax`` from JAX_COORDINATOR_ADDRESS,
JAX_NUM_PROCESSES and JAX_PROCESS_ID. Every epoch ends with a checkpoint (the chief's in RUN, the others' in
RUN/.worker<i>) and ``--sleep`` seconds (the window a test kills a worker in); a restarted run resumes from the
chief's checkpoint. The chief writes RUN/final.npz (every variable of the trainer) and RUN/time.txt (seconds of
training), and prints "start epoch N".
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

p = argparse.ArgumentParser()
p.add_argument("app", choices=("pix2pix", "progan"))
p.add_argument("run")
p.add_argument("--sleep", type=float, default=0.0)
from zoo import distribute  # noqa: E402

distribute.add_arguments(p)
a = p.parse_args()
setup = distribute.from_args(a)

import keras  # noqa: E402

keras.config.disable_traceback_filtering()
import numpy as np  # noqa: E402

from pause import Pause  # noqa: E402
from zoo.callbacks import Checkpoint  # noqa: E402

B = 8


def build():
    if a.app == "pix2pix":
        from zoo.apps import pix2pix

        gan = pix2pix.Pix2Pix(pix2pix.UNetGenerator(depth=3, filters=4), pix2pix.PatchDiscriminator(n_layers=2, filters=4),
                              ema_decay=0.9, seed=0)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.01, momentum=0.5),
                    g_optimizer=keras.optimizers.SGD(0.01, momentum=0.5))
        return gan
    from zoo.apps import progan

    gan = progan.ProGAN(progan.ProGANGenerator(8, latent_dim=8, fmap_base=16, fmap_max=8),
                        progan.ProGANDiscriminator(8, fmap_base=16, fmap_max=8), seed=0)
    gan.compile()
    return gan


rng = np.random.default_rng(0)
if a.app == "pix2pix":
    data = (rng.uniform(-1, 1, (2 * B, 16, 16, 3)).astype("float32"), rng.uniform(-1, 1, (2 * B, 16, 16, 3))
            .astype("float32"))
    plan = dict(batch_size=B, epochs=4)
else:
    from zoo.apps import progan

    data = (rng.uniform(-1, 1, (2 * B, 8, 8, 3)).astype("float32"),)
    # level 0: 16 images (1 epoch of 2 steps); level 1: fade over 16, stable 16 (2 + 2 epochs)
    plan = dict(schedule=progan.Schedule(8, fade_images=16, stable_images=16, final_images=16, batch_size=B))

if setup.name == "jax" and setup.workers > 1:
    if a.app != "pix2pix":
        raise SystemExit("two JAX processes: pix2pix only (ProGAN.fit batches arrays with the schedule's global "
                         "batch; Keras's JAX trainer wants each process's share)")
    # Keras's JAX trainer takes each process's own rows of a global batch: feed them (sharded here, not by Keras)
    per = B // setup.workers
    rows = [k * B + setup.worker * per + j for k in range(len(data[0]) // B) for j in range(per)]
    data = tuple(x[rows] for x in data)
    plan["batch_size"] = per
    setup.distribution.auto_shard_dataset = False

keras.utils.set_random_seed(0)
with setup.scope():
    gan = build()
run = setup.run_folder(a.run)
ckpt = Checkpoint(run)
start = ckpt.resume(gan)
print(f"start epoch {start}", flush=True)
t = time.time()
gan.fit(*data, initial_epoch=start, shuffle=False, verbose=0, callbacks=[ckpt, Pause(a.sleep)], **plan)
seconds = time.time() - t


def numpy(v):
    value = v.value
    if setup.strategy is not None:  # this process's first replica's copy
        value = setup.strategy.experimental_local_results(value)[0]
    return np.asarray(keras.ops.convert_to_numpy(value))


state = {f"v{i}_{v.path.replace('/', '|')}": numpy(v) for i, v in enumerate(gan.variables)}
state.update({f"o{i}": numpy(v) for i, v in enumerate(gan.d_optimizer.variables + gan.g_optimizer.variables)})
np.savez(os.path.join(run, "final.npz"), **state)
with open(os.path.join(run, "time.txt"), "w") as f:
    f.write(f"{seconds:.2f}\n")
print("done", flush=True)
