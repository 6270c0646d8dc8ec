"""Recipe for the ProGAN presets (resumable: rerun the same command to continue a killed run).

    python apps/progan/train.py --preset celeba_64 --precision mixed_bfloat16
    python apps/progan/train.py --size 128 --augment ada --hold-out 1000 --precision mixed_bfloat16   # celeba_128

``--size SIDE`` picks the preset that makes SIDExSIDE faces (128: celeba_128). ``--augment ada`` (or
``diffaugment``) puts differentiable augmentation in front of the critic for reals and fakes alike
(``zoo.augment``; ADA's p starts at 0 and follows r_t toward ``--ada-target``, logged as aug_p / aug_rt in
<run>/log.csv, kept in the checkpoint). ``--hold-out N`` trains on all but the last N faces in name order (a
folder of links to them, <run>/faces), leaving those N to apps/progan/evaluate.py's two-sample test. The run
folder records these settings (<run>/settings.json); resuming with other ones is refused (``--final`` may change:
it only moves the end of the last level).

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
import json
import os
import sys

import keras
import numpy as np

from zoo import distribute
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


def training_faces(folder, run, hold_out):
    """The folder to train on: ``folder`` itself, or (``hold_out`` > 0) ``<run>/faces``, links to all of its images
    but the last ``hold_out`` in name order (those are left for evaluation)."""
    from zoo import data

    if not hold_out:
        return folder
    files = data.list_images(folder)
    if hold_out >= len(files):
        raise SystemExit(f"--hold-out {hold_out}: {folder} has only {len(files)} images")
    keep = files[:len(files) - hold_out]
    out = os.path.join(run, "faces")
    os.makedirs(out, exist_ok=True)
    names = set(os.listdir(out))
    for f in keep:
        name = os.path.basename(f)
        if name not in names:
            os.symlink(os.path.abspath(f), os.path.join(out, name))
    stale = names - {os.path.basename(f) for f in keep}
    if stale:
        raise SystemExit(f"{out} holds {len(stale)} links that are not this split's (another --data or --hold-out?)")
    return out


def check_settings(run, settings):
    """Record the run's settings on its first start; refuse to continue it with other ones."""
    path = os.path.join(run, "settings.json")
    if os.path.exists(path):
        with open(path) as f:
            before = json.load(f)
        changed = {k: (before.get(k), v) for k, v in settings.items() if before.get(k) != v}
        if changed:
            raise SystemExit(f"{run} was started with other settings {changed} (was, now): continue it with the "
                             f"same flags, or start a new --run")
    else:
        with open(path, "w") as f:
            json.dump(settings, f, indent=1)


def augmentation(name, target, speed, seed):
    from zoo import augment

    if name == "ada":
        return augment.ADA(target=target, speed=speed, seed=seed + 7919)
    return augment.get(name, seed=seed + 7919)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(progan.CONFIGS), help="the preset to train (or --size)")
    p.add_argument("--size", type=int, choices=sorted(c.config["resolution"] for c in progan.CONFIGS.values()),
                   help="instead of --preset: the preset of this output side")
    p.add_argument("--augment", choices=("none", "ada", "diffaugment"), default="none",
                   help="differentiable augmentation in front of the critic (zoo.augment; default none)")
    p.add_argument("--ada-target", type=float, default=0.6, help="ADA's target for r_t (default 0.6)")
    p.add_argument("--ada-speed", type=int, default=500_000, help="images for ADA's p to go 0 -> 1 (500,000)")
    p.add_argument("--hold-out", type=int, default=0, metavar="N",
                   help="leave the last N faces (name order) out of training, for evaluate.py (default 0)")
    p.add_argument("--fade", type=int, default=25_000, help="images per fade-in")
    p.add_argument("--stable", type=int, default=25_000, help="images per stabilisation (all levels but the last)")
    p.add_argument("--final", type=int, default=400_000, help="images at the last level after its fade-in")
    p.add_argument("--steps-per-epoch", type=int, default=250, help="checkpoint interval")
    p.add_argument("--data", default=DATA)
    p.add_argument("--run", help="run folder (default runs/progan_<preset>)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                   help="Keras dtype policy (mixed_bfloat16: ~2x faster on a CPU with AMX; weights stay float32)")
    distribute.add_arguments(p)
    a = p.parse_args(argv)
    setup = distribute.from_args(a)  # --distribute: build and compile in setup.scope()
    by_size = {c.config["resolution"]: name for name, c in progan.CONFIGS.items()}
    if a.size is not None and a.preset not in (None, by_size[a.size]):
        p.error(f"--size {a.size} is preset {by_size[a.size]}, not {a.preset}")
    a.preset = a.preset or by_size.get(a.size)
    if a.preset is None:
        p.error("give --preset or --size")
    if a.hold_out < 0:
        p.error("--hold-out must be >= 0")
    keras.config.set_dtype_policy(a.precision)
    run = a.run or os.path.join("runs", f"progan_{a.preset}")
    run = setup.run_folder(run)  # the chief writes the run; other workers their own copy
    os.makedirs(run, exist_ok=True)
    settings = {"preset": a.preset, "augment": a.augment, "hold_out": a.hold_out, "data": os.path.abspath(a.data),
                "fade": a.fade, "stable": a.stable, "steps_per_epoch": a.steps_per_epoch, "seed": a.seed}
    if a.augment == "ada":
        settings.update(ada_target=a.ada_target, ada_speed=a.ada_speed)
    check_settings(run, settings)
    faces = training_faces(a.data, run, a.hold_out)
    keras.utils.set_random_seed(a.seed)
    preset = progan.CONFIGS[a.preset]
    res = preset.config["resolution"]
    with setup.scope():
        gan = progan.build(preset, seed=a.seed, augment=augmentation(a.augment, a.ada_target, a.ada_speed, a.seed))
        gan.compile()
    schedule = progan.Schedule(res, fade_images=a.fade, stable_images=a.stable, final_images=a.final,
                               batch_size={s: BATCH[s] for s in progan.sides(res)}, learning_rate=1e-3)
    ckpt = Checkpoint(run, log=True)
    start = ckpt.resume(gan)
    phases = schedule.phases(lambda b: a.steps_per_epoch)
    print(f"{a.preset}: epochs {start} -> {phases[-1].end_epoch} of {a.steps_per_epoch} steps; levels start at "
          f"epochs {[ph.first_epoch for ph in phases]}; run folder {run}", file=sys.stderr)

    def data(batch_size):
        return progan.dataset(faces, resolution=res, batch_size=batch_size, seed=a.seed + start)

    callbacks = [ckpt, Snapshots(run, "generator"), LevelGrid(run, gan.latent_dim)]
    gan.fit(data, schedule=schedule, steps_per_epoch=a.steps_per_epoch, initial_epoch=start, verbose=2,
            callbacks=callbacks)
    gan.sampling_generator().save_weights(os.path.join(run, "generator.weights.h5"))


if __name__ == "__main__":
    main()
