"""Sentences as the text encoder reads them: a word-level ``Vocabulary`` and the caption files users bring.

Tokenising: Unicode is folded to ASCII (accents dropped, ``"crème"`` -> ``"creme"``; characters with no ASCII
form are removed), lower-cased, and split into runs of letters (digits and punctuation separate words and are
dropped). Each word maps to its id; a word the vocabulary does not hold maps to the unknown id (1), never an
error. A sentence longer than ``max_length`` words is truncated to its first ``max_length`` words; shorter ones
are padded with 0. A sentence with no letters at all (empty, whitespace, only digits or punctuation) is an error.
"""
import collections
import os
import re
import unicodedata

import numpy as np

PAD, UNKNOWN = "<pad>", "<unk>"
_WORD = re.compile(r"[a-z]+")


def words(sentence):
    """The words of ``sentence`` as the vocabulary sees them (ASCII-folded, lower case, letters only)."""
    if not isinstance(sentence, str):
        raise TypeError(f"a sentence must be a str, got {type(sentence).__name__}")
    folded = unicodedata.normalize("NFKD", sentence).encode("ascii", "ignore").decode("ascii")
    return _WORD.findall(folded.lower())


class UnknownWordsWarning(UserWarning):
    """Words of a sentence the vocabulary does not hold: the model reads each as the unknown word."""


class Vocabulary:
    """Word -> id: 0 pads, 1 is the unknown word, then the words by decreasing frequency in the captions it was
    built from. ``encode`` turns sentences into a ``(n, max_length)`` int32 array of ids."""

    def __init__(self, tokens, max_length=30):
        tokens = list(tokens)
        if tokens[:2] != [PAD, UNKNOWN] or len(set(tokens)) != len(tokens):
            raise ValueError(f"a vocabulary starts with {PAD!r}, {UNKNOWN!r} and has no duplicate words")
        bad = [t for t in tokens[2:] if not _WORD.fullmatch(t)]
        if bad:
            raise ValueError(f"vocabulary words must be lower-case letters only; got {bad[:5]}")
        if int(max_length) < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}")
        self.tokens, self.max_length = tokens, int(max_length)
        self.ids = {t: i for i, t in enumerate(tokens)}

    def __len__(self):
        return len(self.tokens)

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and (self.tokens, self.max_length) == (other.tokens, other.max_length)

    @classmethod
    def build(cls, sentences, min_count=3, max_length=30):
        """The words seen at least ``min_count`` times in ``sentences``, most frequent first (ties by word)."""
        counts = collections.Counter(w for s in sentences for w in words(s))
        kept = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        return cls([PAD, UNKNOWN] + kept, max_length)

    def encode(self, sentences):
        """``(n, max_length)`` int32 ids of one sentence (n = 1) or a list of them; see the module docstring."""
        if isinstance(sentences, str):
            sentences = [sentences]
        if not isinstance(sentences, (list, tuple)) or not sentences:
            raise ValueError("give a sentence or a non-empty list of sentences")
        out = np.zeros((len(sentences), self.max_length), "int32")
        for i, s in enumerate(sentences):
            ws = words(s)
            if not ws:
                raise ValueError(f"sentence {i} ({s!r}) has no words: give a description such as "
                                 f"'a flower with white petals and a yellow centre'")
            ids = [self.ids.get(w, 1) for w in ws[:self.max_length]]
            out[i, :len(ids)] = ids
        return out

    def unknown(self, sentences):
        """The words of ``sentences`` (one or a list) this vocabulary does not hold, in order of first use, each
        once; only the first ``max_length`` words of each sentence count (the rest are truncated anyway)."""
        if isinstance(sentences, str):
            sentences = [sentences]
        seen = {}
        for s in sentences:
            for w in words(s)[:self.max_length]:
                if w not in self.ids:
                    seen.setdefault(w, None)
        return list(seen)

    def decode(self, ids):
        """The words of a row of ids (padding dropped; unknown words as ``<unk>``)."""
        return " ".join(self.tokens[i] for i in np.asarray(ids).tolist() if i != 0)

    # -- files: one word per line after a header line "max_length <n>" ---------------------------------
    def save(self, path):
        with open(path, "w", encoding="ascii") as f:
            f.write(f"max_length {self.max_length}\n" + "\n".join(self.tokens) + "\n")

    @classmethod
    def load(cls, path):
        try:
            with open(path, encoding="ascii") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise ValueError(f"{path} is not a readable vocabulary file ({e})") from e
        head = lines[0].split() if lines else []
        if len(head) != 2 or head[0] != "max_length" or not head[1].isdigit():
            raise ValueError(f"{path} is not a vocabulary file (first line must be 'max_length <n>')")
        return cls(lines[1:], int(head[1]))


# -- caption files --------------------------------------------------------------------------------------------
def read_class_captions(path):
    """``{class_id: [captions]}`` from a ``class_id<TAB>caption`` file with a header (the shared flowers
    captions); captions without words are skipped."""
    out = collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:2] != ["class_id", "caption"]:
            raise ValueError(f"{path}: expected a header 'class_id<TAB>caption', got {header}")
        for n, line in enumerate(f, 2):
            cid, sep, caption = line.rstrip("\n").partition("\t")
            if not sep or not cid.strip():
                raise ValueError(f"{path}:{n}: expected 'class_id<TAB>caption'")
            if words(caption):  # the shared file has a few empty captions: skipped
                out[cid].append(caption)
    return dict(out)


def folder_captions(folder, captions=None):
    """``[(image_path, [captions])]`` for a folder of your own images (any depth), sorted by path.

    ``captions``: a ``file<TAB>caption`` file (one caption per line; a file may have several lines; ``file`` is
    relative to ``folder``; a header line ``file<TAB>caption`` is allowed), or None for a ``.txt`` file beside each
    image (``rose.jpg`` -> ``rose.txt``, one caption per non-empty line). Every image needs a caption and every
    caption an image: either missing is a ``ValueError`` naming up to ten of them.
    """
    from zoo import data

    files = data.list_images(folder)
    rel = {os.path.relpath(f, folder).replace(os.sep, "/"): f for f in files}
    found = collections.defaultdict(list)
    if captions is None:
        for r, f in rel.items():
            txt = os.path.splitext(f)[0] + ".txt"
            if os.path.isfile(txt):
                with open(txt, encoding="utf-8") as fh:
                    found[r] += [line.strip() for line in fh if line.strip()]
        orphans = []
    else:
        path = captions if os.path.isabs(captions) or os.path.exists(captions) else os.path.join(folder, captions)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"caption file {captions} not found (looked at {path})")
        orphans = []
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                name, sep, caption = line.rstrip("\n").partition("\t")
                if n == 1 and (name, caption) == ("file", "caption"):
                    continue
                if not line.strip():
                    continue
                if not sep or not caption.strip():
                    raise ValueError(f"{path}:{n}: expected 'file<TAB>caption'")
                name = name.strip().replace(os.sep, "/")
                (found[name].append(caption.strip()) if name in rel else orphans.append(name))
    missing = [r for r in rel if not found.get(r)]
    problems = []
    if missing:
        problems.append(f"{len(missing)} image(s) without a caption: {data._names(missing)}")
    if orphans:
        problems.append(f"{len(orphans)} caption(s) naming no image in {folder}: {data._names(orphans)}")
    if problems:
        raise ValueError("; ".join(problems))
    return [(rel[r], found[r]) for r in sorted(rel)]
