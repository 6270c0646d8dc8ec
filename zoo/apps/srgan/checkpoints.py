"""PyTorch super-resolution checkpoints users already have, as zoo generators: ``srgan.from_checkpoint(path)``.

    model = srgan.from_checkpoint("RealESRGAN_x4plus.pth")    # an RRDBNet with upscale(), [-1, 1] like every zoo G
    model.upscale("photo.jpg", outscale=3.5)

Layouts read (the architecture, its size and the scale come from the state dict's key names and tensor shapes):

========================  ===============================================================  =====================
layout                    files                                                            zoo network
========================  ===============================================================  =====================
``basicsr_rrdbnet``       Real-ESRGAN RealESRGAN_x4plus, _x2plus (pixel-unshuffled input),  ``RRDBNet``
                          x4plus_anime_6B; BasicSR ESRGAN models (``conv_first``,
                          ``body.N.rdbM.convK``, ``conv_body``, ``conv_up1``, ...)
``esrgan_rrdbnet``        xinntao/ESRGAN's RRDB_ESRGAN_x4 / RRDB_PSNR_x4 as its current     ``RRDBNet``
                          ``RRDBNet_arch.py`` names them (``RRDB_trunk``, ``trunk_conv``,
                          ``upconv1``, ``HRconv``)
``esrgan_rrdbnet_old``    the same files as first released (``model.0``, ``model.1.sub.N.   ``RRDBNet``
                          RDBM.convK.0``, ``model.3``, ...)
``srvgg_compact``         Real-ESRGAN realesr-animevideov3, realesr-general-x4v3 (and       ``SRVGGNetCompact``
                          -wdn-): ``body.0`` ... ``body.K``
``leftthomas_srgan``      leftthomas/SRGAN generators (``block1`` ... ``block8``; the 2018  ``SRResNet``
                          trunk with PReLU and the later one with batch norm)
``lornatang_srresnet``    Lornatang/SRGAN-PyTorch SRResNet_x4 / SRGAN_x4 ``.pth.tar``        ``SRResNet``
                          (``state_dict``: ``conv1``, ``trunk.N.rcb``, ``conv2``,
                          ``upsampling.N.upsample_block``, ``conv3``; 2022-10 on)
========================  ===============================================================  =====================

The networks compute on [0, 1] images inside, as the originals do (``unit_range=True``): what goes in and
comes out is the zoo's [-1, 1], so ``upscale``, tiling, export and fine-tuning work as for any preset.
Convolution kernels are transposed from PyTorch's ``(out, in, kh, kw)`` to Keras's ``(kh, kw, in, out)``; the
channels of a convolution feeding a pixel shuffle (or fed by a pixel unshuffle) are permuted from PyTorch's order
to ``zoo.layers.PixelShuffle``'s; a convolution bias before batch norm is folded into the norm's moving mean;
one shared PReLU slope is repeated per channel. All of this is exact: outputs equal PyTorch's up to float
rounding (tests/test_srgan_checkpoints.py runs both).

Reading never executes pickled code. With PyTorch installed the file goes through ``torch.load(path,
weights_only=True)``; without it, through ``read_pth``: a restricted unpickler of PyTorch's zip format and of
its legacy (non-zip) format, which knows only ``collections.OrderedDict``, the tensor rebuild functions
(``torch._utils._rebuild_tensor_v2``, ``_rebuild_tensor``, ``_rebuild_parameter``) and the storage types, all
as NumPy stand-ins; any other global in the pickle is refused with ``UnsafeCheckpointError``.
"""
import io
import os
import pickle
import re
import struct
import zipfile
from collections import OrderedDict

import numpy as np

# ------------------------------------------------------------------------------------ reading .pth files


class UnsafeCheckpointError(pickle.UnpicklingError):
    """The file's pickle names something other than what a state dict is made of (refused, never run)."""


#: PyTorch storage classes -> NumPy dtypes (bfloat16 is read as uint16 and widened to float32).
STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16", "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name):
        self.name = name
        dtype = STORAGE_DTYPES[name]
        self.dtype = np.dtype(np.uint16) if dtype == "bfloat16" else np.dtype(dtype)
        self.bfloat16 = dtype == "bfloat16"


