"""Recipe for the ProGAN presets (resumable: rerun the same command to continue a killed run).

    python apps/progan/train.py --preset celeba_64 --precision mixed_bfloat16

Data: the 10,000 faces of ../shared/data/faces_celeba/train (128x128 centred crops) resized to the preset's
resolution, mirrored at random (``progan.dataset``). The schedule (``progan.Schedule``): 4x4 stabilises for
``--stable`` images; each later level fades in over ``--fade`` images and stabilises for ``--stable``; the last
level (64x64) runs for ``--final`` images. Minibatch 64 at 4x4 and 8x8, 32 at 16x16, 16 above; Adam 1e-3 (0,
0.99, 1e-8); WGAN-GP (10) with drift 0.001; EMA generator 0.999.

Every ``--steps-per-epoch`` steps: a checkpoint in <run>/ (both networks, the EMA generator, both optimizers,
alpha, the images shown, random states), the log row in <run>/log.csv, the EMA generator as
<run>/generator.step<N>.weights.h5 and grids of faces for fixed latents at the current level (the EMA's,
<run>/grid.epoch<N>.png, and the trained generator's, <run>/raw.epoch<N>.png). The final EMA generator is <run>/generator.weights.h5; apps/progan/evaluate.py
measures and registers it.
"""
import argparse
import os
import sys

import keras
import numpy as np

from zoo.apps import progan
from zoo.callbacks import Checkpoint, Snapshots

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data",
                    "faces_celeba", "train")
BATCH = {4: 64, 8: 64, 16: 32, 32: 16, 64: 16, 128: 16, 256: 8, 512: 4, 1024: 4}


class LevelGrid(keras.callbacks.Callback):
    """Grids of faces for 32 fixed latents at the current level and alpha, each epoch: the EMA generator's
    (grid.epoch<N>.png, what ships) and the trained generator's own (raw.epoch<N>.png; with short phases the
    EMA's 0.999 averages over most of a phase, so it shows a new level's faces later than the generator)."""

    def __init__(self, run, latent_dim, seed=0):
        super().__init__()
        self.run = run
        self.z = np.random.default_rng(seed).standard_normal((32, latent_dim)).astype("float32")

    def on_epoch_end(self, epoch, logs=None):
        from zoo import images

        gan = self.model
        for name, g in (("grid", gan.sampling_generator()), ("raw", gan.generator)):
            x = g.grown_images(self.z, gan.level, gan.alpha)
            images.save_png(os.path.join(self.run, f"{name}.epoch{epoch + 1}.png"), images.grid(x, ncols=8))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(progan.CONFIGS), required=True)
    p.add_argument("--fade", type=int, default=25_000, help="images per fade-in")
    p.add_argument("--stable", type=int, default=25_000, help="images per stabilisation (all levels but the last)")
    p.add_argument("--final", type=int, default=400_000, help="images at the last level after its fade-in")
    p.add_argument("--steps-per-epoch", type=int, default=250, help="checkpoint interval")
    p.add_argument("--data", default=DATA)
    p.add_argument("--run", help="run folder (default runs/progan_<preset>)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                   help="Keras dtype policy (mixed_bfloat16: ~2x faster on a CPU with AMX; weights stay float32)")
    a = p.parse_args(argv)
    keras.config.set_dtype_policy(a.precision)
    run = a.run or os.path.join("runs", f"progan_{a.preset}")
    os.makedirs(run, exist_ok=True)
    keras.utils.set_random_seed(a.seed)
    preset = progan.CONFIGS[a.preset]
    res = preset.config["resolution"]
    gan = progan.build(preset, seed=a.seed)
    gan.compile()
    schedule = progan.Schedule(res, fade_images=a.fade, stable_images=a.stable, final_images=a.final,
                               batch_size={s: BATCH[s] for s in progan.sides(res)}, learning_rate=1e-3)
    ckpt = Checkpoint(run, log=True)
    start = ckpt.resume(gan)
    phases = schedule.phases(lambda b: a.steps_per_epoch)
    print(f"{a.preset}: epochs {start} -> {phases[-1].end_epoch} of {a.steps_per_epoch} steps; levels start at "
          f"epochs {[ph.first_epoch for ph in phases]}; run folder {run}", file=sys.stderr)

    def data(batch_size):
        return progan.dataset(a.data, resolution=res, batch_size=batch_size, seed=a.seed + start)

    callbacks = [ckpt, Snapshots(run, "generator"), LevelGrid(run, gan.latent_dim)]
    gan.fit(data, schedule=schedule, steps_per_epoch=a.steps_per_epoch, initial_epoch=start, verbose=2,
            callbacks=callbacks)
    gan.sampling_generator().save_weights(os.path.join(run, "generator.weights.h5"))


if __name__ == "__main__":
    main()
