"""Generator and Discriminator base classes every app builds on.

A zoo network is a *functional* Keras model built in ``__init__`` from plain constructor arguments, which it
keeps as its config. That one rule gives, on every backend: ``get_config``/``from_config``, ``clone()`` (the
trainer's EMA copy), ``.keras`` files that load with ``safe_mode=True``, and weight files that can be
checked against the architecture before anything is loaded.

Subclass pattern::

    @keras.saving.register_keras_serializable("zoo")
    class MyGenerator(Generator):
        def __init__(self, latent_dim=100, width=64, **kwargs):
            z = keras.Input((latent_dim,))
            x = ...
            super().__init__(z, x, config=dict(latent_dim=latent_dim, width=width), **kwargs)
"""
import keras
from keras import ops


def config_value(key, doc=None):
    """A read-only property of a ``Network`` subclass: the constructor argument ``key`` from its config."""
    return property(lambda self: self._zoo_config[key], doc=doc or f"The ``{key}`` the network was built with.")


class Network(keras.Model):
    """Functional model whose config is its constructor arguments."""

    def __init__(self, inputs, outputs, config=None, name=None, **kwargs):
        super().__init__(inputs, outputs, name=name, **kwargs)
        self._zoo_config = dict(config or {})

    def get_config(self):
        return dict(self._zoo_config, name=self.name)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        """A new network of the same architecture holding a copy of this one's weights."""
        twin = self.__class__.from_config(self.get_config())
        twin.set_weights(self.get_weights())
        return twin


class Generator(Network):
    """Maps a latent vector (and, for conditional models, a condition) to an image in [-1, 1].

    ``latent_dim`` is ``None`` for generators driven by an image alone (pix2pix, SR, inpainting).
    ``num_classes`` is set for class-conditional generators, whose inputs are ``[z, labels]``.
    """

    @property
    def latent_dim(self):
        return self._zoo_config.get("latent_dim")

    @property
    def num_classes(self):
        return self._zoo_config.get("num_classes")

    def sample(self, n, labels=None, seed=None, training=False):
        """``n`` images from fresh latent vectors (float, [-1, 1], channels-last)."""
        if self.latent_dim is None:
            raise TypeError(f"{type(self).__name__} is not driven by a latent vector; call it on its inputs")
        z = keras.random.normal((n, self.latent_dim), seed=seed)
        if self.num_classes:
            if labels is None:
                raise ValueError(f"{type(self).__name__} is class-conditional: pass labels (n integers)")
            labels = ops.convert_to_tensor(labels, "int32")
            if tuple(labels.shape) != (n,):
                raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
            return self([z, labels], training=training)
        return self(z, training=training)


    def generate(self, n=16, labels=None, seed=None, batch_size=256):
        """``n`` images as uint8 NumPy ``(n, H, W, C)``: the user-facing verb of latent-driven generators.

        ``seed`` (int) fixes the latent vectors, drawn with NumPy so the same seed gives the same images on every
        Keras backend. ``labels``: one class for all images or ``n`` classes (class-conditional generators).
        """
        import numpy as np

        from zoo.checks import positive_int

        if self.latent_dim is None:
            raise TypeError(f"{type(self).__name__} is not driven by a latent vector; call it on its inputs")
        n, batch_size = positive_int(n, "n"), positive_int(batch_size, "batch_size")
        if seed is not None:
            positive_int(seed, "seed", minimum=0)
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")
        if self.num_classes and labels is None:
            raise ValueError(f"{type(self).__name__} is class-conditional: pass labels (one class or {n})")
        if labels is not None and np.ndim(labels) == 0:
            labels = np.broadcast_to(np.asarray(labels), (n,))
        return self.from_latents(z, labels, batch_size)  # checks the labels

    def from_latents(self, z, labels=None, batch_size=256):
        """uint8 images ``(n, H, W, C)`` for the latent vectors ``z`` (NumPy ``(n, latent_dim)``) and, for
        class-conditional generators, ``labels`` (``n`` ints), run ``batch_size`` at a time."""
        import numpy as np

        from zoo.checks import positive_int

        batch_size = positive_int(batch_size, "batch_size")
        z = check_latents(z, self.latent_dim)
        if self.num_classes and labels is None:
            raise ValueError(f"{type(self).__name__} is class-conditional: pass {len(z)} labels")
        if not self.num_classes and labels is not None:
            raise ValueError(f"{type(self).__name__} is not class-conditional; labels must be None")
        inputs = [z]
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (len(z),) or not np.issubdtype(labels.dtype, np.integer):
                raise ValueError(f"labels must be {len(z)} integers (one per latent vector), got {labels.dtype} "
                                 f"shape {labels.shape}")
            if labels.min() < 0 or labels.max() >= self.num_classes:
                raise ValueError(f"labels must be integers in [0, {self.num_classes}), got {labels}")
            inputs.append(labels.astype("int32"))
        out = []
        for i in range(0, len(inputs[0]), batch_size):
            chunk = [b[i:i + batch_size] for b in inputs]
            out.append(ops.convert_to_numpy(self(chunk if len(chunk) > 1 else chunk[0], training=False)))
        x = np.concatenate(out).astype("float32")
        return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype("uint8")


    def map_images(self, x, scale=1, tile=None, overlap=16, multiple=1, feather=0, progress=None):
        """Run this image-to-image generator on images as people have them; returns the same kind.

        ``x``: a path, PIL image, uint8/uint16/float array, single or batch, grey/RGB/RGBA, any size, or a list
        (``zoo.images.as_batch``). The network sees [-1, 1]; its output is clipped to [-1, 1] and converted back
        (``zoo.images.restore``: PIL for paths and PIL, same dtype and layout for arrays; alpha is resized and
        kept). ``scale``: the output/input size ratio. ``multiple``: sizes the network needs divisible by
        (padded by reflection, cropped back). ``tile``: process in overlapping ``tile`` x ``tile`` windows of
        which the outer ``overlap`` pixels are context only, so memory is bounded whatever the image size;
        equals the untiled result when the receptive-field radius is <= ``overlap`` (``zoo.images.apply_tiled``);
        a callable ``tile(h, w)`` picks the window size (or None) from the loaded images' size.
        ``progress(done, total)`` is called after each window.
        """
        import numpy as np

        from zoo import images

        if isinstance(self.inputs, (list, tuple)) and len(self.inputs) != 1:
            raise TypeError(f"{type(self).__name__} takes {len(self.inputs)} inputs; map_images needs one image")
        batch, spec = images.as_batch(x, channels=int(self.inputs[0].shape[-1]))
        if callable(tile):
            tile = tile(*batch.shape[1:3])
        encode = images.window_encoder(spec)  # the output assembled in its final dtype, window by window
        out = images.apply_tiled(self.predict_on_batch, batch, tile=tile, overlap=overlap, scale=scale,
                                 multiple=multiple, feather=feather, progress=progress, convert=encode)
        if encode is not None:
            return images.restore(out, spec, encoded=True)
        return images.restore(np.clip(out, -1.0, 1.0), spec)

    def export_graph(self):
        """This generator as ``zoo.export`` writes it: a functional model with named inputs and one output,
        ``"output"``, images float32 ``(N, H, W, C)`` in [0, 1] (multiply by 255 and round for uint8), NHWC.

        Latent generators take ``z`` float32 ``(N, latent_dim)`` (standard normal) and, class-conditional ones,
        ``label`` int32 ``(N,)``. Image-to-image generators take ``image`` float32 ``(N, H, W, C)`` in [0, 1] with
        free height and width (sides divisible by the network's ``multiple``, where it has one); resizing, padding
        and tiling stay with the caller. Apps whose inference does more than the network override this.
        """
        return unit_graph(self)

    def export(self, filepath, format=None, overwrite=False, float16=False, **options):
        """Write ``export_graph()`` as a SavedModel folder, a LiteRT ``.tflite`` or an ``.onnx`` file
        (``zoo.export.export``; ``format`` defaults from the extension; Keras's ``"tf_saved_model"`` is accepted)."""
        from zoo import export

        return export.export(self, filepath, format, overwrite=overwrite, float16=float16, **options)


