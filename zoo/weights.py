"""Presets: named, hash-verified weights for every app, one mechanism for all of them.

A preset is a :class:`Preset` (anchors: torchvision's ``Weights`` enums, KerasHub's ``*_presets.py`` +
``from_preset``, timm's ``pretrained=True``), declared once, next to its app, in ``zoo/apps/<app>/presets.py``::

    SRRESNET_X4 = Preset(
        name="srresnet_x4", app="srgan", default=True,
        file="srgan/srresnet_x4.weights.h5", sha256="...",   # path relative to a weights folder; checked first
        architecture=SRResNet, config={...},                   # the generator and its constructor's arguments
        trainer=SRGAN, discriminator=None, discriminator_config=None, companions={...},   # the recipe's parts
        input_size=(24, 24), trained_on="...", recipe="apps/srgan/train.py ...", metrics={...})
    register_presets(SRRESNET_X4, ...)

``weights/manifest.json`` lists what the files need: ``{"srgan/srresnet_x4": {"file", "sha256", "url",
"reference": {"file", "sha256", "backend"}}}``; tests/test_presets.py checks it against the declarations.
Presets that :func:`register` publishes under names no app declares (a recipe's own, in ``$ZOO_WEIGHTS``) are
full manifest entries instead, with ``architecture`` (``"zoo.<module>.<Class>"``; only classes of ``zoo.*`` are
ever built), ``config``, ``default``, ``trained_on``, ``recipe`` and ``metrics``.

The reference ``.npz`` holds a fixed input and the output the shipped weights give for it (numeric arrays
only; read with ``allow_pickle=False``), so tests can show that ``pretrained()`` reproduces the trained model.

Files are looked for, in order, in: ``$ZOO_WEIGHTS`` (a folder), the repository's ``weights/`` (source
checkouts and editable installs), the installed package data (``<sys.prefix>/share/zoo/weights``) and the
download cache (``$ZOO_CACHE``, default ``~/.cache/zoo``). Manifests found in the first three are merged, the
earlier folder winning for a preset named in both. A file found nowhere is downloaded into the cache when its
preset has a ``url`` (to a temporary file, hash-checked, then renamed into place).

Every ``pretrained()`` checks the file's sha256. A file that passed before is not read again while its size,
inode and modification/change times are those it had then (``verified.json`` in the download cache; see
:func:`verify`); a hash-verified preset file is loaded without the structure check that ``load_into`` makes of
any other file (it is the file registered for that architecture, and ``tests/test_presets.py`` loads each).

Usage::

    from zoo import weights
    weights.presets("dcgan")                       # ['mnist_cdcgan', 'mnist_dcgan'] (trained ones)
    weights.get("srgan", "esrgan_x4")              # a Preset; weights.declared("srgan"): all, trained or not
    model = weights.pretrained("dcgan")            # the default preset; model.preset says which
    x, y = weights.reference(model.preset)         # a fixed input and the output it should give
    weights.load_into(my_model, "my.weights.h5")   # all or nothing: a file of another architecture raises

Training recipes publish what they trained with ``register(...)``; for a declared name it writes the files'
manifest entry and warns with what to copy into the app's ``presets.py``.

Nothing here imports TensorFlow (Keras is imported inside the functions that build or load models), and no
file is ever read with pickle.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import importlib
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath

import numpy as np

from zoo.files import atomic_write, check_input

MANIFEST = "manifest.json"
WEIGHTS_SUFFIX = ".weights.h5"
REFERENCE_SUFFIX = ".reference.npz"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ARCHITECTURE = re.compile(r"^zoo(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_CHUNK = 1 << 20
# Top-level groups of a Keras weights file that are not the network's own weights (a compiled model's
# ``save_weights`` adds its optimizer's slots).
_IGNORED_GROUPS = ("optimizer",)


class HashMismatchError(ValueError):
    """A file's sha256 is not the one its preset lists."""

    def __init__(self, path, expected, actual):
        self.path, self.expected, self.actual = str(path), expected, actual
        super().__init__(
            f"sha256 mismatch for {path}: expected {expected}, got {actual}. The file is corrupt or is not the "
            f"one the manifest lists: delete it (a cached copy is downloaded again) or register it again.")


class PresetNotFoundError(KeyError):
    """An app or preset name the manifests do not list (a ``KeyError`` with a readable message)."""

    def __str__(self):
        return str(self.args[0])


