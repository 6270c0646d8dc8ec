"""Training callbacks: checkpoint + resume, generator snapshots, sample grids (PNG and TensorBoard images).

Scalars go to TensorBoard through Keras's own ``keras.callbacks.TensorBoard(logdir)``; ``SampleGrid`` writes its
images to the same ``logdir``. The EMA of the generator's weights is kept by the trainer itself
(``GAN(..., ema_decay=0.999)``) so it is updated inside the compiled step and checkpointed with everything else.
"""
import os
import warnings

import keras
import numpy as np



class Checkpoint(keras.callbacks.Callback):
    """Everything needed to continue a run: G, D, the EMA generator, both optimizers' state (including
    their step counters), the latent-noise state and the number of finished epochs.

    Saved every ``every`` epochs to ``directory/checkpoint.weights.h5`` through a temporary file and an atomic
    rename, so a run killed at any moment leaves the previous checkpoint intact. Restarting the same command
    continues where it stopped::

        ckpt = zoo.callbacks.Checkpoint("runs/digits")
        gan.fit(data, epochs=50, initial_epoch=ckpt.resume(gan), callbacks=[ckpt])

    An uninterrupted run and a killed-and-resumed run of the same seed reach the same weights, provided the
    data order of an epoch does not depend on what ran before it in the process (arrays with
    ``shuffle=False``, or a pipeline seeded per epoch).

    ``log=True`` also keeps the epochs' logs in ``directory/log.csv`` (one row per epoch, the epoch first),
    committed with the checkpoint: each row is written (atomically) just before its checkpoint, and ``resume``
    drops the rows of epochs the checkpoint does not hold, so a killed run neither loses nor repeats rows.
    """

    FILE = "checkpoint.weights.h5"
    LOG = "log.csv"

    def __init__(self, directory, every=1, log=False):
        super().__init__()
        self.directory = str(directory)
        self.every = int(every)
        self.log = bool(log)
        self.path = os.path.join(self.directory, self.FILE)
        self.log_path = os.path.join(self.directory, self.LOG)

    def resume(self, gan):
        """Load the newest checkpoint into ``gan`` (compiled) and return the epoch to start from (0 if none)."""
        if not os.path.exists(self.path):
            return 0
        import h5py

        advice = "move it away to start afresh"
        try:
            with h5py.File(self.path, "r") as f:
                epoch = int(f.attrs["zoo_epoch"])
                seeds = [f["zoo_seed_states"][str(i)][()] for i in range(len(f["zoo_seed_states"]))]
        except OSError as e:
            raise ValueError(f"checkpoint {self.path} is unreadable (truncated or not HDF5: {e}); {advice}") from e
        except KeyError as e:
            raise ValueError(f"{self.path} is not a zoo checkpoint (no {e} record; a plain weights file?); "
                             f"{advice}") from e
        states = _seed_states(gan)
        if len(seeds) != len(states):
            raise ValueError(f"{self.path} holds {len(seeds)} random-generator states, the model has {len(states)}: "
                             "it was written by a different model")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                gan.load_weights(self.path)
        except Exception as e:
            raise ValueError(f"checkpoint {self.path} does not fit this model (written by another architecture or "
                             f"configuration?): {e}; {advice}") from e
        skipped = []
        for w in caught:  # Keras's skipped optimizer state is an error here; the rest warn as they were
            if "Skipping variable loading" in str(w.message):
                skipped.append(str(w.message).strip())
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if skipped:  # Keras only warns, and a resumed run would go on with fresh optimizer moments and step counter
            raise ValueError(f"checkpoint {self.path} does not fit this model's state: {skipped[0]} An optimizer "
                             "built another way (a learning-rate schedule where the run had a constant rate, or the "
                             "reverse) does not take the run's Adam moments and step counter: resume with the run's "
                             f"settings, or start a new run from its weights; {advice}")
        if self.log:
            self._write_log([r for r in self._read_log() if int(r["epoch"]) < epoch])
        for v, value in zip(states, seeds):
            v.assign(value)
        return epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.log:
            row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
            self._write_log([r for r in self._read_log() if int(r["epoch"]) < epoch] + [row])
        if (epoch + 1) % self.every == 0:
            self.save(epoch + 1)

    def _read_log(self):
        import csv

        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path, newline="") as f:
            return list(csv.DictReader(f))

    def _write_log(self, rows):
        import csv

        from zoo.files import atomic_write

        names = list(dict.fromkeys(k for r in rows for k in r))

        def write(tmp):
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=names)
                w.writeheader()
                w.writerows(rows)

        atomic_write(self.log_path, write)

    def save(self, epochs_done):
        import h5py

        os.makedirs(self.directory, exist_ok=True)
        _remove_stale_temporaries(self.directory)
        tmp = os.path.join(self.directory, f".tmp-{os.getpid()}.weights.h5")
        try:
            self.model.save_weights(tmp)
            with h5py.File(tmp, "a") as f:
                f.attrs["zoo_epoch"] = epochs_done
                group = f.create_group("zoo_seed_states")  # save_weights leaves out SeedGenerator states
                for i, v in enumerate(_seed_states(self.model)):
                    group[str(i)] = keras.ops.convert_to_numpy(v.value)
            os.replace(tmp, self.path)
        except BaseException:  # a full disk, an interrupt: the last checkpoint stays, the partial file goes
            if os.path.exists(tmp):
                os.remove(tmp)
            raise


