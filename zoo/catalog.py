"""The presets as the ``zoo`` command shows them, without Keras: each app's preset names (declared, trained,
default) and the ``zoo presets`` table, read from ``zoo/presets_index.json``.

The declarations live in ``zoo/apps/<app>/presets.py``, which import the networks and so Keras and TensorFlow
(seconds of start-up); the index is a snapshot of what they and the manifests give, stamped with a fingerprint of
those files (every app's ``presets.py`` and the manifests ``zoo.weights.manifest`` merges, by content). While the
fingerprint matches, ``zoo --help``, ``zoo <app> <verb> --help``, argument errors and ``zoo presets`` read the
index; when it does not (a preset edited, ``$ZOO_WEIGHTS`` with its own manifest) the same answers are computed
from the declarations, as before, only slower. After changing a ``presets.py`` or ``weights/manifest.json``::

    python -m zoo.catalog          # rewrites zoo/presets_index.json (tests/test_cli_fast.py checks it is fresh)
"""
import hashlib
import json
import os
from pathlib import Path

INDEX = Path(__file__).resolve().with_name("presets_index.json")


def _app_dirs():
    import zoo.apps

    root = Path(zoo.apps.__path__[0])
    return sorted(p for p in root.iterdir() if (p / "__init__.py").is_file() and p.name.isidentifier())


def fingerprint():
    """sha256 over every app's ``presets.py`` and the manifests the presets come from (contents, in order)."""
    from zoo import weights

    h = hashlib.sha256()
    for d in _app_dirs():
        f = d / "presets.py"
        h.update(d.name.encode() + b"\0" + (f.read_bytes() if f.is_file() else b"-") + b"\0")
    for _, folder in weights._places()[:3]:  # the folders weights.manifest() merges
        m = folder / weights.MANIFEST if folder is not None else None
        if m is not None and m.is_file():
            h.update(m.read_bytes() + b"\0")
    return h.hexdigest()


def build():
    """The index computed from the declarations and manifests (imports every app's presets, hence Keras)."""
    from zoo import weights

    apps = {}
    for d in _app_dirs():
        declared = weights.declared(d.name)
        if not declared and d.name not in weights.apps():
            continue
        trained = weights.presets(d.name)
        default = weights.get(d.name).name if trained else None
        apps[d.name] = {"declared": sorted(declared), "trained": list(trained), "default": default}
    return {"fingerprint": fingerprint(), "apps": apps, "table": _table()}


def _table():
    from zoo import weights

    rows = []
    for key in weights.presets():
        p = weights.get(*key.split("/"))
        res = p.config.get("resolution") or p.config.get("train_size") or p.config.get("image_size")
        size = f"{res}x{res}" if res else ("x".join(map(str, p.input_size)) + " in" if p.input_size else "-")
        shown = [f"{k} {v}" for k, v in p.metrics.items() if isinstance(v, (int, float))][:3]
        rows.append([key, "yes" if p.default else "", size, ", ".join(shown)])
    return rows


_cache = {}


def index():
    """The index: the stored one while its fingerprint matches, else computed (``build``) and kept for the
    process."""
    if "index" not in _cache:
        stored = None
        if not os.environ.get("ZOO_NO_INDEX"):
            try:
                stored = json.loads(INDEX.read_text())
            except (OSError, ValueError):
                stored = None
        if stored is None or stored.get("fingerprint") != fingerprint():
            stored = build()
        _cache["index"] = stored
    return _cache["index"]


def names(app):
    """``(trained, declared)`` preset names of ``app`` (sorted lists; empty for an app with no presets). Once the
    app's declarations are imported (Keras is loaded then) they are read live: presets declared at run time
    count too."""
    import sys

    if f"zoo.apps.{app}.presets" in sys.modules:
        from zoo import weights

        return list(weights.presets(app)), sorted(weights.declared(app))
    entry = index()["apps"].get(app, {})
    return list(entry.get("trained", [])), list(entry.get("declared", []))


def table():
    """Rows ``[key, "yes" if default, size, headline metrics]`` of every trained preset (``zoo presets``)."""
    return [list(r) for r in index()["table"]]


def write(path=INDEX):
    """Rewrite the stored index from the declarations."""
    data = build()
    Path(path).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


if __name__ == "__main__":
    print(write())
