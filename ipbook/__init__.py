"""ipbook: the information planes of diverse autoencoders (Lee & Jo, Entropy 23:862, 2021).

The package, one folder per level; a module imports only from the levels below its own:

1. :mod:`ipbook.estimators` (one module per family, behind :func:`ipbook.estimators.parse_spec`),
   :mod:`ipbook.store` (atomic writes, provenance, the never-shrink guard) and :mod:`ipbook.readers`
   (reading files back; a damaged one is named);
2. :mod:`ipbook.nets`: data, the models, ``InformationPlaneRecorder``, ``TrainConfig``, runs, training;
3. :mod:`ipbook.measures` (trajectory measures) and :mod:`ipbook.text` (the words pages glue);
4. :mod:`ipbook.verdicts`: the one judge;
5. :mod:`ipbook.claims`: the paper's claims, written once, and their verdicts;
6. :mod:`ipbook.experiments`: profiles, sweeps, the one grid runner and the grids, the controls;
7. :mod:`ipbook.site`: the book (chapter openers, pages, figures, the site builder, the answer);
8. :mod:`ipbook.cli`: the ``python -m ipbook`` command line.

``import ipbook`` imports nothing heavy: the names below (the recorder, the matrix estimator) are
loaded when first used, ``from ipbook import InformationPlaneRecorder`` loading torch and the
estimators only.
"""
__version__ = "0.1.0"

import importlib

from ipbook.nets.paths import resolve_data_env

resolve_data_env()  # a relative $IPBOOK_DATA becomes absolute before anything runs

#: The public names and the modules that define them, imported on first use.
_LAZY = {"InformationPlane": "ipbook.estimators.matrix", "information_plane": "ipbook.estimators.matrix",
         "mutual_information": "ipbook.estimators.matrix", "binned_mutual_information": "ipbook.estimators.binning",
         "InformationPlaneRecorder": "ipbook.nets.recorder"}

__all__ = ["InformationPlane", "InformationPlaneRecorder", "binned_mutual_information", "information_plane",
           "mutual_information", "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ipbook' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
