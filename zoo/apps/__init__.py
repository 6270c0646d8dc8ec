"""One module per application; each exposes the same verbs (``pretrained``, a model class, ``dataset``,
and the app's own inference verb)."""
