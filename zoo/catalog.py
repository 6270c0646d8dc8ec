"""The presets as the ``zoo`` command shows them, without Keras: each app's preset names (declared, trained,
default) and the ``zoo presets`` table, read from ``zoo/presets_index.json``.

The declarations live in ``zoo/apps/<app>/presets.py``, which import the networks and so Keras and TensorFlow
(seconds of start-up); the index is a snapshot of what they and the manifests give. Each app's entry carries a
fingerprint of its sources (its ``presets.py`` and its entries in the manifests ``zoo.weights.manifest`` merges),
the table one of all of them. While an entry's fingerprint matches, ``zoo <app> <verb> --help``, argument errors
and ``zoo presets`` read the index; where it does not (a preset edited, ``$ZOO_WEIGHTS`` with presets of its own)
that answer is computed from the declarations, as before, only slower. After changing a ``presets.py`` or
``weights/manifest.json``::

    python -m zoo.catalog          # rewrites zoo/presets_index.json (tests/test_cli_fast.py checks it is fresh)
"""
import hashlib
import json
import os
import sys
from pathlib import Path

INDEX = Path(__file__).resolve().with_name("presets_index.json")


def _app_dirs():
    import zoo.apps

    root = Path(zoo.apps.__path__[0])
    return sorted(p for p in root.iterdir() if (p / "__init__.py").is_file() and p.name.isidentifier())


def _manifests():
    """The ``presets`` objects of the manifests ``zoo.weights.manifest`` merges, in its order (unreadable: {})."""
    from zoo import weights

    out = []
    for _, folder in weights._places()[:3]:
        m = folder / weights.MANIFEST if folder is not None else None
        if m is not None and m.is_file():
            try:
                out.append(json.loads(m.read_text()).get("presets") or {})
            except (OSError, ValueError, AttributeError):
                out.append({"unreadable": str(m)})
    return out


def app_fingerprint(app, manifests=None):
    """sha256 of ``app``'s ``presets.py`` and its entries in the manifests."""
    import zoo.apps

    manifests = _manifests() if manifests is None else manifests
    h = hashlib.sha256()
    f = Path(zoo.apps.__path__[0]) / app / "presets.py"
    h.update(f.read_bytes() if f.is_file() else b"-")
    for presets in manifests:
        mine = {k: v for k, v in presets.items() if str(k).partition("/")[0] == app} if isinstance(presets, dict) \
            else presets
        h.update(b"\0" + json.dumps(mine, sort_keys=True, default=str).encode())
    return h.hexdigest()


def fingerprint(manifests=None):
    """sha256 over every app's fingerprint and every manifest (the ``zoo presets`` table's sources)."""
    manifests = _manifests() if manifests is None else manifests
    h = hashlib.sha256()
    for d in _app_dirs():
        h.update(d.name.encode() + b"\0" + app_fingerprint(d.name, manifests).encode())
    h.update(json.dumps(manifests, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _app_entry(app, manifests=None):
    from zoo import weights

    declared = weights.declared(app)
    trained = weights.presets(app)
    if not declared and not trained:
        return None
    return {"declared": sorted(declared), "trained": list(trained),
            "default": weights.get(app).name if trained else None,
            "fingerprint": app_fingerprint(app, manifests)}


def build():
    """The index computed from the declarations and manifests (imports every app's presets, hence Keras)."""
    manifests = _manifests()
    apps = {}
    for d in _app_dirs():
        entry = _app_entry(d.name, manifests)
        if entry is not None:
            apps[d.name] = entry
    return {"fingerprint": fingerprint(manifests), "apps": apps, "table": _table()}


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


def _stored():
    if "stored" not in _cache:
        stored = None
        if not os.environ.get("ZOO_NO_INDEX"):
            try:
                stored = json.loads(INDEX.read_text())
            except (OSError, ValueError):
                stored = None
        _cache["stored"] = stored if isinstance(stored, dict) else {}
    return _cache["stored"]


def names(app):
    """``(trained, declared)`` preset names of ``app`` (lists; empty for an app with no presets): from the index
    while the app's fingerprint matches, else from the declarations. Once the app's declarations are imported
    (Keras is loaded then) they are read live: presets declared at run time count too."""
    entry = (_stored().get("apps") or {}).get(app)
    live = f"zoo.apps.{app}.presets" in sys.modules
    if live or not isinstance(entry, dict) or entry.get("fingerprint") != app_fingerprint(app):
        if not live:
            from zoo.cli import _load_keras_quietly

            _load_keras_quietly()
        entry = _app_entry(app) or {}
    return list(entry.get("trained", [])), list(entry.get("declared", []))


def table():
    """Rows ``[key, "yes" if default, size, headline metrics]`` of every trained preset (``zoo presets``)."""
    stored = _stored()
    if stored.get("fingerprint") == fingerprint() and "table" in stored:
        return [list(r) for r in stored["table"]]
    from zoo.cli import _load_keras_quietly

    _load_keras_quietly()
    return _table()


def write(path=INDEX):
    """Rewrite the stored index from the declarations."""
    data = build()
    Path(path).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


if __name__ == "__main__":
    print(write())
