"""The few lines that differ per Keras backend.

Everything else in zoo is written with ``keras.ops`` and runs unchanged on TensorFlow, PyTorch and JAX.
Only two things cannot be said in ``keras.ops``:

* taking gradients (``tf.GradientTape`` on TensorFlow, ``torch.autograd.grad`` on PyTorch), which the
  trainer needs for its optimizer steps and which the gradient penalties need *with respect to D's input*,
  possibly differentiated again (``create_graph``);
* how many replicas share a batch under ``tf.distribute`` (losses are scaled by the global batch).

JAX: a JAX ``train_step`` must be stateless (variables in, variables out). The trainer's structure already
splits each update into "loss from variables" and "apply gradients", so a JAX branch slots in here as
``jax.value_and_grad`` over ``stateless_call``; until then training on JAX raises a clear error (inference,
which is only model calls, works on JAX).
"""
import keras

NAME = keras.backend.backend()


def training_unsupported():
    """The error for backends without a training step (JAX: Keras calls ``train_step(state, data)``)."""
    return NotImplementedError(
        f"zoo's GAN trainer has no training step for the {NAME!r} backend yet; train with "
        "KERAS_BACKEND=tensorflow or torch (weights trained there load on every backend)."
    )


def gradients(loss_fn, wrt, create_graph=False):
    """Run ``loss_fn()`` and return ``(loss, aux, grads)`` with the gradients of ``loss`` w.r.t. ``wrt``.

    ``loss_fn`` returns ``loss`` or ``(loss, aux)``. ``wrt`` is a list of Keras variables or tensors.
    ``create_graph=True`` keeps the gradients differentiable (gradient penalties, unrolled GANs).
    Variables that do not affect the loss get zero gradients.
    """
    if NAME == "tensorflow":
        import tensorflow as tf

        targets = [w.value if isinstance(w, keras.Variable) else w for w in wrt]
        with tf.GradientTape(watch_accessed_variables=True) as tape:
            for t in targets:
                if not isinstance(t, tf.Variable):
                    tape.watch(t)
            out = loss_fn()
        loss, aux = out if isinstance(out, tuple) else (out, None)
        grads = tape.gradient(loss, targets, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return loss, aux, grads
    if NAME == "torch":
        import torch

        targets = [w.value if isinstance(w, keras.Variable) else w for w in wrt]
        out = loss_fn()
        loss, aux = out if isinstance(out, tuple) else (out, None)
        grads = torch.autograd.grad(
            loss, targets, create_graph=create_graph, retain_graph=create_graph, allow_unused=True
        )
        grads = [torch.zeros_like(t) if g is None else g for g in grads]
        return loss, aux, grads
    raise training_unsupported()


def input_gradient(fn, x):
    """Gradient of ``sum(fn(x))`` with respect to the tensor ``x``, kept differentiable.

    Used by gradient penalties (WGAN-GP, R1): the penalty on this gradient is itself minimised, so the
    gradient must be part of the graph.
    """
    if NAME == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            total = tf.reduce_sum(tf.cast(y, "float32"))
        return tape.gradient(total, x)
    if NAME == "torch":
        import torch

        x = x.detach().requires_grad_(True) if not x.requires_grad else x
        y = fn(x)
        (g,) = torch.autograd.grad(y.float().sum(), x, create_graph=True)
        return g
    raise NotImplementedError(f"input gradients are not implemented for the {NAME!r} backend")


def num_replicas():
    """Replicas that each see a slice of the global batch (``tf.distribute``); 1 elsewhere."""
    if NAME == "tensorflow":
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync
    return 1
