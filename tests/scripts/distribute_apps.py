"""Every app's trainer on tiny networks: one device against two (tests/test_distribute.py).

    python distribute_apps.py tf|jax OUT.json [APP ...]

``tf``: two logical CPUs; each app trains on one device, then under ``tf.distribute.MirroredStrategy`` on both,
from the same initial weights and seeds, on the same global batches. ``jax`` (run with KERAS_BACKEND=jax): two
host devices (XLA_FLAGS set here, before JAX starts); one device, then ``keras.distribution.DataParallel``.
OUT.json gets per app: the largest weight difference between the two runs (``max_abs``, every variable of the
trainer: networks, EMA, optimizer moments, pools, seed states, ProGAN's alpha/images), the largest weight change
of the run (``moved``, so a difference means something), the largest difference between the replicas' copies of
a variable (``replicas``, TF), and the log values of both runs.
"""
import json
import os
import sys
import time

MODE, OUT = sys.argv[1], sys.argv[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))  # conftest-free helpers
if MODE == "jax":
    os.environ["KERAS_BACKEND"] = "jax"
    from zoo import distribute as _d

    _d.jax_host_devices(2)
else:
    from zoo import distribute as _d

    _d.logical_cpus(2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from zoo import GAN, distribute  # noqa: E402

B = 8  # the global batch


def digits(n, size=8):
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images[..., None] / 8.0 - 1.0).astype("float32")[:n]
    return x, d.target.astype("int32")[:n]


def sgd():
    """For the apps whose runs amplify float noise: Adam's first steps are lr * sign(gradient), and nets with
    instance or batch norm have gradients near 0 (the biases before the norm exactly 0) whose sign float noise
    flips; a large SGD step crosses ReLU and L1 kinks (CycleGAN at lr 0.01: 6e-8, 1e-6, 5e-5 after steps 1-3)."""
    return keras.optimizers.SGD(0.002, momentum=0.5)


def images(n, size, channels=3, seed=0, low=-1.0):
    return np.random.default_rng(seed).uniform(low, 1, (n, size, size, channels)).astype("float32")


# -- the apps, tiny ---------------------------------------------------------------------------------------
def gan_core():
    from zoo.apps.dcgan import MLPDiscriminator, MLPGenerator

    gan = GAN(MLPGenerator(latent_dim=8, output_shape=(8, 8, 1), units=(16,)),
              MLPDiscriminator(input_shape=(8, 8, 1), units=(16,), dropout=0.3), ema_decay=0.9, d_steps=2, seed=3)
    gan.compile()
    return gan, (digits(4 * B)[0],), dict(batch_size=2 * B)  # d_steps=2: each fit batch holds 2 minibatches


def dcgan():
    from zoo.apps.dcgan import DCGANDiscriminator, DCGANGenerator

    gan = GAN(DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=4, num_classes=10),
              DCGANDiscriminator(image_size=8, channels=1, filters=4, dropout=0.3, num_classes=10),
              ema_decay=0.9, seed=3)
    gan.compile()
    return gan, digits(2 * B), {}


def pix2pix():
    from zoo.apps import pix2pix as p

    gan = p.Pix2Pix(p.UNetGenerator(depth=3, filters=4, in_channels=3, out_channels=3),
                    p.PatchDiscriminator(n_layers=2, filters=4), seed=0)
    gan.compile()
    return gan, (images(2 * B, 16, seed=1), images(2 * B, 16, seed=2)), {}


def cyclegan():
    from zoo.apps import cyclegan as c

    pair = c.CycleGenerators(n_blocks=1, filters=4, train_size=16)
    d = {n: c.PatchDiscriminator(n_layers=1, filters=4, norm="instance", channels=3) for n in ("d_a", "d_b")}
    gan = c.CycleGAN(pair, d, image_size=16, pool_size=12, seed=0)  # step 2 fills the pool and swaps
    gan.compile(d_optimizer=sgd(), g_optimizer=sgd())
    return gan, (images(2 * B, 16, seed=1), images(2 * B, 16, seed=2, low=-0.5)), {}


