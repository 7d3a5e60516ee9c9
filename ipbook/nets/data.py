r"""Image datasets of the paper: MNIST, Fashion-MNIST and the EMNIST lowercase letters.

Every dataset is returned as an :class:`ImageData`: the images flattened to rows of
:math:`28 \times 28 = 784` float32 pixels in :math:`[0, 1]` (raw byte / 255) and integer labels.
The files are read through torchvision's dataset classes, taking their ``.data`` and ``.targets``
tensors directly (no per-item transforms), so loading 60,000 images takes a fraction of a second.

Where the files live
--------------------
:func:`data_root` is a torchvision data root: ``$IPBOOK_DATA`` if that is set (a relative path is
taken relative to the directory it was given in, see :func:`resolve_data_env`), otherwise
``$XDG_CACHE_HOME/ipbook/data`` (``~/.cache/ipbook/data`` when ``XDG_CACHE_HOME`` is unset). Under it
torchvision expects, for example, ``FashionMNIST/raw/train-images-idx3-ubyte`` or
``EMNIST/raw/emnist-byclass-train-images-idx3-ubyte``. With ``download=None`` (the default) the local
files are used when present and torchvision's download is tried otherwise; ``download=False`` never
touches the network. A missing dataset raises :class:`DatasetNotFoundError`, whose two-line message
says which files are missing where and how to provide them; looking for data creates no folders.

Sizes are always read from the files, never assumed. :meth:`ImageData.fingerprint` summarises
what was loaded (size and a SHA-256 of the pixels and labels); runs record it, so that a result is
never reused against different data.

EMNIST letters
--------------
As in the authors' scripts, the letters are taken from the ``byclass`` split (62 classes: digits
0-9, uppercase 10-35, lowercase 36-61): only the lowercase images are kept and relabelled 0-25
(a-z); the training set is the first 160,000 of them and the test set all lowercase test images.
EMNIST stores every image transposed; it is transposed back to upright before flattening.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch

from ipbook.nets.paths import resolve_data_env

__all__ = [
    "DATASET_NAMES",
    "DEFAULT_DATASET",
    "SPLITS",
    "EMNIST_LETTERS_TRAIN_SIZE",
    "DatasetNotFoundError",
    "ImageData",
    "data_root",
    "resolve_data_env",
    "load_dataset",
]

DATASET_NAMES: tuple[str, ...] = ("mnist", "fashion-mnist", "emnist-letters")
#: The dataset used when none is named (command line, :class:`~ipbook.nets.config.TrainConfig`, book).
DEFAULT_DATASET = "fashion-mnist"
SPLITS: tuple[str, ...] = ("train", "test")

#: Number of lowercase EMNIST-byclass training images kept (the first ones in file order).
EMNIST_LETTERS_TRAIN_SIZE = 160_000
#: ``byclass`` target of the lowercase letters 'a' .. 'z'.
_EMNIST_LOWERCASE = range(36, 62)


class DatasetNotFoundError(FileNotFoundError):
    """The files of a dataset are missing and could not (or were not allowed to) be downloaded."""


@dataclass(frozen=True, eq=False)
class ImageData:
    r"""One split of an image dataset, flattened.

    Attributes:
        name: dataset name, one of :data:`DATASET_NAMES`.
        split: ``"train"`` or ``"test"``.
        x: images, float32 tensor of shape :math:`(N, 784)` with values in :math:`[0, 1]`;
            row :math:`i` is image :math:`i` flattened row-major (upright).
        y: labels, int64 tensor of shape :math:`(N,)` with values in :math:`\{0, \dots,
            n\_classes - 1\}`.
        n_classes: number of classes (10 for MNIST and Fashion-MNIST, 26 for EMNIST letters).
        image_shape: height and width of one image, ``(28, 28)``.
    """

    name: str
    split: str
    x: torch.Tensor
    y: torch.Tensor
    n_classes: int
    image_shape: tuple[int, int] = (28, 28)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def images(self) -> torch.Tensor:
        """The images as a ``(N, H, W)`` view of :attr:`x`."""
        return self.x.view(-1, *self.image_shape)

    def examples(self, n: int | None = None) -> torch.Tensor:
        """The first image of each of the first ``n`` classes (all by default), ``(n, 784)``."""
        n = self.n_classes if n is None else min(n, self.n_classes)
        first = [int(torch.nonzero(self.y == c)[0, 0]) for c in range(n)]
        return self.x[first]

    def fingerprint(self) -> dict:
        """What was loaded, in a form that changes when the data change.

        Returns ``{"n": N, "sha256": hex digest}``, the digest taken over the pixels as bytes
        (``round(255 x)``, uint8, row-major), then the labels (int64 little-endian). The same files
        give the same fingerprint on any machine; a different subset, order or file does not.
        """
        digest = hashlib.sha256()
        digest.update(self.x.mul(255).round_().to(torch.uint8).numpy().tobytes())
        digest.update(self.y.to(torch.int64).numpy().astype("<i8").tobytes())
        return {"n": len(self), "sha256": digest.hexdigest()}

    def __repr__(self) -> str:
        return (
            f"ImageData(name={self.name!r}, split={self.split!r}, N={len(self)}, "
            f"n_classes={self.n_classes}, image_shape={self.image_shape})"
        )


class _Spec(NamedTuple):
    cls_name: str  # torchvision.datasets class (imported on first use: torchvision is slow to import)
    folder: str  # its folder under the data root
    kwargs: dict  # extra constructor arguments
    n_classes: int


_SPECS: dict[str, _Spec] = {
    "mnist": _Spec("MNIST", "MNIST", {}, 10),
    "fashion-mnist": _Spec("FashionMNIST", "FashionMNIST", {}, 10),
    "emnist-letters": _Spec("EMNIST", "EMNIST", {"split": "byclass"}, 26),
}


def _dataset_class(spec: _Spec) -> type:
    import torchvision.datasets

    return getattr(torchvision.datasets, spec.cls_name)


def data_root() -> Path:
    """The default torchvision data root: ``$IPBOOK_DATA``, else ``<cache>/ipbook/data``.

    ``<cache>`` is ``$XDG_CACHE_HOME`` if set, else ``~/.cache``. Empty variables count as unset.
    A relative ``$IPBOOK_DATA`` is resolved by :func:`resolve_data_env` first.
    """
    env = resolve_data_env()
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "ipbook" / "data"


def _raw_files(name: str, split: str) -> list[str]:
    """The raw file names torchvision checks before it loads ``name`` (the ``split`` half)."""
    if name == "emnist-letters":
        tag = "train" if split == "train" else "test"
        return [f"emnist-byclass-{tag}-images-idx3-ubyte", f"emnist-byclass-{tag}-labels-idx1-ubyte"]
    # torchvision's MNIST/FashionMNIST check all four files whichever split is asked for
    return [f"{p}-{k}-ubyte" for p in ("train", "t10k") for k in ("images-idx3", "labels-idx1")]


def _not_found(name: str, raw_dir: Path, missing: list[str], reason: str) -> DatasetNotFoundError:
    files = ", ".join(missing[:2]) + (f" and {len(missing) - 2} more" if len(missing) > 2 else "")
    why = (" (the book's EMNIST letters are the lowercase letters of the byclass split, as in the authors' "
           "scripts, not torchvision's 'letters' split, so the byclass files are the ones it reads)"
           if name == "emnist-letters" else "")
    return DatasetNotFoundError(
        f"dataset {name!r} not found: {raw_dir} lacks {files}{why}, and {reason}.\n"
        f"Set IPBOOK_DATA to a folder that holds {raw_dir.parent.name}/raw/{_raw_files(name, 'train')[0]} "
        f"and the other IDX files (uncompressed), or run once with network access to download them."
    )


def _download(spec: _Spec, root: Path, split: str):
    """torchvision's download into ``root``; on failure, the folders it created are removed again
    (looking for data leaves nothing behind) and its messages are dropped."""
    created, folder = [], root / spec.folder / "raw"
    while not folder.exists():
        created.insert(0, folder)
        folder = folder.parent
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter):
            ds = _dataset_class(spec)(root=str(root), train=(split == "train"), download=True, **spec.kwargs)
    except BaseException:
        for folder in reversed(created):
            try:
                folder.rmdir()  # only if empty: a partial download is left for the next try
            except OSError:
                pass
        raise
    print(chatter.getvalue(), end="")
    return ds


def load_dataset(
    name: str,
    split: str = "train",
    *,
    train_fraction: float = 1.0,
    root: str | os.PathLike | None = None,
    download: bool | None = None,
) -> ImageData:
    r"""Load one split of a dataset as flattened float images in :math:`[0, 1]`.

    Args:
        name: one of :data:`DATASET_NAMES` (``"mnist"``, ``"fashion-mnist"``, ``"emnist-letters"``).
        split: ``"train"`` or ``"test"``.
        train_fraction: in :math:`(0, 1]`; for ``split="train"`` only the FIRST
            :math:`\operatorname{round}(\text{fraction} \cdot N)` training images are kept (the
            paper's 10% experiment). It is validated but ignored for ``split="test"``.
        root: torchvision data root; default :func:`data_root`.
        download: ``None``: use the local files if present, otherwise try torchvision's download;
            ``True``: download if missing; ``False``: never download.

    Returns:
        :class:`ImageData` with ``x`` of shape :math:`(N, 784)` float32 and ``y`` of shape
        :math:`(N,)` int64.

    Raises:
        ValueError: unknown ``name`` or ``split``, or ``train_fraction`` outside :math:`(0, 1]`.
        DatasetNotFoundError: the files are missing and could not, or were not allowed to, be
            downloaded.
    """
    if name not in _SPECS:
        raise ValueError(f"unknown dataset {name!r}; valid names are {', '.join(DATASET_NAMES)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; accepted splits are 'train' and 'test'")
    if (
        isinstance(train_fraction, bool)
        or not isinstance(train_fraction, (int, float))
        or not math.isfinite(train_fraction)
        or not 0.0 < train_fraction <= 1.0
    ):
        raise ValueError(f"train_fraction must be a number in (0, 1]; got {train_fraction!r}")
    if download not in (None, True, False):
        raise ValueError(f"download must be None, True or False; got {download!r}")

    spec = _SPECS[name]
    root_path = Path(root).expanduser() if root is not None else data_root()
    raw_dir = root_path / spec.folder / "raw"
    missing = [f for f in _raw_files(name, split) if not (raw_dir / f).is_file()]
    if not missing:
        ds = _dataset_class(spec)(root=str(root_path), train=(split == "train"), download=False,
                                  **spec.kwargs)
    elif download is False:
        raise _not_found(name, raw_dir, missing, "downloading is switched off (download=False)")
    else:
        try:
            ds = _download(spec, root_path, split)
        except Exception as err:  # network errors come as URLError, RuntimeError, OSError, ...
            raise _not_found(name, raw_dir, missing, "they could not be downloaded (no network access?)") from err

    data, targets = ds.data, ds.targets  # uint8 (N, 28, 28), int64 (N,)
    if name == "emnist-letters":
        keep = (targets >= _EMNIST_LOWERCASE.start) & (targets < _EMNIST_LOWERCASE.stop)
        data, targets = data[keep], targets[keep] - _EMNIST_LOWERCASE.start
        if split == "train":
            data, targets = data[:EMNIST_LETTERS_TRAIN_SIZE], targets[:EMNIST_LETTERS_TRAIN_SIZE]
        data = data.transpose(1, 2)  # EMNIST stores images transposed
    if split == "train" and train_fraction != 1.0:
        n = round(train_fraction * data.shape[0])
        if n < 1:
            raise ValueError(
                f"train_fraction={train_fraction} keeps no image of the {data.shape[0]} in {name} train"
            )
        data, targets = data[:n], targets[:n]

    x = data.reshape(data.shape[0], -1).to(torch.float32).div_(255.0)
    y = targets.to(torch.int64).clone()
    return ImageData(
        name=name, split=split, x=x, y=y, n_classes=spec.n_classes,
        image_shape=(int(data.shape[1]), int(data.shape[2])),
    )
