"""Training beyond one device: the setups zoo trains under, and the few rules that make them equal one device.

Setups (``setup(name, devices)``, or ``--distribute`` on every ``apps/<app>/train.py``):

* ``"mirrored"`` - TensorFlow's ``tf.distribute.MirroredStrategy`` over the devices of one host (its GPUs; on a
  host without GPUs, ``devices`` logical CPUs, which must be asked for before TensorFlow starts);
* ``"multiworker"`` - ``tf.distribute.MultiWorkerMirroredStrategy``: one process per host, the cluster and this
  process's place in it in the ``TF_CONFIG`` environment variable; every worker runs the same command;
* ``"jax"`` - Keras's ``keras.distribution.DataParallel`` on the JAX backend over the local devices (several
  processes: ``jax.distributed.initialize`` from the environment ``JAX_COORDINATOR_ADDRESS``,
  ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID``, gloo collectives between CPU devices; then Keras's trainer takes each
  process's own rows of every global batch: a ``tf.data`` pipeline it shards itself, arrays must be split by the
  caller with ``setup.distribution.auto_shard_dataset = False``);
* ``None`` / ``"none"`` - one device (a setup whose scope does nothing).

Keras distributes the TensorFlow and JAX backends only; PyTorch models train on one device (use
``torch.distributed`` / DDP on a model of your own for more).

Same weights as one device. ``fit()`` on a global batch ``B`` split over ``R`` replicas (``B`` must be a multiple
of ``R``, the last batch of an epoch included) gives the weights one device reaches on ``B`` when every random
draw and every statistic over the batch is the one device's:

* noise (latent codes, dropout masks, penalty interpolation weights, a VAE's samples, the image pool's swaps) is
  drawn for the global batch from the shared seed state and each replica takes its rows: ``normal``,
  ``uniform``, ``dropout`` here (the GAN core uses them; ``replicate_noise`` makes a network's Dropout layers do
  it);
* batch norm normalises with the statistics of the global batch: under a ``tf.distribute`` strategy with several
  replicas the core traces its step with Keras's synchronised batch norm (``BatchNormalization.synchronized``);
  on one device, and on JAX (whose DataParallel step already sees the global batch) nothing changes;
* what mixes examples of a batch (the image pool, minibatch stddev and discrimination) sees the global batch:
  ``on_global_batch`` (``all_gather``, differentiable, then ``replica_rows``);
* the loss of a replica is its mean over its rows divided by ``R`` (``zoo.backend.num_replicas``), so the summed
  gradients are the global batch's mean gradient;
* state the step assigns (EMA weights, the pool, seed states, ProGAN's alpha and image count) is computed from the
  same values on every replica, so it stays the same on every replica (the tests compare every replica's copy).

JAX's DataParallel runs one program on the global batch (sharded), so every draw there is already the global one.
"""
import contextlib
import json
import os

NAMES = ("mirrored", "multiworker", "jax")


# -- replicas ----------------------------------------------------------------------------------------------
def _replica_context():
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if not tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return None
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return None
    return ctx


def num_replicas():
    """Replicas of the running step that each see a slice of the global batch (``tf.distribute``); 1 elsewhere
    (one device, and JAX, whose distributed step is one program on the global batch)."""
    ctx = _replica_context()
    return 1 if ctx is None else int(ctx.num_replicas_in_sync)


def multiworker(model=None):
    """Whether ``model``'s ``tf.distribute`` strategy (the one it was built under; default: the current one) spans
    several processes (MultiWorkerMirroredStrategy)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    strategy = getattr(model, "_distribute_strategy", None) or tf.distribute.get_strategy()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def replica_id():
    """This replica's index in the global batch (0 outside a multi-replica step; may be a tensor)."""
    ctx = _replica_context()
    return 0 if ctx is None else ctx.replica_id_in_sync_group


def replica_rows(x, rows=None):
    """This replica's rows of a global-batch tensor ``x``: ``rows`` of them (default ``len(x) / replicas``) from
    ``replica_id() * rows``. ``x`` itself on one replica."""
    r = num_replicas()
    if r == 1:
        return x
    from keras import ops

    n = ops.shape(x)[0] // r if rows is None else rows
    start = replica_id() * n
    return x[start:start + n]


def all_gather(x):
    """The global batch of the per-replica tensors ``x`` (replica 0's rows first); ``x`` on one replica."""
    ctx = _replica_context()
    return x if ctx is None else ctx.all_gather(x, axis=0)