def progan():
    from zoo.apps import progan as p

    gan = p.ProGAN(p.ProGANGenerator(8, latent_dim=8, fmap_base=16, fmap_max=8),
                   p.ProGANDiscriminator(8, fmap_base=16, fmap_max=8), seed=0)
    gan.compile()
    # 4x4 for 1 epoch (2 steps), then 8x8 fading in over 12 images (alpha 0, 2/3, 1 then stable): 4 steps
    schedule = p.Schedule(8, fade_images=12, stable_images=16, final_images=4, batch_size=B)
    return gan, (images(2 * B, 8, seed=1),), dict(schedule=schedule)


def srgan():
    from zoo.apps import srgan as s

    gan = s.SRGAN(s.SRResNet(scale=2, blocks=1, filters=8), s.SRGANDiscriminator(filters=8, dense_units=16), seed=0)
    gan.compile(pixel_weight=1.0, content_weight=0.0, adversarial_weight=1e-2)
    hr = images(2 * B, 16, seed=1)
    lr = hr.reshape(2 * B, 8, 2, 8, 2, 3).mean(axis=(2, 4))
    return gan, (lr, hr), {}


def inpainting():
    from zoo.apps import inpainting as i

    gan = i.Inpainting(i.InpaintGenerator(width=4), i.SNPatchDiscriminator(width=4), seed=0)
    gan.compile()
    x = images(2 * B, 16, seed=1)
    m = np.zeros((2 * B, 16, 16, 1), "float32")
    for k in range(2 * B):
        m[k, 2 + k % 6:9 + k % 6, 3:12] = 1.0
    return gan, (x, m), {}