class _Storage:
    """A storage's bytes as a flat NumPy array (``data``), filled in when the bytes are read."""

    def __init__(self, storage_type, numel):
        self.type, self.numel, self.data = storage_type, int(numel), None


class _LazyTensor:
    """A tensor whose storage bytes may come after the pickle (legacy format): made an array at the end."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, int(offset), tuple(size), tuple(stride)

    def array(self):
        st = self.storage
        if st.data is None:
            raise ValueError("checkpoint is truncated: a tensor's data is missing")
        flat = st.data
        item = flat.dtype.itemsize
        need = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride)) + 1 if all(self.size) else 0
        if need > flat.size:
            raise ValueError(f"checkpoint is corrupt: a tensor of shape {self.size} reaches past its storage "
                             f"({need} > {flat.size} elements)")
        a = np.lib.stride_tricks.as_strided(flat[self.offset:], shape=self.size,
                                            strides=[s * item for s in self.stride]).copy()
        if st.type.bfloat16:
            a = (a.astype(np.uint32) << 16).view(np.float32)
        return a


def _rebuild_tensor(storage, storage_offset, size, stride, *_):
    if not isinstance(storage, _Storage):
        raise UnsafeCheckpointError("a tensor in the checkpoint is not built on a storage")
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, *_):
    return data


_ALLOWED = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only ``_ALLOWED`` globals and storage types, to stand-ins defined here; storages come from
    ``storage(key, storage_type, numel)``."""

    def __init__(self, file, storage):
        super().__init__(file, encoding="utf-8")
        self._storage = storage

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module in ("torch", "torch.storage", "torch.cuda") and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeCheckpointError(
            f"refusing to load {module}.{name}: a state dict holds only tensors and dicts, and this reader runs "
            f"no code from the file (allowed: collections.OrderedDict, torch._utils tensor rebuilds, storage "
            f"types). If you trust the file, load it with PyTorch and save its state dict alone")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] in ("storage", b"storage")):
            raise UnsafeCheckpointError(f"unexpected persistent id in the checkpoint: {pid!r:.80}")
        storage_type, key = pid[1], pid[2]
        if not isinstance(storage_type, _StorageType):
            raise UnsafeCheckpointError(f"unknown storage type in the checkpoint: {storage_type!r:.80}")
        numel = pid[4]
        view = pid[5] if len(pid) > 5 else None
        if view is not None:
            raise ValueError("checkpoint uses storage views (PyTorch < 0.4 format); re-save it with a newer PyTorch")
        return self._storage(str(key), storage_type, numel)


