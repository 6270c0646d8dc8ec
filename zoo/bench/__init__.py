"""The benchmark harness every ``benchmarks/<app>.py`` uses, one module per job:

* :mod:`zoo.bench.flops`: FLOP counting (:func:`count_flops`, :class:`FlopCount`, :class:`Counter`);
  needs only Keras and NumPy, usable on its own.
* :mod:`zoo.bench.timing`: :func:`time_calls`, :func:`synchronize`, :class:`Timing`.
* :mod:`zoo.bench.env`: backend, device and versions, peak TFLOP/s, peak memory, CPU threads.
* :mod:`zoo.bench.report`: the JSON rows (:data:`SCHEMA`), the printed table, the JSON lines file.
* :mod:`zoo.bench.harness`: the flags, :class:`Workload`, :class:`Task`, :func:`run`, :func:`main`.

A benchmark script supplies one function, ``build(args) -> Workload`` (a fresh GAN, the network to time for
inference, and synthetic in-memory batches), and calls :func:`main`. The harness sweeps precision and jit,
times for each training batch size one full adversarial iteration (``gan.train_on_batch``: k D steps and
one G step, the model's own compiled train function) and the inference network at batch 1 and at the large
batch sizes, and prints a table and appends JSON lines (one object per row).

What each number means:

* time: warm-up calls are excluded (they hold tracing / XLA / ``torch.compile`` compilation, reported as
  ``first_call_s``); every timed call is followed by a device synchronisation (``torch.cuda.synchronize``,
  ``jax.block_until_ready``, ``tf.experimental.sync_devices`` on a TF GPU, outputs converted to NumPy on a TF
  CPU), and the row reports the median and the 10th/90th percentiles of ``--repeats`` calls.
* images/s: batch size / median time; latency: median time of one call (at batch 1, of one image).
  Inference runs the network's own predict function (``predict_function`` on TensorFlow and PyTorch, a
  ``jax.jit`` of ``stateless_call`` on JAX); outputs stay on the device (no copy to the host is timed).
* FLOPs per image: counted analytically by :func:`count_flops` (which layers: :data:`COUNTED_LAYERS`);
  training FLOPs per image by the trainer's own ``iteration_flops(batch, count)`` (see
  :func:`zoo.bench.harness.workload_flops`). A multiply-add is 2 FLOPs. Achieved
  TFLOP/s = FLOPs/image x images/s, and its share of the device's dense peak for the precision
  (:data:`PEAK_TFLOPS`; on a CPU only with ``--device-peak-tflops``).
* peak memory: see :mod:`zoo.bench.env` (``memory_kind`` says which measure a row holds).

TensorFlow is imported only when the Keras backend is TensorFlow: with ``KERAS_BACKEND=torch`` or ``jax`` the
harness runs where TensorFlow is not installed.
"""
from zoo.bench.env import (PEAK_TFLOPS, environment, exec_mode, free_memory, known_device, peak_basis,  # noqa: F401
                           peak_memory, peak_tflops, reset_peak_memory, set_threads)
from zoo.bench.flops import COUNTED_LAYERS, COUNTED_SHORT, Counter, FlopCount, count_flops  # noqa: F401
from zoo.bench.harness import (DEFAULTS, JIT_CHOICES, PRECISIONS, TINY, Parser, Task, Workload,  # noqa: F401
                               exit_status, jit_settings, main, make_parser, parse_args, run, synthetic_images,
                               to_device, workload_flops)
from zoo.bench.report import SCHEMA, emit, fill_row, format_header, format_row, jit_label, row_base  # noqa: F401
from zoo.bench.timing import Timing, synchronize, time_calls  # noqa: F401