def text2image():
    from zoo.apps import text2image as t

    g = t.TextToImageGenerator(vocab_size=12, max_length=6, word_dim=8, filters=8, embedding_dim=8, noise_dim=4,
                               condition_dim=4, width=4)
    # GAN-INT at 0.25: 2 interpolated rows per global batch, 1 per replica (rows gathered, then shared out). At
    # 0.5 this tiny net is ill-conditioned: float32 rounding of the batch-norm sums (12 rows against 6 + 6)
    # grows to 1.6e-4 in two steps, while in float64 (every layer's dtype) the two runs agree to 4e-10
    gan = t.TextToImage(g, t.MatchingDiscriminator(embedding_dim=8, width=4, projection_dim=4), seed=0,
                        interpolation=0.25)
    gan.compile(d_optimizer=sgd(), g_optimizer=sgd())
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 12, (2 * B, 6)).astype("int32")
    groups = (np.arange(2 * B) // 2).astype("int32")
    return gan, ((images(2 * B, 64, seed=1), ids, groups),), {}


def text2image_dfgan():
    """DF-GAN (hinge loss, mismatched pairs over the global batch, MA-GP) at 32 px."""
    from zoo.apps import text2image as t

    g = t.DFGANGenerator(vocab_size=12, max_length=6, word_dim=8, filters=8, embedding_dim=8, noise_dim=4, width=2,
                         image_size=32)
    gan = t.DFGAN(g, t.DFDiscriminator(image_size=32, embedding_dim=8, width=2), seed=0)
    # a larger step than sgd()'s: from DF-GAN's zero-initialised fusion layers sgd() hardly moves the weights
    gan.compile(d_optimizer=keras.optimizers.SGD(0.05, momentum=0.5),
                g_optimizer=keras.optimizers.SGD(0.05, momentum=0.5))
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 12, (2 * B, 6)).astype("int32")
    groups = (np.arange(2 * B) // 2).astype("int32")
    return gan, ((images(2 * B, 32, seed=1), ids, groups),), {}


def vae():
    from zoo.apps import vae as v

    net = v.Autoencoder(image_size=8, latent_dim=3, filters=4, downsamplings=1, hidden=8)
    gan = v.VAEGAN(net, v.VAEGANDiscriminator(image_size=8, channels=1, filters=4, downsamplings=1), seed=0)
    gan.compile()
    return gan, (digits(2 * B)[0],), {}


APPS = {f.__name__: f for f in (gan_core, dcgan, pix2pix, cyclegan, progan, srgan, inpainting, text2image,
                                            text2image_dfgan, vae)}


# -- one run --------------------------------------------------------------------------------------------------
def values(setup, v):
    """The variable's value (replica 0's) and the largest difference between its replicas' copies."""
    if setup.strategy is not None:
        parts = [np.asarray(keras.ops.convert_to_numpy(p)) for p in
                 setup.strategy.experimental_local_results(v.value)]
        spread = max(float(np.max(np.abs(p.astype("float64") - parts[0]))) if p.size else 0.0 for p in parts)
        return parts[0], spread
    return np.asarray(keras.ops.convert_to_numpy(v.value)), 0.0


def _devices(setup, gan):
    """Devices the trainer's weights live on (JAX: the shardings' devices; TF: the strategy's replicas)."""
    if setup.strategy is not None:
        return setup.strategy.num_replicas_in_sync
    if MODE == "jax":
        return len(gan.generator.weights[0].value.sharding.device_set)
    return 1


def state_variables(gan):
    out = list(gan.variables)
    for opt in (gan.d_optimizer, gan.g_optimizer):
        if opt is not None:
            out += [v for v in opt.variables if all(v is not w for w in out)]
    return out


def run(app, setup):
    keras.utils.set_random_seed(0)
    with setup.scope():
        gan, data, kw = APPS[app]()
    before = [values(setup, v)[0].copy() for v in state_variables(gan)]
    kw = {"batch_size": B, **kw}
    if "schedule" in kw:
        kw.pop("batch_size")
        hist = gan.fit(*data, shuffle=False, verbose=0, **kw).history
    else:
        hist = gan.fit(*data, epochs=1, shuffle=False, verbose=0, **kw).history
    vs = [values(setup, v) for v in state_variables(gan)]
    names = [getattr(v, "path", v.name) for v in state_variables(gan)]
    hist["devices"] = [_devices(setup, gan)]
    return before, [a for a, _ in vs], max([s for _, s in vs] + [0.0]), hist, names


def compare(app, one, many):
    return _result(run(app, one), run(app, many))


def main():
    apps = sys.argv[3:] or list(APPS)
    one = distribute.setup(None)
    many = distribute.setup("jax" if MODE == "jax" else "mirrored", devices=2)
    keras.distribution.set_distribution(None) if MODE == "jax" else None
    results = {}
    for app in apps:
        t = time.time()
        if MODE == "jax":
            keras.distribution.set_distribution(None)
            r1 = run(app, one)
            keras.distribution.set_distribution(many.distribution)
            r2 = run(app, many)
            keras.distribution.set_distribution(None)
            results[app] = _result(r1, r2)
        else:
            results[app] = compare(app, one, many)
        results[app]["seconds"] = round(time.time() - t, 1)
        print(app, {k: v for k, v in results[app].items() if not k.startswith("logs")}, flush=True)
    with open(OUT, "w") as f:
        json.dump(results, f, indent=1)


def _result(r1, r2):
    b0, a, _, h1, names = r1
    b1, b, spread, h2, _ = r2
    gaps = [float(np.max(np.abs(p.astype("float64") - q))) if p.size else 0.0 for p, q in zip(a, b)]
    start = max(float(np.max(np.abs(p.astype("float64") - q))) if p.size else 0.0 for p, q in zip(b0, b1))
    diff = max(float(np.max(np.abs(p.astype("float64") - q))) if p.size else 0.0 for p, q in zip(a, b))
    moved = max(float(np.max(np.abs(p.astype("float64") - q))) if p.size else 0.0 for p, q in zip(a, b0)
                if p.dtype.kind == "f")
    if os.environ.get("SHOW"):
        for name, gap, p, q in zip(names, gaps, a, b0):
            if gap > 1e-6:
                print(name, gap, float(np.max(np.abs(p.astype("float64") - q))) if p.size else 0.0)
    return {"max_abs": diff, "worst": names[int(np.argmax(gaps))], "start": start, "moved": moved, "replicas": spread, "variables": len(a),
            "logs_one": {k: [float(x) for x in v] for k, v in h1.items()},
            "logs_many": {k: [float(x) for x in v] for k, v in h2.items()}}


if __name__ == "__main__":
    main()
