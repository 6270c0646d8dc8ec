"""Captioned images for training: ``CaptionedImages`` batches ``(images, word ids, groups)`` on every backend.

Images are loaded once into memory at ``load_size`` (shorter side resized, centre-cropped square) and each batch
takes a random ``image_size`` crop of each, mirrored half the time (StackGAN's augmentation: 76 -> 64 there, 72 ->
64 here), with one of the image's captions drawn at random, so every epoch pairs an image with another of its
captions. A group id per image says which images share captions (the flower class for the shared flowers, where
captions belong to classes; one group per image for your own folders): the trainers treat captions of another
group as mismatching.
"""
import hashlib
import os

import numpy as np

from zoo.apps.text2image.text import Vocabulary, folder_captions, read_class_captions


def held_out(caption):
    """Whether a shared flowers caption is held out of all training (1 in 20, fixed by its text's MD5): the
    encoder, the vocabulary and the GAN never see these; ``apps/text2image/evaluate.py`` draws from them."""
    return int(hashlib.md5(caption.encode("utf-8")).hexdigest(), 16) % 20 == 0


def load_square(path, size):
    """One image as uint8 ``(size, size, 3)``: shorter side resized to ``size`` (bicubic), centre-cropped."""
    from zoo import data

    return data.read_image(path, channels=3, image_size=(size, size), fit="cover")


def flowers(root, split="train", held_out_captions=False):
    """The shared Oxford-102 flowers: ``(image paths, [captions per image], class ids)`` for ``split`` (a folder
    of ``root`` with one sub-folder per class). Each image gets its class's training captions (or, with
    ``held_out_captions``, the held-out ones)."""
    classes = read_class_captions(os.path.join(root, "captions.tsv"))
    paths, captions, groups = [], [], []
    for cid in sorted(classes, key=int):
        caps = [c for c in classes[cid] if held_out(c) == held_out_captions]
        folder = os.path.join(root, split, cid)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.startswith("."):
                paths.append(os.path.join(folder, name))
                captions.append(caps)
                groups.append(int(cid))
    if not paths:
        raise ValueError(f"no images under {os.path.join(root, split)}/<class_id>/")
    return paths, captions, np.asarray(groups, "int32")


def from_folder(folder, captions=None):
    """Your own images and captions (``text.folder_captions``): ``(paths, [captions per image], groups)`` with
    one group per image."""
    pairs = folder_captions(folder, captions)
    return [p for p, _ in pairs], [c for _, c in pairs], np.arange(len(pairs), dtype="int32")


def _py_dataset():
    import keras

    class CaptionedImages(keras.utils.PyDataset):
        """Endless batches ``(images float32 [-1, 1], word ids int32, groups int32)`` (module docstring).

        ``paths``: image files; ``captions``: a list of captions per image; ``groups``: an int per image;
        ``vocabulary``: a ``text.Vocabulary``. The ``k``-th batch taken is a function of ``seed`` and ``k``.
        """

        def __init__(self, paths, captions, groups, vocabulary, batch_size=64, image_size=64, load_size=72,
                     seed=0, augment=True):
            super().__init__()
            if len(paths) != len(captions) or len(paths) != len(groups):
                raise ValueError("paths, captions and groups must have one entry per image")
            if len(paths) < batch_size:
                raise ValueError(f"{len(paths)} image(s), fewer than batch_size {batch_size}")
            self.images = np.stack([load_square(p, load_size) for p in paths])
            # each distinct caption list encoded once (the flowers' images share their class's list)
            lists, where = {}, []
            for c in captions:
                where.append(lists.setdefault(id(c), (len(lists), c))[0])
            encoded = [vocabulary.encode(c) for _, c in sorted(lists.values(), key=lambda t: t[0])]
            self.words = np.concatenate(encoded)
            starts = np.cumsum([0] + [len(e) for e in encoded[:-1]])
            self.offsets = starts[where]
            self.counts = np.asarray([len(e) for e in encoded])[where]
            self.groups = np.asarray(groups, "int32")
            self.batch_size, self.image_size, self.seed, self.augment = batch_size, image_size, seed, augment
            self.taken = 0

        def __len__(self):
            return 10_000  # batches per Keras epoch at most (fit with steps_per_epoch)

        def __getitem__(self, i):
            # the draws follow the number of batches taken so far in this process (Keras restarts i at 0 each
            # epoch): random images without replacement within a batch, crops, flips and captions
            self.taken += 1
            rng = np.random.default_rng([self.seed, self.taken])
            idx = rng.choice(len(self.images), self.batch_size, replace=False)
            s, size = self.image_size, self.images.shape[1]
            if self.augment:
                top, left = rng.integers(0, size - s + 1, (2, len(idx)))
                flip = rng.random(len(idx)) < 0.5
            else:
                top = left = np.full(len(idx), (size - s) // 2)
                flip = np.zeros(len(idx), bool)
            crops = np.stack([self.images[j, t:t + s, l:l + s][:, ::-1 if f else 1]
                              for j, t, l, f in zip(idx, top, left, flip)])
            caption = self.offsets[idx] + (rng.random(len(idx)) * self.counts[idx]).astype(int)
            return (crops.astype("float32") / 127.5 - 1.0, self.words[caption], self.groups[idx])

    return CaptionedImages


def CaptionedImages(*args, **kwargs):  # noqa: N802
    return _py_dataset()(*args, **kwargs)


def vocabulary_from(captions, min_count=3, max_length=30):
    """A ``Vocabulary`` of the words in a list of caption lists (each distinct caption counted once)."""
    unique = sorted({c for caps in captions for c in caps})
    return Vocabulary.build(unique, min_count=min_count, max_length=max_length)
