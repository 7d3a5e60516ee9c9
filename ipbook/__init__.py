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
"""
__version__ = "0.1.0"

from ipbook.nets.data import resolve_data_env  # noqa: E402

resolve_data_env()  # a relative $IPBOOK_DATA becomes absolute before anything runs

from ipbook.estimators.matrix import InformationPlane, information_plane, mutual_information
from ipbook.estimators.binning import binned_mutual_information

from ipbook.nets.recorder import InformationPlaneRecorder  # noqa: E402

__all__ = ["InformationPlane", "InformationPlaneRecorder", "binned_mutual_information", "information_plane",
           "mutual_information", "__version__"]