def on_global_batch(fn, x):
    """``fn`` (a function of a batch that mixes its examples: minibatch statistics, an image pool) applied as one
    device applies it: to the global batch gathered from the replicas (differentiably), this replica's rows of
    the result. ``fn(x)`` on one replica."""
    if num_replicas() == 1:
        return fn(x)
    from keras import ops

    return replica_rows(fn(all_gather(x)), ops.shape(x)[0])


def global_batch(n):
    """The global batch size of a step whose replica sees ``n`` examples (``n * replicas``)."""
    r = num_replicas()
    return n if r == 1 else n * r


def _global_shape(shape):
    shape = list(shape)
    shape[0] = global_batch(shape[0])
    return shape


# -- noise drawn as one device draws it ---------------------------------------------------------------------
def normal(shape, seed=None, dtype=None, mean=0.0, stddev=1.0):
    """``keras.random.normal(shape, ...)`` whose first axis is this replica's part of the batch: the draw one
    device makes for the global batch, this replica's rows of it."""
    import keras

    if num_replicas() == 1:
        return keras.random.normal(shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed)
    full = keras.random.normal(_global_shape(shape), mean=mean, stddev=stddev, dtype=dtype, seed=seed)
    return replica_rows(full, shape[0])


def uniform(shape, seed=None, dtype=None, minval=0.0, maxval=1.0):
    """``keras.random.uniform`` as ``normal``: one device's draw for the global batch, this replica's rows."""
    import keras

    if num_replicas() == 1:
        return keras.random.uniform(shape, minval=minval, maxval=maxval, dtype=dtype, seed=seed)
    full = keras.random.uniform(_global_shape(shape), minval=minval, maxval=maxval, dtype=dtype, seed=seed)
    return replica_rows(full, shape[0])


def dropout(x, rate, noise_shape=None, seed=None):
    """``keras.random.dropout`` with the mask one device draws for the global batch (this replica's rows)."""
    import keras
    from keras import ops

    if num_replicas() == 1:
        return keras.random.dropout(x, rate, noise_shape=noise_shape, seed=seed)
    shape = list(x.shape)
    if any(d is None for d in shape):
        dynamic = ops.shape(x)
        shape = [dynamic[i] if d is None else d for i, d in enumerate(shape)]
    if noise_shape is not None:
        shape = [s if d is None else d for s, d in zip(shape, noise_shape)]
    full = _global_shape(shape)
    mask = keras.random.dropout(ops.ones(full, x.dtype), rate, noise_shape=None, seed=seed)
    return x * replica_rows(mask, shape[0])


def _dropout_call(layer, original):
    def call(inputs, training=False):
        if training and layer.rate > 0 and num_replicas() > 1:
            return dropout(inputs, layer.rate, noise_shape=layer.noise_shape, seed=layer.seed_generator)
        return original(inputs, training=training)

    return call


def replicate_noise(network):
    """Make ``network``'s ``keras.layers.Dropout`` layers draw their masks as one device would for the global batch
    when they run in a step with several replicas (unchanged otherwise); returns ``network``."""
    import keras

    for layer in _layers(network):
        if type(layer) is keras.layers.Dropout and not getattr(layer, "_zoo_global_noise", False):
            original = layer.call
            layer.call = _dropout_call(layer, original)
            layer._zoo_global_noise = True
    return network


def batch_norms(networks):
    """Every ``BatchNormalization`` layer of the networks (the ones the core synchronises across replicas)."""
    import keras

    seen, out = set(), []
    for net in networks:
        for layer in _layers(net):
            if isinstance(layer, keras.layers.BatchNormalization) and id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
    return out


@contextlib.contextmanager
def synchronized_batch_norm(layers):
    """While the step is traced with several ``tf.distribute`` replicas: the ``layers`` (batch norms) use the
    statistics of the global batch (Keras's ``synchronized=True``, a sum over replicas); a no-op on one replica
    and on the other backends. Their configs are left as they were (a saved model loads on every backend)."""
    if num_replicas() == 1 or not layers:
        yield
        return
    before = [layer.synchronized for layer in layers]
    for layer in layers:
        layer.synchronized = True
    try:
        yield
    finally:
        for layer, value in zip(layers, before):
            layer.synchronized = value


