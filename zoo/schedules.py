"""Learning-rate schedules of the GAN papers, as Keras ``LearningRateSchedule``s (they run inside compiled steps
on every backend and are saved with the optimizer; the step is the optimizer's own iteration count, so a resumed
run continues on the same curve)."""
import keras
from keras import ops


@keras.saving.register_keras_serializable("zoo")
class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``initial`` for ``constant_steps`` steps, then linearly down to zero over ``decay_steps`` steps (and zero
    after): pix2pix and CycleGAN's "linear" policy (100 epochs constant, 100 decaying, counted here in steps).

    At step ``s``: ``initial * (1 - max(0, s - constant_steps) / decay_steps)``, clipped at 0.
    """

    def __init__(self, initial, constant_steps, decay_steps):
        if initial <= 0 or constant_steps < 0 or decay_steps < 1:
            raise ValueError(f"need initial > 0, constant_steps >= 0, decay_steps >= 1; got {initial}, "
                             f"{constant_steps}, {decay_steps}")
        self.initial, self.constant_steps, self.decay_steps = float(initial), int(constant_steps), int(decay_steps)

    def __call__(self, step):
        s = ops.cast(step, "float32")
        frac = ops.maximum(s - float(self.constant_steps), 0.0) / float(self.decay_steps)
        return self.initial * ops.maximum(1.0 - frac, 0.0)

    def get_config(self):
        return {"initial": self.initial, "constant_steps": self.constant_steps, "decay_steps": self.decay_steps}
