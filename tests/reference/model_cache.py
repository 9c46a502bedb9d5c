"""Where the tests find model files: the same rule as src/models.c (tca_model_resolve)."""
import os
import sys


def model_path(name_or_path):
    """A .gguf path as is, or a fetched model's name -> $TCA_MODELS_DIR (or the XDG cache)/NAME.gguf.
    Exits the test with a clear message when the model has not been fetched."""
    if os.path.exists(name_or_path):
        return name_or_path
    root = os.environ.get('TCA_MODELS_DIR') or os.path.join(
        os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'tca', 'models')
    path = os.path.join(root, name_or_path + '.gguf')
    if not os.path.exists(path):
        sys.exit(f'model {name_or_path!r} not found at {path}: run `tca fetch {name_or_path}`')
    return path
