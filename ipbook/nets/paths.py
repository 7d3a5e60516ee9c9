"""Where the data live: ``$IPBOOK_DATA`` made absolute (no third-party import, so that
``import ipbook`` can run it at once)."""
from __future__ import annotations

import os

__all__ = ["resolve_data_env"]


def resolve_data_env() -> str | None:
    """Make a relative ``$IPBOOK_DATA`` absolute, in ``os.environ``, and return it.

    A relative path means relative to the directory where it was given: the shell's working
    directory, ``$PWD``, which child processes inherit even when they start elsewhere (a notebook
    kernel runs in ``book/``); without ``$PWD``, the current directory. The absolute path is written
    back, so every process started from this one (papermill, Jupyter Book kernels) reads
    the same folder. Runs when :mod:`ipbook` is imported.
    """
    env = os.environ.get("IPBOOK_DATA")
    if not env:
        return None
    path = os.path.expanduser(env)
    if not os.path.isabs(path):
        base = os.environ.get("PWD")
        if not base or not os.path.isabs(base) or not os.path.isdir(base):
            base = os.getcwd()
        path = os.path.normpath(os.path.join(base, path))
    os.environ["IPBOOK_DATA"] = path
    return path
