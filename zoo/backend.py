"""The few lines that differ per Keras backend.

Everything else in zoo is written with ``keras.ops`` and runs unchanged on TensorFlow, PyTorch and JAX.
What cannot be said in ``keras.ops`` is taking gradients, and that is all this module does, in three shapes
the trainer needs:

* ``gradients(loss_fn, variables)``: the loss and its gradients with respect to Keras variables (an optimizer
  step);
* ``value_and_grad(fn, x)``: the same with respect to tensors that ``fn`` takes as its argument (G's loss with
  respect to G's outputs, an unrolled discriminator's parameters, a penalty's input), optionally kept
  differentiable (``create_graph``);
* ``vjp(fn, variables)``: run ``fn`` now and get back a pullback that turns gradients with respect to its outputs
  into gradients with respect to the variables later (the generator's one forward per iteration, whose outputs
  feed the discriminator step before the generator step differentiates through them).

TensorFlow uses ``tf.GradientTape``, PyTorch ``torch.autograd.grad``. JAX is functional: Keras's JAX trainer
calls ``train_step(state, data) -> (logs, state)``; :func:`stateless_step` runs zoo's ordinary (stateful) step
inside a ``keras.StatelessScope`` holding every variable of that state, and each gradient function here runs its
function inside a child scope whose values for the differentiated variables are JAX tracers. Variable updates
made inside (batch-norm statistics, random-generator states, pools) flow back out to the enclosing scope, so the
same step code trains on all three backends.

One kernel is here for speed: :func:`instance_norm`, which each backend has fused (TensorFlow's fused batch
norm, PyTorch's group norm), 2-4x faster than the same arithmetic in ``keras.ops`` on CPU.
"""
import keras
from keras import tree

NAME = keras.backend.backend()


def _split(out):
    return out if isinstance(out, tuple) else (out, None)


def _targets(variables):
    return [v.value if isinstance(v, keras.Variable) else v for v in variables]


# -- JAX: state scopes ------------------------------------------------------------------------------------
class _Scope(keras.StatelessScope):
    """A stateless scope that remembers which variables were assigned inside it (to hand them outwards)."""

    def __init__(self, state_mapping=()):
        super().__init__(state_mapping=list(state_mapping), collect_losses=True)
        self.assigned = {}

    def add_update(self, update):
        self.assigned[id(update[0])] = update[0]
        super().add_update(update)


def _child(overrides=()):
    """A scope that sees what the current scope sees, with ``overrides`` (variable, value) on top."""
    from keras.src.backend.common.stateless_scope import get_stateless_scope

    parent = get_stateless_scope()
    child = _Scope()
    if parent is not None:
        child.state_mapping = dict(parent.state_mapping)
    for v, value in overrides:
        child.state_mapping[id(v)] = value
    return child


def _updates(scope):
    return [(v, scope.state_mapping[k]) for k, v in scope.assigned.items()]


def _apply_updates(updates):
    """Hand a child scope's variable updates to the current scope (or to the variables, outside any scope)."""
    for v, value in updates:
        v.assign(value)


def stateless_step(model, step, state, data):
    """Keras's JAX ``train_step(state, data)``: ``step(data)`` run statefully inside a scope holding ``state``
    (trainable, non-trainable, optimizer and metrics variables)."""
    t, nt, opt, m = _state_variables(model)
    return _in_state((t, nt, opt, m), step, state, data)


def stateless_eval(model, step, state, data):
    """Keras's JAX ``test_step(state, data)``: the state is (trainable, non-trainable, metrics) variables."""
    t, nt, _, m = _state_variables(model)
    return _in_state((t, nt, m), step, state, data)


def _in_state(groups, step, state, data):
    mapping = [(v, value) for vs, values in zip(groups, state) for v, value in zip(vs, values)]
    with _Scope(mapping) as scope:
        logs = step(data)
    return logs, tuple([scope.get_current_value(v) for v in vs] for vs in groups)


def _state_variables(model):
    return (model.trainable_variables, model.non_trainable_variables, model.optimizer.variables,
            model.metrics_variables)


