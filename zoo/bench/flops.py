"""FLOP counting: forward FLOPs per example of a Keras model, counted layer by layer as it runs.

    from zoo.bench.flops import count_flops
    count_flops(model, input_shape=(1, 256, 256, 3)).total

Needs only Keras and NumPy (no TensorFlow on the torch and jax backends). A multiply-add is 2 FLOPs;
:data:`COUNTED_LAYERS` says which layers are counted. :class:`Counter` is the ``count(network, inputs)``
callable a trainer's ``iteration_flops(batch, count)`` gets (the trainer says what one iteration computes).
"""
import dataclasses
import math

import keras
import numpy as np

COUNTED_LAYERS = (
    "Dense, EinsumDense, Conv1D/2D/3D (grouped too), Conv1D/2D/3DTranspose, DepthwiseConv1D/2D, "
    "SeparableConv1D/2D, zoo.layers.EqualizedConv2D / EqualizedDense, zoo.layers.MinibatchDiscrimination "
    "(its projection x @ T only), and any layer with a "
    "flops(input_shape, output_shape) method; layers called inside another layer's call() (wrappers such as "
    "zoo.layers blocks) and inside nested models are counted where they run. Not counted: biases, "
    "normalization, activations, pooling, resizing, elementwise ops, embeddings, attention score products. "
    "A multiply-add is 2 FLOPs; a transposed convolution counts every input position x kernel."
)

COUNTED_SHORT = ("Dense, EinsumDense, Conv*D, Conv*DTranspose, DepthwiseConv*D, SeparableConv*D, "
                 "EqualizedConv2D/Dense, MinibatchDiscrimination (projection), layers with flops() and the "
                 "ones inside wrappers (ResidualBlock, UNetDown/Up, ...); multiply-add = 2 FLOPs")


@dataclasses.dataclass
class FlopCount:
    """FLOPs per example of one forward pass (``total``), per counted layer call (``layers``: (path, class
    name, FLOPs)), and the classes of weighted layers that ran but were not counted (``uncounted``)."""

    total: int
    layers: list
    uncounted: list

    def __int__(self):
        return int(self.total)


def _prod(shape):
    return int(math.prod(int(d) for d in shape))


def _shape(x):
    if isinstance(x, (list, tuple)):
        x = x[0]
    return tuple(int(d) for d in x.shape)


def _einsum_macs(layer, in_shape, out_shape):
    eq = layer.equation.replace(" ", "")
    inputs, out_spec = eq.split("->")
    _, k_spec = inputs.split(",")
    if "." in k_spec:
        raise ValueError(f"cannot count EinsumDense with an ellipsis in its kernel: {eq}")
    kshape = tuple(layer.kernel.shape)
    contracted = [kshape[i] for i, c in enumerate(k_spec) if c not in out_spec]
    return _prod(out_shape) * _prod(contracted)


def _layer_macs(layer, in_shape, out_shape):
    """Multiply-adds of one call of a built-in counted layer over the whole batch; None: not counted."""
    L = keras.layers
    if isinstance(layer, L.Dense):
        return _prod(out_shape) * int(layer.kernel.shape[0])
    if isinstance(layer, L.EinsumDense):
        return _einsum_macs(layer, in_shape, out_shape)
    if isinstance(layer, (L.SeparableConv1D, L.SeparableConv2D)):
        positions = _prod(out_shape) // int(layer.pointwise_kernel.shape[-1])
        return positions * (_prod(layer.depthwise_kernel.shape) + _prod(layer.pointwise_kernel.shape))
    if isinstance(layer, (L.DepthwiseConv1D, L.DepthwiseConv2D)):
        return _prod(out_shape) * _prod(layer.kernel.shape[:-2])
    if isinstance(layer, (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)):
        in_positions = _prod(in_shape) // int(layer.kernel.shape[-1])
        return in_positions * _prod(layer.kernel.shape)
    if isinstance(layer, (L.Conv1D, L.Conv2D, L.Conv3D)):
        positions = _prod(out_shape) // int(layer.kernel.shape[-1])
        return positions * _prod(layer.kernel.shape)
    eq_conv, eq_dense, mbd = _zoo_types()
    if eq_conv and isinstance(layer, eq_conv):
        positions = _prod(out_shape) // int(layer.kernel.shape[-1])
        return positions * _prod(layer.kernel.shape)
    if eq_dense and isinstance(layer, eq_dense):
        return _prod(out_shape) * int(layer.kernel.shape[0])
    if mbd and isinstance(layer, mbd):
        rows = _prod(in_shape) // int(layer.T.shape[0])
        return rows * _prod(layer.T.shape)
    return None


def _zoo_types():
    """zoo.layers classes that do their own convolution / matmul (not through a Keras sublayer)."""
    from zoo import layers as zl

    return tuple(getattr(zl, n, None) for n in ("EqualizedConv2D", "EqualizedDense", "MinibatchDiscrimination"))


def _counted_types():
    L = keras.layers
    return (L.Dense, L.EinsumDense, L.Conv1D, L.Conv2D, L.Conv3D, L.Conv1DTranspose, L.Conv2DTranspose,
            L.Conv3DTranspose, L.DepthwiseConv1D, L.DepthwiseConv2D, L.SeparableConv1D, L.SeparableConv2D,
            *(t for t in _zoo_types() if t is not None))


