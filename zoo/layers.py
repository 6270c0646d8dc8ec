"""Building blocks shared by the apps. Every layer is written with ``keras.ops`` (all backends) and
serializes through ``get_config``, so ``.keras`` files that use them load with ``safe_mode=True``."""
import keras
from keras import layers, ops


@keras.saving.register_keras_serializable("zoo")
class MinibatchDiscrimination(layers.Layer):
    """Minibatch discrimination (Salimans et al. 2016, section 3.2).

    Features f(x_i) in R^A are projected by a learned tensor T in R^{A x B x C} to M_i in R^{B x C}. For each of
    the B kernels, c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1) and o(x_i)_b = sum_{j != i} c_b(x_i, x_j).
    The output is [f(x_i), o(x_i)]: D sees how close each sample is to the rest of its minibatch, so a
    collapsed generator (all samples alike) is easy to reject.
    """

    def __init__(self, num_kernels=50, kernel_dim=5, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = num_kernels
        self.kernel_dim = kernel_dim

    def build(self, input_shape):
        self.T = self.add_weight(shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
                                 initializer=keras.initializers.RandomNormal(0.0, 0.05), name="T")

    def call(self, x):
        m = ops.reshape(ops.matmul(x, ops.cast(self.T, x.dtype)), (-1, self.num_kernels, self.kernel_dim))
        diff = ops.expand_dims(m, 0) - ops.expand_dims(m, 1)  # (N, N, B, C)
        c = ops.exp(-ops.sum(ops.abs(diff), axis=-1))  # (N, N, B)
        o = ops.sum(c, axis=1) - 1.0  # drop c(x_i, x_i) = 1
        return ops.concatenate([x, ops.cast(o, x.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + self.num_kernels,)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim}