@dataclasses.dataclass(frozen=True)
class Preset:
    """One preset: a named architecture of an app and, once trained, its weights file and measured numbers.

    Each shipped preset is declared once, in ``zoo/apps/<app>/presets.py`` (passed to
    :func:`register_presets`); ``weights/manifest.json`` only lists its files (``file``, ``sha256``, ``url``,
    ``reference``), and tests/test_presets.py checks that the two agree. Presets published by
    :func:`register` for names no app declares live in a manifest alone (with ``architecture`` and ``config``).

    * ``architecture``: the generator's class (a Keras model class of ``zoo.*``) or its name
      ``"zoo.<module>.<Class>"``; ``config``: its constructor's keyword arguments (``generator_config``).
    * ``file``/``sha256``/``url``: the trained generator (relative to a weights folder); ``file=None`` for an
      architecture that has no trained weights yet (``build``/``train.py`` use it; ``pretrained`` refuses it).
    * ``trainer``, ``discriminator``, ``discriminator_config``: the recipe's trainer class and discriminator
      (what ``build``/``finetune`` construct); ``companions``: other networks' settings an app needs (SRGAN's
      ``{"content": VGGFeatures arguments}``).
    * ``input_size``: the ``(height, width)`` the network was trained on (None where it takes no image).
    * ``trained_on``, ``recipe``, ``metrics``: the data, the command and the measured numbers (model cards).
    * ``reference``: ``{"file", "sha256", "backend"}`` of the stored input/output pair (from the manifest).
    """

    name: str
    app: str
    file: str | None = None
    sha256: str | None = None
    url: str | None = None
    architecture: type | str | None = None
    config: dict = dataclasses.field(default_factory=dict)
    trained_on: str = ""
    metrics: dict = dataclasses.field(default_factory=dict)
    reference: dict | None = None
    default: bool = False
    recipe: str = ""
    trainer: type | None = None
    discriminator: type | None = None
    discriminator_config: dict | None = None
    companions: dict = dataclasses.field(default_factory=dict)
    input_size: tuple | None = None

    def __post_init__(self):
        if self.architecture is None:
            raise ValueError(f"preset {self.key} needs an architecture")
        if self.sha256:
            object.__setattr__(self, "sha256", self.sha256.lower())
        if (self.discriminator is None) != (self.discriminator_config is None):
            raise ValueError(f"preset {self.key}: give discriminator and discriminator_config together")

    @property
    def key(self):
        """``"<app>/<name>"``, the preset's key in the manifest."""
        return f"{self.app}/{self.name}"

    @property
    def trained(self):
        """Whether the preset has a weights file (else it is an architecture to train)."""
        return bool(self.file)

    @property
    def architecture_path(self):
        """``"zoo.<module>.<Class>"`` of the architecture (the import path a manifest writes)."""
        a = self.architecture
        return a if isinstance(a, str) else _class_path(a)

    @property
    def generator(self):
        """The generator's class (``architecture`` resolved)."""
        return architecture_class(self.architecture)

    @property
    def generator_config(self):
        """``config``, under the name GAN apps read it by."""
        return self.config

    def build_generator(self, **overrides):
        """A fresh generator of this preset's architecture (``config`` updated by ``overrides``)."""
        return self.generator(**copy.deepcopy({**self.config, **overrides}))

    def build_discriminator(self, **overrides):
        """A fresh discriminator of the recipe (``discriminator_config`` updated by ``overrides``); None when
        the recipe trains without one."""
        if self.discriminator is None:
            return None
        return self.discriminator(**copy.deepcopy({**self.discriminator_config, **overrides}))

    def file_entry(self):
        """What ``manifest.json`` holds for this declared preset: the files and how to verify them."""
        entry = {"file": self.file, "sha256": self.sha256, "url": self.url}
        if self.reference:
            entry["reference"] = dict(self.reference)
        return entry

    @classmethod
    def from_entry(cls, key, entry):
        """A preset from a full manifest entry (one :func:`register` wrote for a name no app declares)."""
        app, _, name = key.partition("/")
        missing = [k for k in ("file", "sha256", "architecture") if not entry.get(k)]
        if not name or missing:
            raise ValueError(f"manifest entry {key!r} is malformed: "
                             + (f"missing {missing}" if missing else "key must be '<app>/<name>'")
                             + ("" if not name or missing != ["architecture"] else
                                f" (and no app declares {key!r} in zoo/apps/{app}/presets.py)"))
        return cls(name=name, app=app, file=entry["file"], sha256=entry["sha256"].lower(), url=entry.get("url"),
                   architecture=entry["architecture"], config=dict(entry.get("config") or {}),
                   trained_on=entry.get("trained_on") or "", metrics=dict(entry.get("metrics") or {}),
                   reference=dict(entry["reference"]) if entry.get("reference") else None,
                   default=bool(entry.get("default", False)), recipe=entry.get("recipe") or "")


def _class_path(cls):
    """``"module.Class"`` of a class, naming the app package when it re-exports the class
    (``zoo.apps.dcgan.DCGANGenerator`` rather than ``zoo.apps.dcgan.networks.DCGANGenerator``), so manifests
    do not change when an app's files are reorganised."""
    module = cls.__module__
    parent = module.rpartition(".")[0]
    if parent.count(".") >= 1 and getattr(sys.modules.get(parent), cls.__qualname__, None) is cls:
        module = parent
    return f"{module}.{cls.__qualname__}"


# --------------------------------------------------------------------------------------------- declared presets

_DECLARED = {}       # "<app>/<name>" -> Preset, filled by register_presets (each app's presets.py)
_LOADED_APPS = set()