def _materialise(obj):
    if isinstance(obj, _LazyTensor):
        return obj.array()
    if isinstance(obj, dict):
        return OrderedDict((k, _materialise(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialise(v) for v in obj)
    return obj


def _read_zip(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pkl:
            raise ValueError(f"{path}: a zip file without data.pkl: not a PyTorch checkpoint")
        prefix = pkl[0][:-len("data.pkl")]
        order = "little"
        if prefix + "byteorder" in names:
            order = z.read(prefix + "byteorder").decode().strip()
        storages = {}

        def storage(key, storage_type, numel):
            if key not in storages:
                st = _Storage(storage_type, numel)
                try:
                    raw = z.read(f"{prefix}data/{key}")
                except KeyError:
                    raise ValueError(f"{path}: storage {key} is missing from the archive") from None
                dtype = st.type.dtype.newbyteorder("<" if order == "little" else ">")
                st.data = np.frombuffer(raw, dtype=dtype).astype(st.type.dtype.newbyteorder("="))
                storages[key] = st
            return storages[key]

        obj = _RestrictedUnpickler(io.BytesIO(z.read(pkl[0])), storage).load()
    return _materialise(obj)


#: The magic number of PyTorch's legacy (non-zip) format, its first pickle.
_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c


class _PlainUnpickler(pickle.Unpickler):
    """For the legacy format's header pickles (ints, a dict of sizes, a list of keys): no globals at all."""

    def find_class(self, module, name):
        raise UnsafeCheckpointError(f"refusing to load {module}.{name} from a checkpoint header")


def _read_legacy(path):
    with open(path, "rb") as f:
        try:
            magic = _PlainUnpickler(f).load()
        except (pickle.UnpicklingError, EOFError, ValueError) as e:
            if isinstance(e, UnsafeCheckpointError):
                raise
            raise ValueError(f"{path}: not a PyTorch checkpoint (neither a zip archive nor the legacy format: "
                             f"{e})") from None
        if magic != _LEGACY_MAGIC:
            raise ValueError(f"{path}: not a PyTorch checkpoint (no PyTorch magic number)")
        _PlainUnpickler(f).load()  # protocol version
        info = _PlainUnpickler(f).load()
        little = not isinstance(info, dict) or info.get("little_endian", True)
        storages = {}

        def storage(key, storage_type, numel):
            if key not in storages:
                storages[key] = _Storage(storage_type, numel)
            return storages[key]

        obj = _RestrictedUnpickler(f, storage).load()
        keys = _PlainUnpickler(f).load()
        for key in keys:
            st = storages.get(str(key))
            if st is None:
                raise ValueError(f"{path}: storage {key} is listed but no tensor uses it")
            (n,) = struct.unpack("<q" if little else ">q", f.read(8))
            raw = f.read(n * st.type.dtype.itemsize)
            if len(raw) != n * st.type.dtype.itemsize:
                raise ValueError(f"{path}: the file ends inside storage {key} (truncated download?)")
            st.data = np.frombuffer(raw, dtype=st.type.dtype.newbyteorder("<" if little else ">")).astype(
                st.type.dtype.newbyteorder("="))
    return _materialise(obj)


def read_pth(path):
    """A PyTorch ``.pth`` file's object (dicts of NumPy arrays) without PyTorch and without running any code from
    it: the zip format (PyTorch >= 1.6) or the legacy one. Globals other than those a state dict needs raise
    ``UnsafeCheckpointError``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if zipfile.is_zipfile(path):
        return _read_zip(path)
    return _read_legacy(path)


def _torch_load(path):
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise UnsafeCheckpointError(f"{path}: torch.load(weights_only=True) refused it: "
                                    f"{str(e).strip().splitlines()[0]}") from e

    def arrays(o):
        if isinstance(o, torch.Tensor):
            return o.detach().float().numpy() if o.dtype == torch.bfloat16 else o.detach().numpy()
        if isinstance(o, dict):
            return OrderedDict((k, arrays(v)) for k, v in o.items())
        if isinstance(o, (list, tuple)):
            return type(o)(arrays(v) for v in o)
        return o

    return arrays(obj)


def _torch_available():
    import importlib.util

    return importlib.util.find_spec("torch") is not None


#: Where training scripts put the generator's state dict, in the order looked at (Real-ESRGAN: params_ema first).
WRAPPER_KEYS = ("params_ema", "params", "state_dict", "model_state_dict", "generator", "netG", "model", "g")


def state_dict(path, use_torch=None):
    """The generator's ``{name: float32 NumPy array}`` of a ``.pth`` file: read with ``torch.load(...,
    weights_only=True)`` when PyTorch is installed (``use_torch=None``) or asked for (``True``), else
    ``read_pth``; the training wrapper taken off (``WRAPPER_KEYS``: Real-ESRGAN's ``params_ema`` before
    ``params``) and a ``module.`` (DataParallel) or ``_orig_mod.`` (torch.compile) prefix dropped."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if use_torch is None:
        use_torch = _torch_available()
    obj = _torch_load(path) if use_torch else read_pth(path)
    for _ in range(3):
        if not isinstance(obj, dict):
            raise ValueError(f"{path}: holds a {type(obj).__name__}, not a state dict")
        if obj and all(isinstance(v, np.ndarray) for v in obj.values()):
            break
        inner = next((obj[k] for k in WRAPPER_KEYS if isinstance(obj.get(k), dict)), None)
        if inner is None:
            raise ValueError(f"{path}: no state dict found: top-level keys {_listing(obj)}")
        obj = inner
    sd = OrderedDict()
    for k, v in obj.items():
        if isinstance(v, np.ndarray):
            for prefix in ("module.", "_orig_mod."):  # DataParallel, torch.compile
                k = k[len(prefix):] if k.startswith(prefix) else k
            sd[k] = v
    return sd


def _listing(keys, n=8):
    keys = list(keys)
    return ", ".join(map(str, keys[:n])) + (f", ... ({len(keys)} in all)" if len(keys) > n else "")


# ------------------------------------------------------------------------------------ layouts


class Layout:
    """What a state dict was recognised as: ``name`` (see the module docstring), the zoo ``architecture`` and
    ``config``, and ``convert(sd, network)`` which sets the network's weights."""

    def __init__(self, name, architecture, config, convert):
        self.name, self.architecture, self.config, self.convert = name, architecture, config, convert

    def __repr__(self):
        return f"Layout({self.name!r}, {self.architecture}, {self.config})"


def _indices(sd, pattern):
    return sorted({int(m.group(1)) for k in sd for m in [re.fullmatch(pattern, k)] if m})


def _conv(layer, weight, bias=None, in_perm=None, out_perm=None):
    """Set a Keras Conv2D from a PyTorch (out, in, kh, kw) weight and bias, optionally permuting channels."""
    w = np.asarray(weight, np.float32)
    if in_perm is not None:
        w = w[:, in_perm]
    if out_perm is not None:
        w = w[out_perm]
        bias = None if bias is None else np.asarray(bias)[out_perm]
    kernel = w.transpose(2, 3, 1, 0)
    values = [kernel] if bias is None else [kernel, np.asarray(bias, np.float32)]
    expected = [tuple(v.shape) for v in layer.weights]
    if [v.shape for v in values] != expected:
        raise ValueError(f"layer {layer.name}: the checkpoint gives shapes {[v.shape for v in values]}, the network "
                         f"has {expected}")
    layer.set_weights(values)


def _prelu(layer, slope):
    slope = np.asarray(slope, np.float32).reshape(-1)
    shape = tuple(layer.weights[0].shape)
    layer.set_weights([np.broadcast_to(slope, (shape[-1],)).reshape(shape).copy()])


def _batch_norm(layer, sd, prefix, conv_bias=None):
    mean = sd[prefix + "running_mean"] - (0 if conv_bias is None else conv_bias)  # a conv bias folded in
    layer.set_weights([np.asarray(a, np.float32) for a in
                       (sd[prefix + "weight"], sd[prefix + "bias"], mean, sd[prefix + "running_var"])])


def _shuffle_perm(channels, r):
    """Keras channel k = (i*r + j)*C + c takes PyTorch's channel c*r*r + i*r + j (pixel (un)shuffle orders)."""
    k = np.arange(channels * r * r)
    ij, c = np.divmod(k, channels)
    return c * r * r + ij


def _shape(sd, key):
    return tuple(sd[key].shape)


# -- RRDBNet (three key layouts, one converter) ------------------------------------------------------------


def _rrdb_layout(sd):
    """(name, {canonical: source key prefix}) for the RRDBNet layouts, or None."""
    if "conv_first.weight" in sd and "conv_body.weight" in sd:  # BasicSR / Real-ESRGAN
        blocks = _indices(sd, r"body\.(\d+)\.rdb1\.conv1\.weight")
        ups = _indices(sd, r"conv_up(\d+)\.weight")
        names = {"conv_first": "conv_first.", "trunk_conv": "conv_body.", "hr_conv": "conv_hr.",
                 "conv_last": "conv_last."}
        names.update({f"up{i}_conv": f"conv_up{u}." for i, u in enumerate(ups)})
        for b in blocks:
            for j in (1, 2, 3):
                for c in range(1, 6):
                    names[f"rrdb{b}_rdb{j}_conv{c}"] = f"body.{b}.rdb{j}.conv{c}."
        return "basicsr_rrdbnet", blocks, len(ups), names
    if "conv_first.weight" in sd and "trunk_conv.weight" in sd:  # xinntao/ESRGAN RRDBNet_arch.py
        blocks = _indices(sd, r"RRDB_trunk\.(\d+)\.RDB1\.conv1\.weight")
        ups = _indices(sd, r"upconv(\d+)\.weight")
        names = {"conv_first": "conv_first.", "trunk_conv": "trunk_conv.", "hr_conv": "HRconv.",
                 "conv_last": "conv_last."}
        names.update({f"up{i}_conv": f"upconv{u}." for i, u in enumerate(ups)})
        for b in blocks:
            for j in (1, 2, 3):
                for c in range(1, 6):
                    names[f"rrdb{b}_rdb{j}_conv{c}"] = f"RRDB_trunk.{b}.RDB{j}.conv{c}."
        return "esrgan_rrdbnet", blocks, len(ups), names
    if "model.0.weight" in sd and "model.1.sub.0.RDB1.conv1.0.weight" in sd:  # ESRGAN as first released
        blocks = _indices(sd, r"model\.1\.sub\.(\d+)\.RDB1\.conv1\.0\.weight")
        convs = [i for i in _indices(sd, r"model\.(\d+)\.weight") if i >= 2]
        if len(convs) < 3:
            return None
        names = {"conv_first": "model.0.", "trunk_conv": f"model.1.sub.{len(blocks)}.",
                 "hr_conv": f"model.{convs[-2]}.", "conv_last": f"model.{convs[-1]}."}
        names.update({f"up{i}_conv": f"model.{u}." for i, u in enumerate(convs[:-2])})
        for b in blocks:
            for j in (1, 2, 3):
                for c in range(1, 6):
                    names[f"rrdb{b}_rdb{j}_conv{c}"] = f"model.1.sub.{b}.RDB{j}.conv{c}.0."
        return "esrgan_rrdbnet_old", blocks, len(convs) - 2, names
    return None


def _detect_rrdb(sd):
    found = _rrdb_layout(sd)
    if found is None:
        return None
    name, blocks, stages, names = found
    if not blocks or blocks != list(range(len(blocks))) or stages < 1:
        raise ValueError(f"checkpoint looks like an RRDBNet ({name}) but has blocks {blocks} and {stages} "
                         f"upsampling convolutions")
    first = _shape(sd, names["conv_first"] + "weight")
    out_channels = _shape(sd, names["conv_last"] + "weight")[0]
    filters, in_channels = first[0], first[1]
    growth = _shape(sd, names["rrdb0_rdb1_conv1"] + "weight")[0]
    config = dict(blocks=len(blocks), filters=filters, growth=growth, channels=out_channels, unit_range=True)
    ratio = in_channels // out_channels
    if in_channels != ratio * out_channels or ratio not in (1, 4, 16):
        raise ValueError(f"RRDBNet checkpoint ({name}): conv_first takes {in_channels} channels, conv_last gives "
                         f"{out_channels}: not an image-to-image layout zoo knows")
    if ratio > 1:  # BasicSR's x2 / x1: pixel-unshuffled input, two x2 stages
        if stages != 2:
            raise ValueError(f"RRDBNet checkpoint ({name}) with an unshuffled input and {stages} upsampling stages")
        config.update(scale=4 // int(round(ratio ** 0.5)), unshuffle=True)
    else:
        config.update(scale=2 ** stages)

    def convert(sd, net):
        for canonical, prefix in names.items():
            perm = None
            if canonical == "conv_first" and ratio > 1:
                perm = _shuffle_perm(out_channels, int(round(ratio ** 0.5)))
            _conv(net.get_layer(canonical), sd[prefix + "weight"], sd[prefix + "bias"], in_perm=perm)

    return Layout(name, "RRDBNet", config, convert)


# -- SRVGGNetCompact ---------------------------------------------------------------------------------------


def _detect_srvgg(sd):
    if "body.0.weight" not in sd or any(not re.fullmatch(r"body\.\d+\.(weight|bias)", k) for k in sd):
        return None
    idx = _indices(sd, r"body\.(\d+)\.weight")
    convs = [i for i in idx if len(sd[f"body.{i}.weight"].shape) == 4]
    prelus = [i for i in idx if len(sd[f"body.{i}.weight"].shape) == 1]
    if len(convs) < 2:
        return None
    if prelus != [c + 1 for c in convs[:-1]]:
        raise ValueError("SRVGGNetCompact checkpoint without PReLU slopes after each convolution: its activation "
                         "(ReLU or LeakyReLU) cannot be read from the file; the released models use PReLU")
    filters, channels = _shape(sd, "body.0.weight")[:2]
    last = _shape(sd, f"body.{convs[-1]}.weight")[0]
    scale = int(round((last / channels) ** 0.5))
    if scale * scale * channels != last:
        raise ValueError(f"SRVGGNetCompact checkpoint: the last convolution gives {last} channels, not "
                         f"{channels} x scale^2")
    config = dict(scale=scale, filters=filters, convs=len(convs) - 2, channels=channels, activation="prelu",
                  unit_range=True)

    def convert(sd, net):
        for n, i in enumerate(convs):
            perm = _shuffle_perm(channels, scale) if n == len(convs) - 1 else None
            _conv(net.get_layer(f"conv{n}"), sd[f"body.{i}.weight"], sd[f"body.{i}.bias"], out_perm=perm)
            if n < len(convs) - 1:
                _prelu(net.get_layer(f"act{n}"), sd[f"body.{i + 1}.weight"])

    return Layout("srvgg_compact", "SRVGGNetCompact", config, convert)


# -- leftthomas/SRGAN --------------------------------------------------------------------------------------


def _detect_leftthomas(sd):
    if "block1.0.weight" not in sd:
        return None
    numbered = _indices(sd, r"block(\d+)\..*")
    residual = [b for b in numbered if f"block{b}.conv1.weight" in sd]
    last = numbered[-1]
    trunk = last - 1
    ups = _indices(sd, rf"block{last}\.(\d+)\.conv\.weight")
    tail = f"block{last}.{len(ups)}."
    if (residual != list(range(2, trunk)) or f"block{trunk}.0.weight" not in sd or tail + "weight" not in sd
            or not ups):
        return None
    trunk_bn = f"block{trunk}.1.running_mean" in sd
    filters, channels = _shape(sd, "block1.0.weight")[:2]
    config = dict(scale=2 ** len(ups), blocks=len(residual), filters=filters, channels=channels,
                  output_activation="tanh", trunk="batch_norm" if trunk_bn else "prelu", unit_range=True)

    def convert(sd, net):
        _conv(net.get_layer("head_conv"), sd["block1.0.weight"], sd["block1.0.bias"])
        _prelu(net.get_layer("head_prelu"), sd["block1.1.weight"])
        for i, b in enumerate(residual):
            block, p = net.get_layer(f"residual{i}"), f"block{b}."
            for n in (1, 2):  # conv biases folded into the batch norm that follows
                _conv(getattr(block, f"conv{n}"), sd[f"{p}conv{n}.weight"])
                _batch_norm(getattr(block, f"norm{n}"), sd, f"{p}bn{n}.", sd[f"{p}conv{n}.bias"])
            _prelu(block.act, sd[f"{p}prelu.weight"])
        p = f"block{trunk}."
        if trunk_bn:
            _conv(net.get_layer("trunk_conv"), sd[p + "0.weight"])
            _batch_norm(net.get_layer("trunk_norm"), sd, p + "1.", sd[p + "0.bias"])
        else:
            _conv(net.get_layer("trunk_conv"), sd[p + "0.weight"], sd[p + "0.bias"])
            _prelu(net.get_layer("trunk_prelu"), sd[p + "1.weight"])
        for i in ups:
            p = f"block{last}.{i}."
            _conv(net.get_layer(f"up{i}_conv"), sd[p + "conv.weight"], sd[p + "conv.bias"],
                  out_perm=_shuffle_perm(filters, 2))
            _prelu(net.get_layer(f"up{i}_prelu"), sd[p + "prelu.weight"])
        _conv(net.get_layer("tail_conv"), sd[tail + "weight"], sd[tail + "bias"])

    return Layout("leftthomas_srgan", "SRResNet", config, convert)


# -- Lornatang/SRGAN-PyTorch ------------------------------------------------------------------------------


def _detect_lornatang(sd):
    """Lornatang/SRGAN-PyTorch's ``SRResNet`` (the generator of its SRResNet and SRGAN files, 2022-10 on):
    ``conv1``, ``trunk.N.rcb``, ``conv2``, ``upsampling.N.upsample_block``, ``conv3``; output clamped to [0, 1]."""
    if "conv1.0.weight" not in sd or "conv3.weight" not in sd or "trunk.0.rcb.0.weight" not in sd:
        return None
    blocks = _indices(sd, r"trunk\.(\d+)\.rcb\.0\.weight")
    ups = _indices(sd, r"upsampling\.(\d+)\.upsample_block\.0\.weight")
    if blocks != list(range(len(blocks))) or ups != list(range(len(ups))) or not ups:
        return None
    filters, channels = _shape(sd, "conv1.0.weight")[:2]
    config = dict(scale=2 ** len(ups), blocks=len(blocks), filters=filters, channels=channels, unit_range=True)

    def convert(sd, net):
        _conv(net.get_layer("head_conv"), sd["conv1.0.weight"], sd["conv1.0.bias"])
        _prelu(net.get_layer("head_prelu"), sd["conv1.1.weight"])
        for i in blocks:
            block, p = net.get_layer(f"residual{i}"), f"trunk.{i}.rcb."
            _conv(block.conv1, sd[p + "0.weight"], None)
            _batch_norm(block.norm1, sd, p + "1.", sd.get(p + "0.bias"))
            _prelu(block.act, sd[p + "2.weight"])
            _conv(block.conv2, sd[p + "3.weight"], None)
            _batch_norm(block.norm2, sd, p + "4.", sd.get(p + "3.bias"))
        _conv(net.get_layer("trunk_conv"), sd["conv2.0.weight"])
        _batch_norm(net.get_layer("trunk_norm"), sd, "conv2.1.", sd.get("conv2.0.bias"))
        for i in ups:
            p = f"upsampling.{i}.upsample_block."
            _conv(net.get_layer(f"up{i}_conv"), sd[p + "0.weight"], sd[p + "0.bias"],
                  out_perm=_shuffle_perm(filters, 2))
            _prelu(net.get_layer(f"up{i}_prelu"), sd[p + "2.weight"])
        _conv(net.get_layer("tail_conv"), sd["conv3.weight"], sd["conv3.bias"])

    return Layout("lornatang_srresnet", "SRResNet", config, convert)


_DETECTORS = (_detect_rrdb, _detect_srvgg, _detect_leftthomas, _detect_lornatang)

KNOWN = ("Real-ESRGAN / BasicSR RRDBNet (RealESRGAN_x4plus, _x2plus, ESRGAN models: conv_first, body.N.rdbM...)",
         "xinntao/ESRGAN RRDB_ESRGAN_x4 / RRDB_PSNR_x4 (conv_first, RRDB_trunk..., or model.0, model.1.sub...)",
         "Real-ESRGAN SRVGGNetCompact (realesr-animevideov3, realesr-general-x4v3: body.0 ... body.K)",
         "leftthomas/SRGAN generators (block1 ... block8)",
         "Lornatang/SRGAN-PyTorch SRResNet / SRGAN generators (conv1, trunk.N.rcb, conv2, upsampling, conv3)")


def detect(sd):
    """The ``Layout`` of a state dict (``{name: array}``), read from its key names and shapes; ValueError listing
    what was found when it matches none of the known layouts."""
    for find in _DETECTORS:
        layout = find(sd)
        if layout is not None:
            return layout
    shapes = [f"{k} {tuple(v.shape)}" for k, v in list(sd.items())[:12]]
    raise ValueError(
        f"unrecognised super-resolution checkpoint: {len(sd)} tensors, starting with " + "; ".join(shapes)
        + (" ..." if len(sd) > 12 else "") + ". Known layouts: " + "; ".join(KNOWN) + ".")


def from_checkpoint(path, use_torch=None):
    """A zoo super-resolution generator holding the weights of a PyTorch ``.pth`` checkpoint (``Layout`` table
    in the module docstring): architecture, size and scale read from the file's keys and shapes. Inputs and
    outputs are the zoo's [-1, 1] like every generator; ``upscale`` takes images as people have them. ``use_torch``:
    read with PyTorch (``torch.load(weights_only=True)``; default when installed) or with ``read_pth`` (False)."""
    from zoo.apps.srgan import networks

    sd = state_dict(path, use_torch)
    layout = detect(sd)
    net = getattr(networks, layout.architecture)(**layout.config)
    layout.convert(sd, net)
    net.checkpoint_layout = layout.name
    return net