# -- gradients --------------------------------------------------------------------------------------------
def gradients(loss_fn, variables):
    """Run ``loss_fn()`` and return ``(loss, aux, grads)``, the gradients of ``loss`` with respect to the Keras
    ``variables``. ``loss_fn`` returns ``loss`` or ``(loss, aux)``. Variables that do not affect the loss get
    zero gradients."""
    if NAME == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss, aux = _split(loss_fn())
        return loss, aux, tape.gradient(loss, _targets(variables), unconnected_gradients="zero")
    if NAME == "torch":
        import torch

        targets = _targets(variables)
        loss, aux = _split(loss_fn())
        return loss, aux, zip_none(torch.autograd.grad(loss, targets, allow_unused=True), targets)
    if NAME == "jax":
        import jax

        def f(values):
            with _child(zip(variables, values)) as scope:
                loss, aux = _split(loss_fn())
            return loss, (aux, _updates(scope))

        (loss, (aux, updates)), grads = jax.value_and_grad(f, has_aux=True)(_values(variables))
        _apply_updates(updates)
        return loss, aux, grads
    raise NotImplementedError(f"zoo has no gradients for the {NAME!r} backend")


def value_and_grad(fn, x, create_graph=False):
    """``(loss, aux, grads)`` of ``fn(x)`` (``loss`` or ``(loss, aux)``) with respect to the tensors ``x`` (a
    tensor or a structure of them; ``grads`` has its structure). ``create_graph=True`` keeps the gradients
    differentiable (penalties on them, unrolled optimisation)."""
    flat = tree.flatten(x)
    if NAME == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(flat)
            loss, aux = _split(fn(x))
        grads = tape.gradient(loss, flat, unconnected_gradients="zero")
        return loss, aux, tree.pack_sequence_as(x, grads)
    if NAME == "torch":
        import torch

        leaves = [t if (create_graph and t.requires_grad) else t.detach().requires_grad_(True) for t in flat]
        loss, aux = _split(fn(tree.pack_sequence_as(x, leaves)))
        grads = torch.autograd.grad(loss, leaves, create_graph=create_graph, retain_graph=create_graph or None,
                                    allow_unused=True)
        return loss, aux, tree.pack_sequence_as(x, zip_none(grads, leaves))
    if NAME == "jax":
        import jax

        def f(x):
            with _child() as scope:
                loss, aux = _split(fn(x))
            return loss, (aux, _updates(scope))

        (loss, (aux, updates)), grads = jax.value_and_grad(f, has_aux=True)(x)
        _apply_updates(updates)
        return loss, aux, grads
    raise NotImplementedError(f"zoo has no gradients for the {NAME!r} backend")


def vjp(fn, variables):
    """Run ``fn()`` (a structure of float tensors) now; return ``(out, pullback)`` where ``pullback(cotangents)``
    (cotangents: the structure of ``out``) gives the gradients with respect to ``variables``, later, after other
    work has run in between (the variables themselves must not change in between)."""
    targets = _targets(variables)
    if NAME == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            out = fn()

        def pullback(cotangents):
            return tape.gradient(tree.flatten(out), targets, output_gradients=tree.flatten(cotangents),
                                 unconnected_gradients="zero")

        return out, pullback
    if NAME == "torch":
        import torch

        out = fn()

        def pullback(cotangents):
            pairs = [(o, c) for o, c in zip(tree.flatten(out), tree.flatten(cotangents)) if o.requires_grad]
            if not pairs:
                return [torch.zeros_like(t) for t in targets]
            grads = torch.autograd.grad([o for o, _ in pairs], targets, grad_outputs=[c for _, c in pairs],
                                        allow_unused=True)
            return zip_none(grads, targets)

        return out, pullback
    if NAME == "jax":
        import jax

        def f(values):
            with _child(zip(variables, values)) as scope:
                out = fn()
            return out, _updates(scope)

        out, pull, updates = jax.vjp(f, _values(variables), has_aux=True)
        _apply_updates(updates)
        return out, lambda cotangents: pull(cotangents)[0]
    raise NotImplementedError(f"zoo has no gradients for the {NAME!r} backend")