def register_presets(*presets_):
    """Declare presets (each app's ``presets.py`` calls this once at import). A key declared twice with other
    values raises ``ValueError``. Returns the presets."""
    for p in presets_:
        if not isinstance(p, Preset):
            raise TypeError(f"register_presets takes Preset objects, got {type(p).__name__}")
        for label, value in (("app", p.app), ("name", p.name)):
            if not _NAME.match(value):
                raise ValueError(f"{label} {value!r} must be letters, digits, '_', '.', '-'")
        if p.key in _DECLARED and _DECLARED[p.key] != p:
            raise ValueError(f"preset {p.key} is already declared with other values")
        _DECLARED[p.key] = p
    apps_ = {p.app for p in presets_}
    for app in apps_:
        if sum(p.default for p in _DECLARED.values() if p.app == app) > 1:
            raise ValueError(f"app {app!r} declares more than one default preset")
    return presets_


def _load_declarations(app=None):
    """Import ``zoo.apps.<app>.presets`` (every app's when ``app`` is None) so their presets are declared."""
    import pkgutil

    import zoo.apps

    names = [m.name for m in pkgutil.iter_modules(zoo.apps.__path__) if m.ispkg] if app is None else [app]
    for name in names:
        if name in _LOADED_APPS or not name.isidentifier():
            continue
        _LOADED_APPS.add(name)
        if importlib.util.find_spec(f"zoo.apps.{name}") is None:
            continue
        try:
            importlib.import_module(f"zoo.apps.{name}.presets")
        except ModuleNotFoundError as e:
            if e.name != f"zoo.apps.{name}.presets":
                raise


def declared(app=None):
    """The presets declared in code: ``{name: Preset}`` of ``app`` (trained or not), or ``{"<app>/<name>":
    Preset}`` of every app when None. Read-only use: the Preset objects are frozen."""
    _load_declarations(app)
    if app is None:
        return dict(sorted(_DECLARED.items()))
    return {p.name: p for k, p in sorted(_DECLARED.items()) if p.app == app}


# --------------------------------------------------------------------------------------------- where files are

def _repo_weights():
    """``weights/`` of the source checkout this package runs from (editable installs), else None."""
    root = Path(__file__).resolve().parents[1]
    return root / "weights" if (root / "setup.cfg").is_file() else None


def _installed_weights():
    return Path(sys.prefix) / "share" / "zoo" / "weights"


def cache_dir():
    """Where downloads go: ``$ZOO_CACHE``, else ``~/.cache/zoo``."""
    env = os.environ.get("ZOO_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "zoo"


def _places():
    """``(label, folder or None)`` for every place searched, in order; None marks an unset/absent one."""
    env = os.environ.get("ZOO_WEIGHTS")
    return [("$ZOO_WEIGHTS", Path(env).expanduser() if env else None),
            ("repository weights/", _repo_weights()),
            ("installed package data", _installed_weights()),
            ("download cache ($ZOO_CACHE or ~/.cache/zoo)", cache_dir())]


def search_dirs():
    """The folders searched for weight files, in order (the cache last)."""
    return [p for _, p in _places() if p is not None]


def _describe_places():
    return "\n".join(f"  - {label}: {path if path is not None else '(not set)'}" for label, path in _places())


# --------------------------------------------------------------------------------------------- the manifest

def _read_manifest(path):
    path = Path(path)
    if not path.is_file():
        return {"presets": {}}
    try:
        data = json.loads(path.read_text())
    except ValueError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("presets", {}), dict):
        raise ValueError(f"{path} must hold an object with a 'presets' object")
    data.setdefault("presets", {})
    return data


def manifest(root=None):
    """The presets as ``{"presets": {"<app>/<name>": entry}}``.

    ``root`` given: that folder's ``manifest.json`` alone (an invalid one is an error). Otherwise the manifests
    of ``$ZOO_WEIGHTS``, the repository and the installed package data merged, the earlier folder winning for a
    key in several (and for the choice of an app's default); an invalid one among them is skipped with a warning
    naming it, and so is an invalid entry (not an object, a field of the wrong type; ``_app_presets`` also skips
    one that contradicts its app's declaration), so a broken ``$ZOO_WEIGHTS`` does not take the shipped presets
    down with it.
    """
    import warnings

    if root is not None:
        return _read_manifest(Path(root) / MANIFEST)
    merged, apps_with_default = {}, set()
    for _, folder in _places()[:3]:
        if folder is None:
            continue
        try:
            listed = _read_manifest(folder / MANIFEST)["presets"]
        except ValueError as e:
            warnings.warn(f"ignoring a manifest: {e}; the presets it lists are unavailable", stacklevel=2)
            continue
        found = set()
        for key, entry in listed.items():
            if key in merged:
                continue
            problem = _entry_problem(key, entry)
            if problem:
                _warn(f"ignoring preset {key!r} of {folder / MANIFEST}: {problem}")
                continue
            entry = dict(entry)
            app = key.partition("/")[0]
            if entry.get("default"):
                if app in apps_with_default:
                    entry["default"] = False
                else:
                    found.add(app)
            merged[key] = entry
        apps_with_default |= found
    return {"presets": dict(sorted(merged.items()))}


#: The types a manifest entry's fields may have (None is allowed for each).
_ENTRY_TYPES = {"file": str, "sha256": str, "url": str, "architecture": str, "config": dict, "metrics": dict,
                "reference": dict, "default": bool, "trained_on": str, "recipe": str}


def _warn(message):
    """A manifest problem, warned from here, so Python's default filter says each one once although every lookup
    reads the manifests again."""
    import warnings

    warnings.warn(message, stacklevel=1)


