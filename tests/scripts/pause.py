"""``Pause(seconds)``: a callback that sleeps after every epoch (after the checkpoint callbacks before it), the
window in which the kill -9 tests kill the training scripts here."""
import time

import keras


class Pause(keras.callbacks.Callback):
    def __init__(self, sleep):
        super().__init__()
        self.sleep = sleep

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(self.sleep)
