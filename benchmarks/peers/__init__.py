"""Peers of zoo's benchmarks: the same computation written in another framework, timed in the same process,
alternated with zoo's (``benchmarks/<app>.py --peer``; ``benchmarks/compare.py`` runs them all).

Each peer module imports its framework itself (only when a peer is asked for) and defines:

* ``NAME``: what the peer is, for the rows (e.g. ``"pytorch reference design"``);
* ``torch``: the framework module (the harness sets its CPU threads and looks for a GPU through it);
* ``make(task, args, batch, device) -> Call | None``: the peer's version of zoo's row ``task`` (``"train"``,
  ``"infer"`` or an app's own task) at batch size ``batch``, for the benchmark's parsed ``args`` (its
  architecture flags), on ``device`` (``"cpu"`` or ``"cuda"``); ``None`` when the peer has no such row.
"""
import collections

#: ``fn()`` runs one call of the peer (one training iteration, one inference batch; the harness waits for a GPU to
#: finish it); ``params``: ``{"generator": n, "discriminator": n, ...}``, the trainable parameter counts of
#: the networks the call runs, which the harness checks against zoo's before timing anything.
Call = collections.namedtuple("Call", "fn params")