def _entry_problem(key, entry):
    """What is wrong with a manifest entry's shape (a string, a number where a name is due, ...), or None."""
    if not isinstance(key, str) or "/" not in key:
        return "keys are '<app>/<name>'"
    if not isinstance(entry, dict):
        return f"an entry is an object of file, sha256, ..., not {type(entry).__name__}"
    wrong = [k for k, t in _ENTRY_TYPES.items() if entry.get(k) is not None and not isinstance(entry[k], t)]
    if wrong:
        return f"{wrong[0]} must be a {_ENTRY_TYPES[wrong[0]].__name__}, got {entry[wrong[0]]!r}"
    return None


def _app_entries(app, presets_=None):
    presets_ = manifest()["presets"] if presets_ is None else presets_
    return {k.partition("/")[2]: v for k, v in presets_.items() if k.partition("/")[0] == app}


def _check_agrees(preset, entry, where="manifest"):
    """Raise ``ValueError`` if a manifest entry contradicts ``preset``'s declaration."""
    problems = [f"{k}: {where} {entry.get(k)!r} vs presets.py {getattr(preset, k)!r}"
                for k in ("file", "sha256") if entry.get(k) and entry.get(k) != getattr(preset, k)]
    if entry.get("config") is not None and _jsonable(entry["config"]) != _jsonable(preset.config):
        problems.append(f"config: {where} {entry['config']!r} vs presets.py {preset.config!r}")
    if problems:
        raise ValueError(f"preset {preset.key}: {where} and zoo/apps/{preset.app}/presets.py disagree ("
                         + "; ".join(problems) + "): update one of them")


def _app_presets(app, all_entries=None):
    """``{name: Preset}`` of ``app``, trained or not: the declared presets, with the ``reference`` (and ``url``)
    their manifest entries add, and the presets only a manifest knows (full entries written by
    :func:`register`). A full manifest entry for a declared name overrides the declaration (a file registered
    in ``$ZOO_WEIGHTS`` under a shipped name wins, as an earlier folder wins for any key); one marked default
    takes the default from the declared presets."""
    entries = _app_entries(app, all_entries)
    out = {}
    for name, p in declared(app).items():
        e = entries.get(name)
        if e is not None and not e.get("architecture"):
            try:
                _check_agrees(p, e)
                p = dataclasses.replace(p, url=p.url or e.get("url"),
                                        reference=dict(e["reference"]) if e.get("reference") else p.reference)
            except ValueError as err:  # the declaration stands
                _warn(f"ignoring a manifest entry: {err}")
                entries.pop(name)
        out[name] = p
    from_manifest = set()
    for name, e in entries.items():
        if e.get("architecture") or name not in out:
            try:
                out[name] = Preset.from_entry(f"{app}/{name}", e)
            except ValueError as err:
                _warn(f"ignoring a manifest entry: {err}")
                continue
            from_manifest.add(name)
    if any(out[n].default for n in from_manifest):
        out = {n: p if n in from_manifest or not p.default else dataclasses.replace(p, default=False)
               for n, p in out.items()}
    return dict(sorted(out.items()))


def _all_apps(all_entries=None):
    all_entries = manifest()["presets"] if all_entries is None else all_entries
    return sorted({k.partition("/")[0] for k in all_entries} | {p.app for p in declared().values()})


def apps():
    """Apps that have at least one trained preset."""
    all_entries = manifest()["presets"]
    return [a for a in _all_apps(all_entries) if any(p.trained for p in _app_presets(a, all_entries).values())]


def presets(app=None):
    """Names of ``app``'s trained presets (sorted); with no app, every such ``"<app>/<name>"`` key.
    (:func:`declared` also lists the architectures that have no weights yet.)"""
    all_entries = manifest()["presets"]
    if app is None:
        return [f"{a}/{n}" for a in _all_apps(all_entries)
                for n, p in _app_presets(a, all_entries).items() if p.trained]
    return [n for n, p in _app_presets(app, all_entries).items() if p.trained]


def get(app, name=None):
    """The :class:`Preset` ``name`` of ``app`` (trained or not); ``name=None`` gives the app's default preset.
    ``name`` may also be the full key ``"<app>/<name>"`` that ``zoo presets`` prints.

    Raises ``KeyError`` (:class:`PresetNotFoundError`) listing what is available.
    """
    if isinstance(name, str) and name.startswith(f"{app}/"):
        name = name[len(app) + 1:]
    all_entries = manifest()["presets"]
    entries = _app_presets(app, all_entries)
    if not entries:
        have = _all_apps(all_entries)
        raise PresetNotFoundError(f"no presets for app {app!r}; apps with presets: {have or 'none'} "
                                  f"(manifests searched:\n{_describe_places()})")
    if name is None:
        defaults = [n for n, p in entries.items() if p.default]
        trained = [n for n, p in entries.items() if p.trained]
        if len(defaults) == 1 or len(trained) == 1:
            name = defaults[0] if defaults else trained[0]
        else:
            raise PresetNotFoundError(f"app {app!r} has no single default preset; pass one of {sorted(entries)}")
    if name not in entries:
        raise PresetNotFoundError(f"unknown preset {name!r} for app {app!r}; available: {sorted(entries)}")
    return entries[name]


