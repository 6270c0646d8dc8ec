"""VAE benchmark: one training iteration of the digit VAE (or VAE-GAN) and sampling from its decoder.

The networks of ``zoo.apps.vae`` at the digit presets' settings (28x28 grey, filters 32, two stride-2 stages,
a 256-unit dense layer, latent 16): ``--model vae`` trains ``zoo.apps.vae.VAE`` (one update of encoder and
decoder on the reconstruction likelihood + KL, Adam 1e-3), ``--model vaegan`` trains ``VAEGAN`` (one D update
and one encoder/decoder update through D, Larsen et al. 2016). Inference: the decoder on N(0, I) codes (the
``generate`` verb). Data is synthetic, in memory.

    python benchmarks/vae.py --tiny                                        # CPU smoke run: 16x16, filters 8
    python benchmarks/vae.py --batch-sizes 64 512 --model vae vaegan --json out.jsonl

``--resolution`` must be divisible by 4 (two stride-2 stages). ``-h`` lists every flag.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

from zoo import bench  # noqa: E402


def add_arguments(parser):
    parser.add_argument("--filters", type=int, help="width of the encoder's first convolution (presets: 32)")
    parser.add_argument("--latent-dim", type=int, help="code size (presets: 16)")
    parser.add_argument("--model", choices=["vae", "vaegan"], help="the trainer timed")


def build(args):
    """The digit VAE (or VAE-GAN) at ``args.resolution``, built under the dtype policy the harness has set."""
    from zoo.apps import vae

    net = vae.Autoencoder(image_size=args.resolution, channels=1, latent_dim=args.latent_dim, filters=args.filters,
                          downsamplings=2, hidden=256, variational=True)
    d = None
    if args.model == "vaegan":
        d = vae.VAEGANDiscriminator(image_size=args.resolution, channels=1, filters=args.filters)
        trainer = vae.VAEGAN(net, d, seed=0)
    else:
        trainer = vae.VAE(net, seed=0)
    rng = np.random.default_rng(0)
    info = {"model": args.model, "architecture": dict(latent_dim=args.latent_dim, filters=args.filters),
            "autoencoder_params": net.count_params()}
    if d is not None:
        info["discriminator_params"] = d.count_params()
    return bench.Workload(
        gan=trainer,
        network=net.decoder,
        train_batch=lambda n: bench.synthetic_images(n, args.resolution, 1),
        infer_batch=lambda n: rng.standard_normal((n, args.latent_dim)).astype("float32"),
        info=info,
    )


def main(argv=None):
    return bench.main(
        build, "vae", __doc__.splitlines()[0], argv,
        defaults=dict(resolution=28, batch_sizes=[64], filters=32, latent_dim=16, model="vae"),
        tiny=dict(resolution=16, batch_sizes=[8], filters=8),
        add_arguments=add_arguments,
    )


if __name__ == "__main__":
    sys.exit(main())