def fit_steps(gan, data, steps, run=None, every=100, callbacks=None, verbose="auto"):
    """``gan.fit`` for ``steps`` steps on the endless ``data``; with ``run`` (a folder) the run is resumable:
    a checkpoint and its log row (``Checkpoint(run, log=True)``) every ``every`` steps (``steps`` is rounded up to
    a multiple of it), and calling again with the same folder continues where a killed run stopped (a finished
    run returns at once). Returns the ``History``."""
    import math

    from zoo.checks import positive_int

    from zoo.data import pipeline_error

    steps, every = positive_int(steps, "steps"), positive_int(every, "every")
    callbacks = list(callbacks or [])
    if run is None:
        plan = dict(epochs=1, steps_per_epoch=steps, callbacks=callbacks)
    else:
        every = min(every, steps)
        ckpt = Checkpoint(run, log=True)
        plan = dict(epochs=math.ceil(steps / every), initial_epoch=ckpt.resume(gan), steps_per_epoch=every,
                    callbacks=[ckpt] + callbacks)
    try:
        return gan.fit(data, verbose=verbose, **plan)
    except Exception as e:  # a data error raised inside tf.data comes back as TensorFlow's "Graph execution error"
        error = pipeline_error(e)
        if error is None:
            raise
        raise error from None


def _remove_stale_temporaries(directory):
    """Delete the half-written checkpoints (``.tmp-<pid>.weights.h5``) of processes that no longer run (killed
    while writing), so they do not keep the disk space a restart needs."""
    for name in os.listdir(directory):
        pid = name[len(".tmp-"):-len(".weights.h5")] if name.startswith(".tmp-") and name.endswith(".weights.h5") \
            else ""
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            os.remove(os.path.join(directory, name))
        except PermissionError:  # alive, someone else's
            pass


class FiniteLosses(keras.callbacks.Callback):
    """Stops training with ``FloatingPointError`` at the first step whose losses are not finite (a diverged run:
    too high a learning rate, broken data), naming the loss and the step, instead of training on to NaN weights.
    ``zoo.GAN.fit`` adds it to every run."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for name in ("d_loss", "g_loss"):
            if logs and name in logs and not np.isfinite(float(logs[name])):
                raise FloatingPointError(
                    f"{name} is {float(logs[name])} at step {batch + 1} of epoch {getattr(self, 'epoch', 0) + 1}: "
                    f"training diverged and was stopped (lower the learning rate, check the data for NaN/inf)")


class Snapshots(keras.callbacks.Callback):
    """The network a run ships (``gan.sampling_generator()``: the EMA copy when kept, both generators of a
    CycleGAN) after every epoch, as ``directory/<name>.step<N>.weights.h5`` with N the generator step, so runs
    can be compared, or an earlier point shipped, at equal steps."""

    def __init__(self, directory, name="generator"):
        super().__init__()
        self.directory, self.name = str(directory), name

    def on_epoch_end(self, epoch, logs=None):
        step = int(keras.ops.convert_to_numpy(self.model.g_optimizer.iterations))
        self.model.sampling_generator().save_weights(
            os.path.join(self.directory, f"{self.name}.step{step:06d}.weights.h5"))


def _seed_states(model):
    """The states of every random generator in the model (latent noise, dropout masks), in a fixed order."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


class SampleGrid(keras.callbacks.Callback):
    """Every ``every`` training steps, sample the same ``n`` latent vectors (and labels ``i % num_classes`` for
    class-conditional generators) and write a PNG grid ``directory/step_XXXXXXX.png``; with ``logdir`` also a
    TensorBoard image (TensorFlow backend). Uses the EMA generator when the GAN keeps one."""

    def __init__(self, directory, every=500, n=64, seed=0, logdir=None):
        super().__init__()
        self.directory, self.every, self.n, self.logdir = str(directory), int(every), int(n), logdir
        self.seed = seed
        self.step = 0
        self._writer = None

    def on_train_begin(self, logs=None):
        gen = self.model.generator
        rng = np.random.default_rng(self.seed)
        self.z = rng.standard_normal((self.n, gen.latent_dim)).astype("float32")
        classes = getattr(gen, "num_classes", None)
        self.labels = (np.arange(self.n) % classes).astype("int32") if classes else None
        self.step = int(keras.ops.convert_to_numpy(self.model.g_optimizer.iterations))

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            self.write(self.step)

    def write(self, step):
        from zoo import images

        gen = self.model.sampling_generator()
        inputs = self.z if self.labels is None else [self.z, self.labels]
        fake = keras.ops.convert_to_numpy(gen(inputs, training=False))
        grid = images.grid(fake)
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"step_{step:07d}.png")
        images.save_png(path, grid)
        if self.logdir and keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(self.logdir)
            with self._writer.as_default():
                tf.summary.image("samples", grid[None] if grid.ndim == 3 else grid[None, ..., None], step=step)
            self._writer.flush()
        return path