def _layers(network):
    if hasattr(network, "_flatten_layers"):
        return list(network._flatten_layers(include_self=False, recursive=True))
    return []


# -- setups ------------------------------------------------------------------------------------------------
class Setup:
    """One way of training: ``scope()`` (build and compile the trainer inside it), ``replicas`` (devices that
    share a global batch), ``workers`` (processes), ``is_chief`` (the process that writes checkpoints and
    outputs), ``name``."""

    def __init__(self, name, strategy=None, distribution=None, replicas=1, workers=1, worker=0):
        self.name, self.strategy, self.distribution = name, strategy, distribution
        self.replicas, self.workers, self.worker = int(replicas), int(workers), int(worker)

    @property
    def is_chief(self):
        return self.worker == 0

    def scope(self):
        if self.strategy is not None:
            return self.strategy.scope()
        if self.distribution is not None:
            return self.distribution.scope()
        return contextlib.nullcontext()

    def run_folder(self, folder):
        """Where this process writes a run: ``folder`` on the chief; on another worker a folder of its own inside
        it (``folder/.worker<i>``: every worker saves, only the chief's files are the run's), into which the chief's
        checkpoints (``checkpoint.weights.h5`` and ``log.csv``, in ``folder`` and its sub-folders) are copied first,
        so a restarted worker resumes from the chief's state (a shared file system; without one, each worker resumes
        from its own copy, which holds the same weights)."""
        if self.is_chief or folder is None:
            return folder
        import shutil

        mine = os.path.join(str(folder), f".worker{self.worker}")
        for root, dirs, files in os.walk(str(folder)):
            dirs[:] = [d for d in dirs if not d.startswith(".worker")]
            for name in files:
                if name in ("checkpoint.weights.h5", "log.csv"):
                    target = os.path.join(mine, os.path.relpath(root, str(folder)))
                    os.makedirs(target, exist_ok=True)
                    shutil.copyfile(os.path.join(root, name), os.path.join(target, name))
        os.makedirs(mine, exist_ok=True)
        return mine

    def __repr__(self):
        return (f"Setup({self.name!r}, replicas={self.replicas}, workers={self.workers}, "
                f"worker={self.worker})")


def logical_cpus(n):
    """Split the host's CPU into ``n`` logical devices for TensorFlow (tests and CPU-only hosts); must run before
    TensorFlow initialises its devices. For JAX set ``XLA_FLAGS=--xla_force_host_platform_device_count=N``
    before JAX is imported (``jax_host_devices``)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    if len(tf.config.get_logical_device_configuration(cpu) or []) != n:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)


def jax_host_devices(n):
    """Ask XLA for ``n`` host (CPU) devices: only effective before JAX is imported."""
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f]
    os.environ["XLA_FLAGS"] = " ".join(flags + [f"--xla_force_host_platform_device_count={int(n)}"])


def setup(name=None, devices=None):
    """The ``Setup`` for ``name`` (``None``/``"none"``: one device, ``"mirrored"``, ``"multiworker"``, ``"jax"``).

    ``devices``: how many devices of this host to use (default: all its GPUs, or all its JAX devices). On a host
    without GPUs, ``"mirrored"``/``"multiworker"`` with ``devices=N > 1`` split the CPU into N logical devices (so
    call this before TensorFlow runs anything), ``"jax"`` asks XLA for N host devices (before JAX is imported).
    """
    if name in (None, "none", "one"):
        return Setup("none")
    if name not in NAMES:
        raise ValueError(f"distribute must be one of {NAMES} or None, got {name!r}")
    if name == "jax":
        return _jax(devices)
    return _tensorflow(name, devices)


def _tensorflow(name, devices):
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"--distribute {name} is tf.distribute: it needs KERAS_BACKEND=tensorflow (the backend is "
                           f"{keras.backend.backend()!r}; for JAX use --distribute jax; Keras does not distribute "
                           "the PyTorch backend)")
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")  # (physical devices: TensorFlow's runtime not started yet)
    if name == "multiworker":
        return _multiworker(gpus)
    if not gpus and devices and int(devices) > 1:
        logical_cpus(int(devices))
    kind = "GPU" if gpus else "CPU"
    local = [d.name for d in tf.config.list_logical_devices(kind)]
    if devices:
        if int(devices) > len(local):
            raise ValueError(f"{devices} devices asked for, this host has {len(local)} {kind}s")
        local = local[:int(devices)]
    strategy = tf.distribute.MirroredStrategy(local)
    return Setup(name, strategy=strategy, replicas=strategy.num_replicas_in_sync)


def _multiworker(gpus):
    """MultiWorkerMirroredStrategy from TF_CONFIG: created before TensorFlow runs anything (its collectives are
    configured at start-up); each worker's GPUs, or its CPU."""
    import tensorflow as tf

    name = "multiworker"
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    if not config.get("cluster"):
        raise RuntimeError("--distribute multiworker needs TF_CONFIG (the cluster's workers and this one's "
                           'index), e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                           '"task": {"type": "worker", "index": 0}}\'')
    workers = len(config["cluster"].get("worker", [])) + len(config["cluster"].get("chief", []))
    task = config.get("task", {})
    index = int(task.get("index", 0)) + (1 if task.get("type") == "worker" and "chief" in config["cluster"] else 0)
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.NCCL if gpus
        else tf.distribute.experimental.CommunicationImplementation.RING)
    # each worker's GPUs (all of them, as TensorFlow finds them), or one CPU per worker
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    return Setup(name, strategy=strategy, replicas=strategy.num_replicas_in_sync, workers=workers, worker=index)