def _counts(layer):
    return callable(getattr(layer, "flops", None)) or isinstance(layer, _counted_types())


def count_flops(model, inputs=None, input_shape=None):
    """Forward-pass FLOPs per example of ``model``, counted layer by layer (see :data:`COUNTED_LAYERS`).

    The model is run once (inference mode) on ``inputs`` (default: zeros of batch 1 shaped like
    ``model.inputs``; pass arrays, or ``input_shape`` -- the concrete shape of a batch, e.g. ``(1, 96, 96, 3)``,
    or a list of them for several inputs -- when an input has unknown dimensions, as a fully convolutional
    model's ``(None, None, C)`` does) while every counted layer records
    the shapes it was called with, so layers nested in other layers or models are counted as they run and a
    layer called twice counts twice. Returns a :class:`FlopCount` (``int()`` of it is the total).
    """
    if inputs is None and input_shape is not None:
        shapes = input_shape if isinstance(input_shape[0], (list, tuple)) else [input_shape]
        dtypes = [getattr(t, "dtype", None) or "float32" for t in (getattr(model, "inputs", None) or [])]
        dtypes += ["float32"] * (len(shapes) - len(dtypes))
        inputs = [np.zeros(tuple(int(d) for d in sh), dtype=dt) for sh, dt in zip(shapes, dtypes)]
        inputs = inputs[0] if len(inputs) == 1 else inputs
    if inputs is None:
        specs = model.inputs
        inputs = []
        for t in specs:
            shape = tuple(t.shape[1:])
            if any(d is None for d in shape):
                raise ValueError(f"{model.name}: input {t.name} has unknown dimensions {t.shape}; pass inputs=")
            inputs.append(np.zeros((1,) + shape, dtype=t.dtype))
        inputs = inputs[0] if len(inputs) == 1 else inputs
    batch = _shape(inputs)[0]

    layers = [model] + list(model._flatten_layers(include_self=False, recursive=True))
    paths = {id(l): l.name for l in layers}
    records, uncounted, active = [], set(), [0]

    def wrap(layer, original):
        def call(*args, **kwargs):
            active[0] += 1
            try:
                out = original(*args, **kwargs)
            finally:
                active[0] -= 1
            if active[0] == 0:  # a counted layer's own sublayers are the layer's business
                x = args[0] if args else next(iter(kwargs.values()))
                in_shape, out_shape = _shape(x), _shape(out)
                hook = getattr(layer, "flops", None)
                if callable(hook):
                    flops = int(hook(in_shape, out_shape))
                else:
                    flops = 2 * int(_layer_macs(layer, in_shape, out_shape))
                records.append((paths[id(layer)], type(layer).__name__, flops))
            return out

        return call

    patched = []
    for layer in layers[1:]:
        if _counts(layer):
            object.__setattr__(layer, "call", wrap(layer, layer.call))
            patched.append(layer)
        elif layer.weights and not list(layer._flatten_layers(include_self=False, recursive=False)):
            uncounted.add(type(layer).__name__)
    try:
        model(inputs, training=False)
    finally:
        for layer in patched:
            object.__delattr__(layer, "call")
    total = sum(f for _, _, f in records)
    per_example = [(p, c, f // batch) for p, c, f in records]
    return FlopCount(total // batch, per_example, sorted(uncounted))


def _shapes(inputs):
    """The concrete shape of each of ``inputs`` (a tensor or array, or a list / tuple of them)."""
    items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    return [tuple(int(d) for d in np.shape(x)) for x in items]


class Counter:
    """Forward FLOPs of networks on concrete input shapes, by :func:`count_flops`, memoised per (network, shapes).

    ``counter(network, inputs) -> int`` is the ``count`` a trainer's ``iteration_flops(batch, count)`` gets:
    the forward FLOPs of ONE call of ``network`` on ``inputs`` (a tensor or array, or a list / tuple of them
    for a network of several inputs), for the whole batch the inputs hold (per-example FLOPs x their batch
    dimension; 0 for an empty batch). Only the inputs' shapes are read: the network is run once per new
    (network, shapes) on zeros of those shapes. :meth:`flop_count` gives the per-example :class:`FlopCount`
    itself; :attr:`uncounted` the classes of weighted layers not counted, over every network counted so far.
    """

    def __init__(self):
        self._counts = {}  # (id(network), shapes) -> (network, FlopCount); the network keeps its id alive

    def __call__(self, network, inputs):
        shapes = _shapes(inputs)
        batch = shapes[0][0] if shapes and shapes[0] else 1
        if batch == 0:
            return 0
        return self.flop_count(network, shapes).total * batch

    def flop_count(self, network, input_shape=None):
        """:func:`count_flops` of ``network`` on ``input_shape`` (a concrete shape or a list of them; None: the
        network's own declared inputs, at batch 1), memoised."""
        if input_shape is not None and not isinstance(input_shape[0], (list, tuple)):
            input_shape = [input_shape]
        key = (id(network), None if input_shape is None else tuple(tuple(int(d) for d in s) for s in input_shape))
        if key not in self._counts:
            self._counts[key] = (network, count_flops(network, input_shape=input_shape))
        return self._counts[key][1]

    @property
    def uncounted(self):
        return sorted({c for _, fc in self._counts.values() for c in fc.uncounted})
