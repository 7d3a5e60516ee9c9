"""ipbook: the information planes of diverse autoencoders (Lee & Jo, Entropy 23:862, 2021).

Modules, one job each:

- :mod:`ipbook.estimators`: the estimators of mutual information, one module per family.
- :mod:`ipbook.nets.recorder`: ``InformationPlaneRecorder``, the information plane of any PyTorch model.
- :mod:`ipbook.experiments.appendix`: the estimator checks of Appendix A (Figs. A1, A2).
- :mod:`ipbook.nets.data`: MNIST, Fashion-MNIST and EMNIST letters through torchvision.
- :mod:`ipbook.nets.models`: the six autoencoders.
- :mod:`ipbook.nets.training`: training with the information plane recorded online.
- :mod:`ipbook.experiments.profiles`: the seven runs of the paper per profile (``params/*.yaml``).
- :mod:`ipbook.claims.paper`: the numbers the paper's claims are about (simplifying phase, diagonal, DPI, losses).
- :mod:`ipbook.site.plotting`: the figures (losses, information planes, data-processing panels, image grids).
- :mod:`ipbook.cli`: the ``python -m ipbook`` command line.
"""
__version__ = "0.1.0"

from ipbook.nets.data import resolve_data_env  # noqa: E402

resolve_data_env()  # a relative $IPBOOK_DATA becomes absolute before anything runs

from ipbook.estimators.matrix import InformationPlane, information_plane, mutual_information
from ipbook.estimators.binning import binned_mutual_information

from ipbook.nets.recorder import InformationPlaneRecorder  # noqa: E402

__all__ = ["InformationPlane", "InformationPlaneRecorder", "binned_mutual_information", "information_plane",
           "mutual_information", "__version__"]