# --------------------------------------------------------------------------------------------- files and hashes

def sha256(path):
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path, expected):
    """Return ``path`` if its sha256 is ``expected``; raise :class:`HashMismatchError` otherwise.

    A file that verified before is not read again while its identity is unchanged: :func:`verified_hashes`
    (``verified.json`` in :func:`cache_dir`) keeps, per real path, the size, inode, modification and change
    times (ns) and the hash. Any write to the file changes them. Only files last written or touched over
    ``_SETTLED_S`` seconds before they were hashed are kept, so a write in the same clock tick as the hashing
    cannot go unseen (git's "racy clean" rule)."""
    if not expected:
        raise ValueError(f"no expected sha256 given for {path}")
    actual = _file_hash(path, expected.lower())
    if actual != expected.lower():
        raise HashMismatchError(path, expected.lower(), actual)
    return Path(path)


def _file_hash(path, expected):
    """``path``'s sha256: ``expected`` without reading the file when it verified against it before and has not
    changed since (see :func:`verify`), else hashed now (and remembered when it matches and has settled)."""
    real, stamp = os.path.realpath(path), _stamp(path)
    if verified_hashes().get(real) == [*stamp, expected]:
        return expected
    actual = sha256(path)
    if actual == expected and _stamp(path) == stamp and time.time() - max(stamp[2:]) / 1e9 > _SETTLED_S:
        _remember(real, [*stamp, actual])
    return actual


_SETTLED_S = 2.0
_VERIFIED = {}  # cache file -> {real path: [size, inode, mtime_ns, ctime_ns, sha256]}


def _stamp(path):
    st = os.stat(path)
    return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


def verified_hashes():
    """``{real path: [size, inode, mtime_ns, ctime_ns, sha256]}`` of the weight files verified on this machine
    (read once per process from ``cache_dir()/verified.json``; an unreadable cache is an empty one)."""
    cache = cache_dir() / "verified.json"
    if cache not in _VERIFIED:
        try:
            _VERIFIED[cache] = dict(json.loads(cache.read_text()))
        except (OSError, ValueError, TypeError):
            _VERIFIED[cache] = {}
    return _VERIFIED[cache]


def _remember(real, entry):
    known = verified_hashes()
    known[real] = entry
    try:  # a read-only home only costs the hashing next time
        atomic_write(cache_dir() / "verified.json", lambda tmp: tmp.write_text(json.dumps(known)))
    except OSError:
        pass


def _relative(relpath):
    rel = PurePosixPath(str(relpath).replace("\\", "/"))
    if rel.is_absolute() or not rel.parts or ".." in rel.parts:
        raise ValueError(f"weights paths are relative to a weights folder, without '..': got {relpath!r}")
    return rel


def find_file(relpath, sha256=None, url=None):
    """Path of ``relpath`` (relative to a weights folder) in the first folder of :func:`search_dirs` holding it.

    Not found anywhere and ``url`` given: downloaded into :func:`cache_dir` and checked against ``sha256``
    (required for downloads). A cached copy whose hash is wrong is downloaded again when there is a ``url``.
    Raises ``FileNotFoundError`` naming every place searched.
    """
    rel = _relative(relpath)
    places = _places()
    cache = places[-1][1]
    for _, folder in places:
        if folder is None:
            continue
        path = folder / rel
        if path.is_file():
            if folder == cache and url and sha256 and _file_hash(path, sha256.lower()) != sha256.lower():
                break  # stale or corrupt download: fetch it again
            return path
    if url:
        return download(url, cache / rel, sha256)
    raise FileNotFoundError(
        f"weights file {rel} not found, and its preset has no download url. Searched:\n{_describe_places()}\n"
        f"Put the file in one of these folders (e.g. set ZOO_WEIGHTS to a folder holding {rel}).")


def download(url, dest, expected_sha256):
    """Fetch ``url`` to ``dest`` via a temporary file in the same folder, renamed only once its hash checks out."""
    if not expected_sha256:
        raise ValueError(f"refusing to download {url} without an expected sha256")
    scheme = urllib.parse.urlparse(url).scheme
    if scheme not in ("https", "http", "file"):
        raise ValueError(f"unsupported url scheme {scheme!r} in {url}")
    def fetch(tmp):
        h = hashlib.sha256()
        with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
        if h.hexdigest() != expected_sha256.lower():
            raise HashMismatchError(url, expected_sha256.lower(), h.hexdigest())

    return atomic_write(dest, fetch)


# --------------------------------------------------------------------------------------------- building, loading

def architecture_class(architecture):
    """The class named by ``"zoo.<module>.<Class>"`` (or given); anything outside ``zoo.*`` is refused
    (``ValueError``)."""
    import keras

    if isinstance(architecture, type):
        cls = architecture
        if not (issubclass(cls, keras.Model) and (cls.__module__ == "zoo" or cls.__module__.startswith("zoo."))):
            raise ValueError(f"refusing architecture {cls!r}: not a Keras model class defined in zoo.*")
        return cls
    if not isinstance(architecture, str) or not _ARCHITECTURE.match(architecture):
        raise ValueError(f"refusing architecture {architecture!r}: presets may only name classes of zoo.* "
                         f"('zoo.<module>.<Class>')")
    module_name, _, class_name = architecture.rpartition(".")
    if class_name.startswith("_"):
        raise ValueError(f"refusing architecture {architecture!r}: private name")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f"architecture {architecture!r}: cannot import module {module_name!r} ({e})") from e
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, keras.Model)
            and (cls.__module__ == "zoo" or cls.__module__.startswith("zoo."))):
        raise ValueError(f"refusing architecture {architecture!r}: not a Keras model class defined in zoo.*")
    return cls


