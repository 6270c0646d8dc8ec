"""The optimizer zoo's trainers use: Keras's Adam, updated by fused kernels.

``keras.optimizers.Adam`` writes its update as about ten element-wise ops per variable (``m``, ``v``, the
square root, the division, the assignments), each a full pass over the variable's memory. On a CPU that is
most of a large network's update: for pix2pix's 54M-parameter U-Net on two cores it is a third of a training
iteration on TensorFlow and a third to a half on PyTorch. :class:`Adam` computes exactly Keras's update
(``m += (g - m)(1 - beta_1)``, ``v += (g^2 - v)(1 - beta_2)``, ``var -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
m / (sqrt(v) + epsilon)``) with the backend's fused kernel instead:

* TensorFlow: one ``ResourceApplyAdam`` per variable, which is that formula (the op behind TF1's
  ``AdamOptimizer``; Keras runs the update per variable there, inside TensorFlow's distribution machinery);
* PyTorch: one ``torch._fused_adam_`` call (``torch.optim.Adam(fused=True)``'s kernel) for all the variables,
  with the epsilon moved inside its bias correction (``epsilon / sqrt(1 - beta_2^t)``), which makes its update
  Keras's;
* JAX, ``amsgrad=True`` or variables that are not float32: Keras's own ``update_step`` (XLA fuses it on JAX).

Everything else (loss scaling, clipping, weight decay, EMA, gradient accumulation, the variables and their
names in checkpoints) is ``keras.optimizers.Adam``'s: it is a subclass that only replaces the update step.
``tests/test_layers.py`` checks it step for step against Keras's Adam on each backend.
"""
import keras

from zoo import backend


@keras.saving.register_keras_serializable("zoo")
class Adam(keras.optimizers.Adam):
    """``keras.optimizers.Adam`` (same arguments, same update) with a fused kernel on TensorFlow and PyTorch (see
    the module docstring)."""

    def _fused(self, variables):
        return not self.amsgrad and all(v.dtype == "float32" for v in variables)

    def update_step(self, gradient, variable, learning_rate):
        if backend.NAME != "tensorflow" or not self._fused([variable]):
            return super().update_step(gradient, variable, learning_rate)
        _tf_adam(self, gradient, variable, learning_rate)

    def _backend_update_step(self, grads, variables, learning_rate):
        # PyTorch: every variable in one kernel call, the step read from the device once per update
        if backend.NAME != "torch" or not self._fused(variables):
            return super()._backend_update_step(grads, variables, learning_rate)
        _torch_adam(self, grads, variables, learning_rate)


def _moments(opt, variable):
    i = opt._get_variable_index(variable)
    return opt._momentums[i], opt._velocities[i]


def _tf_adam(opt, gradient, variable, learning_rate):
    import tensorflow as tf

    m, v = _moments(opt, variable)
    step = tf.cast(opt.iterations + 1, "float32")
    tf.raw_ops.ResourceApplyAdam(
        var=variable.handle, m=m.handle, v=v.handle,
        beta1_power=tf.pow(tf.constant(opt.beta_1, "float32"), step),
        beta2_power=tf.pow(tf.constant(opt.beta_2, "float32"), step),
        lr=tf.cast(learning_rate, "float32"), beta1=tf.constant(opt.beta_1, "float32"),
        beta2=tf.constant(opt.beta_2, "float32"), epsilon=tf.constant(opt.epsilon, "float32"),
        grad=tf.cast(gradient, "float32"))


def _torch_adam(opt, grads, variables, learning_rate):
    import torch

    step = float(opt.iterations.value) + 1
    moments = [_moments(opt, v) for v in variables]
    values = [v.value for v in variables]
    step_tensor = torch.tensor(step, dtype=torch.float32, device=values[0].device)
    with torch.no_grad():
        torch._fused_adam_(
            values, [g.to(torch.float32).contiguous() for g in grads],  # a conv kernel's gradient is a permuted view
            [m.value for m, _ in moments], [v.value for _, v in moments], [], [step_tensor] * len(values),
            lr=float(learning_rate), beta1=opt.beta_1, beta2=opt.beta_2, weight_decay=0.0,
            eps=opt.epsilon / (1 - opt.beta_2**step) ** 0.5, amsgrad=False, maximize=False)