def check_latents(z, latent_dim, what="z"):
    """``z`` as float32 NumPy ``(n, latent_dim)`` with n >= 1, finite; a clear ValueError otherwise (a NaN latent
    would come out as a black image with no error)."""
    import numpy as np

    try:
        a = np.asarray(z, "float32")
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} must be a float array (n, {latent_dim}), got {type(z).__name__}") from e
    if a.ndim != 2 or a.shape[1] != latent_dim or len(a) == 0:
        raise ValueError(f"{what} must have shape (n, {latent_dim}) with n >= 1, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{what} holds NaN or infinite values")
    return a


def unit_graph(net):
    """``net`` (a [-1, 1] generator) between [0, 1] image inputs/outputs, with the inputs named as
    ``Generator.export_graph`` says; ``net`` may be a twin of the generator made for inference."""
    from keras import layers

    if net.latent_dim is not None:
        inputs = [keras.Input((net.latent_dim,), name="z")]
        if net.num_classes:
            inputs.append(keras.Input((), dtype="int32", name="label"))
        y = net(inputs if len(inputs) > 1 else inputs[0])
    else:
        if isinstance(net.inputs, (list, tuple)) and len(net.inputs) != 1:
            raise TypeError(f"{type(net).__name__} takes {len(net.inputs)} inputs; it needs its own export_graph")
        inputs = [keras.Input((None, None, int(net.inputs[0].shape[-1])), name="image")]
        y = net(layers.Rescaling(2.0, offset=-1.0, name="from_unit")(inputs[0]))
    return keras.Model(inputs, {"output": to_unit(y)}, name=f"{net.name}_export")


def to_unit(y):
    """A [-1, 1] image tensor as [0, 1], clipped (the exported graphs' output)."""
    from keras import layers

    return layers.ReLU(max_value=1.0, name="clip")(layers.Rescaling(0.5, offset=0.5, name="to_unit")(y))


class Discriminator(Network):
    """Maps an image (and optional condition) to real/fake *logits*: one per image or a map of patches."""