def architecture_name(model):
    """``"module.Class"`` of a model, as written in manifests."""
    return _class_path(type(model))


def build(preset):
    """A freshly initialised model of ``preset``'s architecture and config (no weights loaded)."""
    return preset.build_generator()


def _twin(model):
    """A new model of the same architecture as ``model``, not sharing its variables."""
    import keras

    from zoo.models import Network

    if isinstance(model, Network):
        return model.__class__.from_config(model.get_config())
    try:
        return keras.models.clone_model(model)
    except Exception as e:  # subclassed models without a functional structure
        raise TypeError(f"cannot make a twin of {type(model).__name__} to load into; load_into needs a zoo "
                        f"Network or a functional/sequential Keras model ({e})") from e


def _h5_shapes(path):
    """``{dataset path: shape}`` of a Keras ``.weights.h5`` file, without the optimizer's slots."""
    import h5py

    shapes = {}
    try:
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and name.partition("/")[0] not in _IGNORED_GROUPS:
                    shapes[name] = tuple(obj.shape)
            f.visititems(visit)
    except OSError as e:
        raise ValueError(f"{path} is not a readable HDF5 weights file ({e})") from e
    return shapes


def _describe(model):
    config = model.get_config() if hasattr(model, "_zoo_config") else {}
    config = {k: v for k, v in config.items() if k != "name"}
    return f"{type(model).__name__}({', '.join(f'{k}={v!r}' for k, v in config.items())})"


def _layer_shapes(shapes):
    """Group ``{".../vars/<i>": shape}`` into ``{layer path: (shape of var 0, shape of var 1, ...)}``."""
    layers = {}
    for name, shape in shapes.items():
        layer, _, index = name.rpartition("/vars/")
        layers.setdefault(layer or name, []).append((int(index) if index.isdigit() else 0, shape))
    return {k: tuple(shape for _, shape in sorted(v)) for k, v in layers.items()}


def _shapes_text(shapes):
    parts, i = [], 0
    while i < len(shapes):
        j = i
        while j < len(shapes) and shapes[j] == shapes[i]:
            j += 1
        parts.append(f"{j - i}x{shapes[i]}" if j - i > 1 else str(shapes[i]))
        i = j
    return ", ".join(parts)


def _check_structure(model, path, limit=8):
    """Raise ``ValueError`` naming the layers that differ if ``path`` is not a weights file of ``model``'s
    architecture (same layers, same variable shapes)."""
    with tempfile.TemporaryDirectory(prefix="zoo-weights-") as tmp:
        expected_file = Path(tmp) / f"expected{WEIGHTS_SUFFIX}"
        model.save_weights(expected_file)
        expected = _layer_shapes(_h5_shapes(expected_file))
    actual = _layer_shapes(_h5_shapes(path))
    missing = sorted(set(expected) - set(actual))
    unexpected = sorted(set(actual) - set(expected))
    shapes = [f"{k}: file {_shapes_text(actual[k])} vs model {_shapes_text(expected[k])}"
              for k in sorted(set(expected) & set(actual)) if expected[k] != actual[k]]
    if not (missing or unexpected or shapes):
        return

    def some(items):
        return "; ".join(items[:limit]) + (f"; ... ({len(items) - limit} more)" if len(items) > limit else "")

    problems = []
    if shapes:
        problems.append(f"{len(shapes)} layers with other shapes: {some(shapes)}")
    if missing:
        problems.append(f"{len(missing)} layers missing from the file: {some(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} layers in the file the model does not have: {some(unexpected)}")
    raise ValueError(f"weights file {path} does not match {_describe(model)} (saved from another architecture "
                     f"or config?); nothing was loaded. " + ". ".join(problems))


def _load_fresh(model, path, checked=False):
    """Check ``path`` against ``model``'s structure, then load it (``model`` is a throw-away if this fails).
    ``checked``: ``path`` is a preset's file whose hash was just verified (the file registered for this
    architecture; ``tests/test_presets.py`` loads every one), so the structure check is skipped."""
    import keras

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a weights file; give the .weights.h5 file inside it")
    if not path.exists():
        raise FileNotFoundError(f"weights file {path} does not exist")
    check_input(path)  # a FIFO or a device: refused, not read
    if not path.name.endswith(WEIGHTS_SUFFIX):
        raise ValueError(f"{path}: expected a Keras '{WEIGHTS_SUFFIX}' file")
    if not checked:
        _check_structure(model, path)
    try:
        model.load_weights(path)
    except Exception as e:
        raise ValueError(f"weights file {path} could not be loaded into {_describe(model)}: {e}") from e
    bad = [v.path for v in model.weights
           if keras.backend.is_float_dtype(v.dtype) and not np.isfinite(keras.ops.convert_to_numpy(v.value)).all()]
    if bad:
        raise ValueError(f"weights file {path} holds non-finite values (NaN or inf) in {len(bad)} variable(s), "
                         f"e.g. {bad[0]}: the run that wrote it diverged; nothing was loaded")
    return model


