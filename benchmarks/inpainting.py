"""inpainting benchmark: one full DeepFill v2 training iteration and inference at 256x256 and 512x512.

The networks of ``zoo.apps.inpainting`` (Yu et al. 2019): the coarse-to-fine generator of gated convolutions
with contextual attention, and the SN-PatchGAN on image + mask. Default: the reference configuration (width
48: 4,052,478 generator parameters, 5,946,816 discriminator); ``--width 24`` is the shipped presets'. Data is
synthetic and in memory: images in [-1, 1] with the reference's training masks (a box united with free-form
strokes).

* ``train``: one ``Inpainting`` iteration (the reference's objective: SN-PatchGAN hinge loss on the refined
  output pasted into the input, L1 on both stages; Adam 1e-4 (0.5, 0.999)) at ``--resolution`` (256),
  batch sizes ``--batch-sizes`` (the reference's 16, and 1).
* ``infer``: the generator's predict function on (image, mask) at ``--resolution``.
* ``infer512``: the same at 512x512, batch 1 (``--skip-512`` leaves it out).
* ``blend``/``blend512``: ``inpaint``'s Poisson blending of the generator's fill into the image (NumPy on the
  CPU, whatever the backend), with the training masks, at ``--resolution`` and 512x512.

FLOPs per image: convolutions (``zoo.bench.count_flops``) plus the contextual attention's two matrix products
(scores 2 P^2 9C, paste 2 P^2 16C, P = (side / 8)^2 known patches, C its channels), which ``count_flops`` does not
see. Training: the trainer's count, 3 G + 8 D per image.

    python benchmarks/inpainting.py --tiny                                   # CPU smoke run
    python benchmarks/inpainting.py --width 24 --precision float32 mixed_bfloat16 --batch-sizes 1 8 --json out.jsonl
    KERAS_BACKEND=jax python benchmarks/inpainting.py --batch-sizes 1 16      # a GPU, the reference configuration

``-h`` lists every flag.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

from zoo import bench  # noqa: E402


def add_arguments(parser):
    parser.add_argument("--width", type=int, help="the generator's cnum (48: the reference, 24: the presets)")
    parser.add_argument("--d-width", type=int, help="the discriminator's first width (64)")
    parser.add_argument("--skip-512", action="store_true", help="leave out the 512x512 inference row")


def batch(n, side, seed=0):
    from zoo.apps.inpainting import masks

    rng = np.random.default_rng(seed)
    x = bench.synthetic_images(n, side, 3, seed=seed)
    m = np.stack([masks.training_mask(side, side, rng) for _ in range(n)])[..., None].astype("float32")
    return x, m


def attention_flops(width, side):
    """FLOPs of the contextual attention's matrix products for one ``side`` x ``side`` image."""
    p, c = (side // 8) ** 2, 2 * width
    return 2 * p * p * 9 * c + 2 * p * p * 16 * c


def build(args):
    """The generator and SN-PatchGAN at ``args.resolution``, built under the dtype policy the harness has set."""
    from zoo.apps import inpainting

    r = args.resolution
    g = inpainting.InpaintGenerator(width=args.width)
    d = inpainting.SNPatchDiscriminator(width=args.d_width)
    x, m = batch(1, r)
    flops_g = bench.count_flops(g, [x, m]).total + attention_flops(args.width, r)
    flops_d = bench.count_flops(d, np.concatenate([x, m], -1)).total

    def infer512(n, jit):
        x5, m5 = batch(n, 512, seed=1)
        return lambda: g.predict_on_batch([x5, m5])

    def blend(side):
        def make(n, jit):
            from zoo.apps.inpainting.inference import poisson_blend

            xs, ms = batch(n, side, seed=3)
            _, fill = g.predict_on_batch([xs, ms])  # the network's fill (not timed)
            fill = np.asarray(fill, np.float32)
            return (lambda: [poisson_blend(xs[i], fill[i], ms[i, ..., 0] > 0) for i in range(n)]), None
        return make

    tasks = [] if args.skip_infer else [bench.Task("blend", [1], blend(r))]
    if not (args.skip_512 or args.skip_infer):
        tasks += [bench.Task("infer512", [1], infer512, bench.count_flops(g, list(batch(1, 512))).total
                             + attention_flops(args.width, 512), {"resolution": 512}),
                  bench.Task("blend512", [1], blend(512), fields={"resolution": 512})]
    return bench.Workload(
        gan=inpainting.Inpainting(g, d, seed=0),
        network=g,
        train_batch=lambda n: batch(n, r),
        infer_batch=lambda n: list(batch(n, r, seed=2)),
        train_flops=3 * flops_g + 8 * flops_d,
        infer_flops=flops_g,
        tasks=tasks,
        info={"architecture": dict(width=args.width, d_width=args.d_width), "generator_params": g.count_params(),
              "discriminator_params": sum(int(np.prod(v.shape)) for v in d.trainable_weights),
              "flops_g": flops_g, "flops_d": flops_d, "attention_flops": attention_flops(args.width, r),
              "train_flops_formula": "3 G + 8 D per image (G with its contextual attention's products)"},
    )


def main(argv=None):
    return bench.main(
        build, "inpainting", __doc__.splitlines()[0], argv,
        defaults=dict(resolution=256, batch_sizes=[1, 16], infer_batch_sizes=[1, 8], width=48, d_width=64),
        tiny=dict(resolution=64, batch_sizes=[2], infer_batch_sizes=[1], width=8, d_width=8, skip_512=True),
        add_arguments=add_arguments,
    )


if __name__ == "__main__":
    sys.exit(main())