def apply_gradients(optimizer, grads, variables):
    """``optimizer.apply(grads, variables)``; on JAX through ``stateless_apply`` (a loss-scale optimizer's
    stateful apply assigns inside ``lax.cond`` branches, which JAX cannot trace), its results assigned back."""
    if NAME != "jax":
        optimizer.apply(grads, variables)
        return
    new_values, new_state = optimizer.stateless_apply(_values(optimizer.variables), grads, _values(variables))
    for v, value in zip(variables, new_values):
        v.assign(value)
    for v, value in zip(optimizer.variables, new_state):
        v.assign(value)


def input_gradient(fn, x):
    """Gradient of ``sum(fn(x))`` with respect to the tensor ``x``, kept differentiable (gradient penalties:
    the penalty on this gradient is itself minimised)."""
    total = lambda t: keras.ops.sum(keras.ops.cast(fn(t), "float32"))  # noqa: E731
    return value_and_grad(total, x, create_graph=True)[2]


def zip_none(grads, like):
    """Zeros where a backend reports no gradient (an input the loss does not depend on)."""
    import torch

    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, like)]


def _values(variables):
    return [v.value for v in variables]


# -- fused kernels ----------------------------------------------------------------------------------------
def inference_function(net):
    """``fn(trainable_values, non_trainable_values, x)`` -> ``net(x, training=False)`` computed statelessly from
    the given values (so one network structure can run another's weights, from several threads), compiled where
    the backend compiles functions: ``tf.function`` (graph mode; shapes generalised after the first retrace) on
    TensorFlow, ``jax.jit`` on JAX; eager without autograd on torch."""
    def call(trainable, non_trainable, x):
        return net.stateless_call(trainable, non_trainable, x, training=False)[0]

    if NAME == "tensorflow":
        import tensorflow as tf

        return tf.function(call, reduce_retracing=True)
    if NAME == "jax":
        import jax

        return jax.jit(call)
    import torch

    def no_grad_call(trainable, non_trainable, x):
        with torch.no_grad():
            return call(trainable, non_trainable, x)

    return no_grad_call


def instance_norm(x, epsilon=1e-5):
    """``x`` (N, H, W, C) with each example's each channel normalised over its pixels (biased variance), in
    float32, through the backend's fused kernel: TensorFlow's ``FusedBatchNormV3`` in training mode on the
    examples laid side by side as channels (``(1, H, W, N * C)``; the transposes are free at N = 1), PyTorch's
    ``group_norm`` with one group per channel on a channels-last view; the plain formula elsewhere (JAX: XLA fuses
    it). Its gradient is the backend's own."""
    from keras import ops

    if NAME == "tensorflow":
        import tensorflow as tf

        x = tf.cast(x, tf.float32)
        c = x.shape[-1]
        s = tf.shape(x)
        n, h, w = s[0], s[1], s[2]
        t = tf.reshape(tf.transpose(x, (1, 2, 0, 3)), (1, h, w, n * c))
        empty = tf.zeros((0,), tf.float32)
        y = tf.raw_ops.FusedBatchNormV3(x=t, scale=tf.ones((n * c,)), offset=tf.zeros((n * c,)), mean=empty,
                                        variance=empty, epsilon=epsilon, data_format="NHWC", is_training=True)[0]
        return tf.transpose(tf.reshape(y, (h, w, n, c)), (2, 0, 1, 3))
    if NAME == "torch":
        import torch.nn.functional as F

        x = ops.cast(x, "float32")
        return F.group_norm(x.permute(0, 3, 1, 2), x.shape[-1], eps=epsilon).permute(0, 2, 3, 1)
    x = ops.cast(x, "float32")
    mean = ops.mean(x, axis=(1, 2), keepdims=True)
    centred = x - mean
    return centred * ops.rsqrt(ops.mean(ops.square(centred), axis=(1, 2), keepdims=True) + epsilon)


def num_replicas():
    """Replicas that each see a slice of the global batch (``tf.distribute``); 1 elsewhere."""
    if NAME == "tensorflow":
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync
    return 1