def _jax(devices):
    import keras

    if keras.backend.backend() != "jax":
        raise RuntimeError(f"--distribute jax needs KERAS_BACKEND=jax (the backend is {keras.backend.backend()!r})")
    if os.environ.get("JAX_COORDINATOR_ADDRESS") and int(os.environ.get("JAX_NUM_PROCESSES", "1")) > 1:
        import jax

        if not _jax_initialized():
            try:  # CPU devices: collectives between processes over gloo (GPUs use NCCL regardless)
                jax.config.update("jax_cpu_collectives_implementation", "gloo")
            except Exception:  # noqa: BLE001 (a JAX without the option)
                pass
            jax.distributed.initialize(coordinator_address=os.environ["JAX_COORDINATOR_ADDRESS"],
                                       num_processes=int(os.environ["JAX_NUM_PROCESSES"]),
                                       process_id=int(os.environ.get("JAX_PROCESS_ID", "0")))
        workers, worker = jax.process_count(), jax.process_index()
    else:
        workers, worker = 1, 0
    found = keras.distribution.list_devices()
    if devices and not workers > 1:
        if int(devices) > len(found):
            raise ValueError(f"{devices} devices asked for, JAX sees {len(found)} (on a CPU host set XLA_FLAGS="
                             f"--xla_force_host_platform_device_count={devices} before JAX starts)")
        found = found[:int(devices)]
    distribution = keras.distribution.DataParallel(devices=found)
    keras.distribution.set_distribution(distribution)
    return Setup("jax", distribution=distribution, replicas=len(found), workers=workers, worker=worker)


def _jax_initialized():
    try:
        from jax._src import distributed

        return distributed.global_state.client is not None
    except Exception:  # private API moved: assume not
        return False


def get(distribution):
    """A ``Setup`` from what a ``finetune(distribution=...)`` takes: None (one device), a name of ``setup`` or a
    ``Setup``."""
    return distribution if isinstance(distribution, Setup) else setup(distribution)


def add_arguments(parser):
    """The ``--distribute`` and ``--devices`` options every training recipe takes."""
    parser.add_argument("--distribute", choices=("none",) + NAMES, default="none",
                        help="train on several devices or hosts: mirrored (tf.distribute, this host's devices), "
                             "multiworker (tf.distribute, hosts in TF_CONFIG), jax (keras.distribution."
                             "DataParallel; several hosts: JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, "
                             "JAX_PROCESS_ID). The batch size is the global batch (a multiple of the devices). "
                             "See the README's 'Training on several GPUs or hosts'")
    parser.add_argument("--devices", type=int, default=None,
                        help="devices of this host to use (default all; on a CPU-only host N logical CPUs)")
    return parser


def from_args(args):
    """The ``Setup`` the recipe's ``--distribute``/``--devices`` ask for (one device by default); call it before
    TensorFlow or JAX runs anything, and build and compile the trainer inside ``setup.scope()`` (``fit`` and
    everything else may run outside it)."""
    out = setup(getattr(args, "distribute", "none"), getattr(args, "devices", None))
    if out.name != "none":
        print(f"zoo: training on {out}", flush=True)
    return out