def load_into(model, path):
    """Load a ``.weights.h5`` file into ``model``, all or nothing; returns ``model``.

    The file is first loaded into a fresh twin of ``model`` (same class and config), so a file of another
    architecture raises ``ValueError`` naming the file and the layers/shapes that differ while ``model``
    keeps its weights. Only then are the weights copied over.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a .weights.h5 file name, got {path!r}")
    twin = _load_fresh(_twin(model), path)
    model.set_weights(twin.get_weights())
    return model


def pretrained(app, name=None):
    """The model of preset ``name`` of ``app`` (its default when None) with its verified weights loaded.

    The :class:`Preset` is attached as ``model.preset``.
    """
    preset = get(app, name)
    if not preset.trained:
        raise ValueError(f"preset {preset.key} is an architecture without trained weights yet; build it and train "
                         f"it (apps/{app}/train.py), or pick one of {presets(app)}")
    path = find_file(preset.file, preset.sha256, preset.url)
    verify(path, preset.sha256)
    model = _load_fresh(build(preset), path, checked=True)
    model.preset = preset
    return model


# --------------------------------------------------------------------------------------------- reference outputs

def _flat(value, key):
    if isinstance(value, (list, tuple)):
        return {f"{key}_{i}": _array(v, f"{key}_{i}") for i, v in enumerate(value)}
    if isinstance(value, dict):
        raise TypeError(f"{key}: pass a list of arrays rather than a dict")
    return {key: _array(value, key)}


def _array(value, key):
    import keras

    a = np.asarray(keras.ops.convert_to_numpy(value))
    if a.dtype.kind == "f":
        a = a.astype("float32")
    elif a.dtype.kind not in "iub":
        raise TypeError(f"{key}: reference arrays must be numeric, got dtype {a.dtype}")
    return a


def _unflat(arrays, key):
    if key in arrays:
        return arrays[key]
    items = sorted((int(k.rpartition("_")[2]), v) for k, v in arrays.items() if k.startswith(f"{key}_"))
    if not items:
        raise ValueError(f"reference file has no {key!r} arrays")
    return [v for _, v in items]


def reference(preset):
    """``(input, output)``: the fixed input stored with ``preset`` and the output its weights give for it.

    Each is an array, or a list of arrays for models with several inputs/outputs.
    """
    ref = preset.reference
    if not ref or not ref.get("file"):
        raise ValueError(f"preset {preset.key} has no reference input/output")
    path = find_file(ref["file"], ref.get("sha256"), ref.get("url"))
    if ref.get("sha256"):
        verify(path, ref["sha256"])
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return _unflat(arrays, "input"), _unflat(arrays, "output")


def _predict(model, inputs):
    import keras

    out = model(inputs, training=False)
    if isinstance(out, (list, tuple)):
        return [np.asarray(keras.ops.convert_to_numpy(o)) for o in out]
    return np.asarray(keras.ops.convert_to_numpy(out))


def _max_error(got, want):
    got = got if isinstance(got, list) else [got]
    want = want if isinstance(want, list) else [want]
    if len(got) != len(want) or any(g.shape != w.shape for g, w in zip(got, want)):
        return float("inf")
    return max(float(np.max(np.abs(g.astype("float64") - w.astype("float64")), initial=0.0))
               for g, w in zip(got, want))


def check_reference(model, preset=None, atol=1e-4):
    """Run ``model`` on its preset's reference input; return the largest absolute error against the stored
    output, raising ``ValueError`` when it exceeds ``atol``. ``preset`` defaults to ``model.preset``."""
    preset = preset or getattr(model, "preset", None)
    if preset is None:
        raise ValueError("pass the preset (model has no .preset)")
    x, y = reference(preset)
    err = _max_error(_predict(model, x), y)
    if not err <= atol:
        raise ValueError(f"{preset.key}: output differs from the stored reference by {err} (atol {atol})")
    return err


# --------------------------------------------------------------------------------------------- publishing

def _jsonable(value):
    """JSON round trip of a config or metrics dict (tuples become lists, NumPy scalars plain numbers)."""
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(f"{o!r} of type {type(o).__name__} is not JSON serialisable")
    return json.loads(json.dumps(value, default=default))


def _write_manifest(root, data):
    text = json.dumps(data, sort_keys=True, indent=2) + "\n"
    atomic_write(Path(root) / MANIFEST, lambda tmp: tmp.write_text(text))


def register(app, name, model, file_path=None, trained_on="", recipe="", metrics=None, reference_input=None,
             reference_output=None, default=False, url=None, root=None, atol=1e-4):
    """Publish ``model``'s weights as preset ``<app>/<name>``; used by training recipes. Returns the Preset.

    * ``file_path``: the ``.weights.h5`` the recipe saved from ``model`` (copied to
      ``<root>/<app>/<name>.weights.h5`` unless already there); None saves ``model``'s weights there.
    * ``reference_input``: a fixed input (array, or list of arrays). The weights file is loaded into a model
      rebuilt from the manifest entry alone (architecture + config), and that model's output for the input
      is stored next to the weights as ``<name>.reference.npz``; ``reference_output``, when given, must agree
      with it within ``atol`` (catching a file that is not ``model``'s).
    * ``root``: the weights folder whose ``manifest.json`` is updated: default ``$ZOO_WEIGHTS``, else the
      repository's ``weights/``. The manifest is rewritten atomically, keys sorted, indent 2.
    * ``default=True`` makes it the app's default (and unmarks the app's other presets in that manifest).
    """
    import keras

    for label, value in (("app", app), ("name", name)):
        if not isinstance(value, str) or not _NAME.match(value):
            raise ValueError(f"{label} {value!r} must be letters, digits, '_', '.', '-'")
    if reference_input is None:
        raise ValueError("register needs a reference_input (a fixed input the stored output is computed for)")
    if root is None:
        root = os.environ.get("ZOO_WEIGHTS") or _repo_weights()
        if root is None:
            raise ValueError("no weights folder to register into: pass root= or set ZOO_WEIGHTS")
    root = Path(root)

    architecture = architecture_name(model)
    architecture_class(architecture)  # refuse now what pretrained() would refuse later
    config = _jsonable({k: v for k, v in model.get_config().items() if k != "name"})
    # Refused before anything is written.
    declaration = declared(app).get(name)
    if declaration is not None and (architecture_class(declaration.architecture) is not type(model)
                                    or _jsonable(declaration.config) != config):
        raise ValueError(f"preset {app}/{name} is declared in zoo/apps/{app}/presets.py as "
                         f"{declaration.architecture_path}({declaration.config}); this model is {architecture}"
                         f"({config}): register it under another name")

    rel = f"{app}/{name}{WEIGHTS_SUFFIX}"
    dest = root / rel
    if file_path is None:
        clean = _twin(model)  # not compiled: the file holds the network's weights, no optimizer slots
        clean.set_weights(model.get_weights())
        atomic_write(dest, clean.save_weights, suffix=WEIGHTS_SUFFIX)
    else:
        src = Path(file_path)
        if not src.is_file():
            raise FileNotFoundError(f"weights file {src} does not exist")
        if not src.name.endswith(WEIGHTS_SUFFIX):
            raise ValueError(f"{src}: expected a Keras '{WEIGHTS_SUFFIX}' file")
        if not (dest.exists() and src.resolve() == dest.resolve()):
            atomic_write(dest, lambda tmp: shutil.copyfile(src, tmp), suffix=WEIGHTS_SUFFIX)

    entry = {"file": rel, "sha256": sha256(dest), "url": url, "architecture": architecture, "config": config,
             "default": bool(default), "trained_on": trained_on, "recipe": recipe,
             "metrics": _jsonable(dict(metrics or {}))}
    # What pretrained() will do: rebuild from the entry alone and load the file.
    rebuilt = _load_fresh(build(Preset.from_entry(f"{app}/{name}", entry)), dest)
    inputs = _flat(reference_input, "input")
    x = _unflat(inputs, "input")
    y = _predict(rebuilt, x)
    if reference_output is not None:
        err = _max_error(y, _unflat(_flat(reference_output, "output"), "output"))
        if not err <= atol:
            raise ValueError(f"reference_output differs by {err} from what {dest} gives for reference_input "
                             f"(atol {atol}): is the file model's weights?")
    arrays = {**inputs, **_flat(y, "output")}
    ref_rel = f"{app}/{name}{REFERENCE_SUFFIX}"

    def write_npz(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    atomic_write(root / ref_rel, write_npz)
    entry["reference"] = {"file": ref_rel, "sha256": sha256(root / ref_rel), "backend": keras.backend.backend()}

    data = manifest(root)
    key = f"{app}/{name}"
    if declaration is not None:
        return _register_declared(declaration, entry, data, root)
    if default:
        for k, other in data["presets"].items():
            if k.partition("/")[0] == app and k != key:
                other["default"] = False
    data["presets"][key] = entry
    _write_manifest(root, data)
    return Preset.from_entry(key, entry)


def _register_declared(declaration, entry, data, root):
    """``register`` for a name an app declares: the manifest gets the file facts only (``Preset.file_entry``);
    what differs from the declaration (new sha256, metrics, ...) is printed as a warning to copy into
    ``zoo/apps/<app>/presets.py`` (the presets/manifest agreement test fails until it is)."""
    import warnings

    new = dataclasses.replace(declaration, file=entry["file"], sha256=entry["sha256"], url=entry["url"],
                              reference=entry["reference"], default=entry["default"] or declaration.default,
                              trained_on=entry["trained_on"] or declaration.trained_on,
                              recipe=entry["recipe"] or declaration.recipe,
                              metrics=entry["metrics"] or declaration.metrics)
    data["presets"][declaration.key] = new.file_entry()
    _write_manifest(root, data)
    changed = {f: getattr(new, f) for f in ("file", "sha256", "url", "default", "trained_on", "recipe", "metrics")
               if getattr(new, f) != getattr(declaration, f)}
    if changed:
        warnings.warn(f"registered {declaration.key}: update its Preset in zoo/apps/{declaration.app}/presets.py "
                      f"with {changed!r}", stacklevel=3)
    return new
