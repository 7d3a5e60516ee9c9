"""Tests of ipbook.nets.data: sizes read from the files, pixel values, fractions, errors, EMNIST letters."""
from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from ipbook.nets import data as D
from ipbook.nets.data import DATASET_NAMES, DatasetNotFoundError, ImageData, data_root, load_dataset


# ----------------------------------------------------------------------------------- helpers
def idx_count(path: Path) -> int:
    """Number of items from the header of an IDX file."""
    with open(path, "rb") as f:
        return struct.unpack(">II", f.read(8))[1]


def idx_images(path: Path, n: int | None = None) -> np.ndarray:
    """The first n images of an IDX3 file as uint8 (n, rows, cols), read with numpy."""
    with open(path, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 0x803
        n = count if n is None else n
        return np.frombuffer(f.read(n * rows * cols), dtype=np.uint8).reshape(n, rows, cols)


def idx_labels(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        magic, count = struct.unpack(">II", f.read(8))
        assert magic == 0x801
        return np.frombuffer(f.read(count), dtype=np.uint8)


def write_idx_images(path: Path, images: np.ndarray) -> None:
    images = np.asarray(images, dtype=np.uint8)
    path.write_bytes(struct.pack(">IIII", 0x803, *images.shape) + images.tobytes())


def write_idx_labels(path: Path, labels) -> None:
    labels = np.asarray(labels, dtype=np.uint8)
    path.write_bytes(struct.pack(">II", 0x801, len(labels)) + labels.tobytes())


@pytest.fixture(scope="module")
def mnist_train():
    return load_dataset("mnist", "train")


# ------------------------------------------------------------------------ offline MNIST/Fashion
@pytest.mark.parametrize(
    "name, folder, split, prefix",
    [
        ("mnist", "MNIST", "train", "train"),
        ("mnist", "MNIST", "test", "t10k"),
        ("fashion-mnist", "FashionMNIST", "train", "train"),
        ("fashion-mnist", "FashionMNIST", "test", "t10k"),
    ],
)
def test_sizes_values_and_pixels(data_root, name, folder, split, prefix):
    raw = data_root / folder / "raw"
    ds = load_dataset(name, split)
    n_file = idx_count(raw / f"{prefix}-images-idx3-ubyte")  # sizes come from the files
    assert len(ds) == n_file == idx_count(raw / f"{prefix}-labels-idx1-ubyte")
    assert (ds.name, ds.split, ds.n_classes, ds.image_shape) == (name, split, 10, (28, 28))
    assert ds.x.shape == (n_file, 784) and ds.x.dtype == torch.float32
    assert ds.y.shape == (n_file,) and ds.y.dtype == torch.int64
    assert float(ds.x.min()) == 0.0 and float(ds.x.max()) == 1.0
    assert sorted(ds.y.unique().tolist()) == list(range(10))
    # pixel values are exactly byte / 255, flattened row-major, labels as in the file
    first = idx_images(raw / f"{prefix}-images-idx3-ubyte", 3)
    np.testing.assert_array_equal(ds.x[:3].numpy(), (first.reshape(3, 784) / np.float32(255)).astype(np.float32))
    np.testing.assert_array_equal(ds.y.numpy(), idx_labels(raw / f"{prefix}-labels-idx1-ubyte"))
    assert ds.images().shape == (n_file, 28, 28)
    # mean pixel is a sensible grey level (MNIST about 0.13, Fashion about 0.29)
    assert 0.1 < float(ds.x.mean()) < 0.35


def test_official_sizes(data_root):
    # The offline copy is the full official release (../shared/data/README.md).
    assert idx_count(data_root / "MNIST" / "raw" / "train-images-idx3-ubyte") == 60_000
    assert idx_count(data_root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte") == 60_000


def test_mnist_official_class_counts(mnist_train):
    counts = torch.bincount(mnist_train.y, minlength=10).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_train_fraction_takes_the_first_images(mnist_train):
    part = load_dataset("mnist", "train", train_fraction=0.1)
    n = round(0.1 * len(mnist_train))
    assert len(part) == n == 6_000  # the paper's 10 % run
    assert torch.equal(part.x, mnist_train.x[:n]) and torch.equal(part.y, mnist_train.y[:n])
    assert len(load_dataset("mnist", "train", train_fraction=1.0)) == len(mnist_train)
    tiny = load_dataset("mnist", "train", train_fraction=0.0123)
    assert len(tiny) == round(0.0123 * len(mnist_train)) == 738


def test_fingerprint_is_size_and_sha256_of_pixels_then_labels(data_root):
    import hashlib

    ds = load_dataset("mnist", "test")
    raw = data_root / "MNIST" / "raw"
    expected = hashlib.sha256()
    expected.update(idx_images(raw / "t10k-images-idx3-ubyte").tobytes())
    expected.update(idx_labels(raw / "t10k-labels-idx1-ubyte").astype("<i8").tobytes())
    assert ds.fingerprint() == {"n": 10_000, "sha256": expected.hexdigest()}
    # a subset, another order or other labels give another fingerprint
    part = load_dataset("mnist", "train", train_fraction=0.1)
    assert part.fingerprint()["n"] == 6_000
    assert part.fingerprint() != load_dataset("mnist", "train", train_fraction=0.2).fingerprint()
    swapped = dataclasses.replace(ds, y=ds.y.flip(0))
    assert swapped.fingerprint()["sha256"] != ds.fingerprint()["sha256"]


def test_train_fraction_fashion_matches_file_head(data_root):
    part = load_dataset("fashion-mnist", "train", train_fraction=0.1)
    assert len(part) == 6_000
    head = idx_images(data_root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte", 6_000)
    np.testing.assert_array_equal((part.x.numpy() * 255).round().astype(np.uint8), head.reshape(6_000, 784))


def test_train_fraction_ignored_for_test_split():
    assert len(load_dataset("mnist", "test", train_fraction=0.1)) == 10_000


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, float("nan"), True, "0.1", None])
def test_bad_fraction(bad):
    with pytest.raises(ValueError, match=r"train_fraction must be a number in \(0, 1\]"):
        load_dataset("mnist", "train", train_fraction=bad)


def test_fraction_keeping_nothing():
    with pytest.raises(ValueError, match="keeps no image"):
        load_dataset("mnist", "train", train_fraction=1e-6)


def test_bad_split():
    with pytest.raises(ValueError, match="'train' and 'test'"):
        load_dataset("mnist", "valid")


def test_unknown_name():
    with pytest.raises(ValueError) as err:
        load_dataset("cifar10")
    assert "cifar10" in str(err.value)
    for n in DATASET_NAMES:
        assert n in str(err.value)


def test_bad_download_flag():
    with pytest.raises(ValueError, match="download"):
        load_dataset("mnist", download="yes")


@pytest.mark.parametrize(
    "name, folder, example",
    [
        ("mnist", "MNIST", "train-images-idx3-ubyte"),
        ("fashion-mnist", "FashionMNIST", "train-images-idx3-ubyte"),
        ("emnist-letters", "EMNIST", "emnist-byclass-train-images-idx3-ubyte"),
    ],
)
def test_missing_data_offline(tmp_path, name, folder, example):
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset(name, "train", root=tmp_path, download=False)
    msg = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    assert repr(name) in msg
    assert str(tmp_path / folder / "raw") in msg
    assert "IPBOOK_DATA" in msg and f"{folder}/raw/{example}" in msg and "network" in msg
    assert msg.count("\n") == 1
    assert ("lowercase letters of the byclass split" in msg) == (name == "emnist-letters")   # why byclass files
    assert list(tmp_path.iterdir()) == []  # nothing was created, nothing was downloaded


def test_default_root_is_ipbook_data(tmp_path, monkeypatch):
    monkeypatch.setenv("IPBOOK_DATA", str(tmp_path / "elsewhere"))
    assert data_root() == tmp_path / "elsewhere"
    with pytest.raises(DatasetNotFoundError, match=str(tmp_path / "elsewhere" / "MNIST" / "raw")):
        load_dataset("mnist", download=False)


def test_data_root_cache_fallbacks(tmp_path, monkeypatch):
    monkeypatch.delenv("IPBOOK_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_root() == tmp_path / "xdg" / "ipbook" / "data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_root() == tmp_path / "home" / ".cache" / "ipbook" / "data"
    monkeypatch.setenv("IPBOOK_DATA", "")  # empty counts as unset
    assert data_root() == tmp_path / "home" / ".cache" / "ipbook" / "data"


def test_image_data_is_frozen(mnist_train):
    with pytest.raises(dataclasses.FrozenInstanceError):
        mnist_train.n_classes = 3
    d = ImageData("x", "train", torch.zeros(4, 784), torch.zeros(4, dtype=torch.int64), 10)
    assert len(d) == 4 and d.image_shape == (28, 28)
    assert "N=4" in repr(d)


# ----------------------------------------------------------------------------- EMNIST letters
# byclass targets: 0-9 digits, 10-35 'A'-'Z', 36-61 'a'-'z'
TRAIN_TARGETS = [3, 36, 10, 61, 40, 35, 37, 0, 50]  # lowercase: a(36) z(61) e(40) b(37) o(50)
TEST_TARGETS = [45, 12, 36, 9, 60]  # lowercase: j(45) a(36) y(60)


@pytest.fixture
def emnist_root(tmp_path):
    """A torchvision root holding tiny emnist-byclass IDX files; images stored TRANSPOSED as in EMNIST."""
    raw = tmp_path / "EMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    upright = {}
    for tag, targets in (("train", TRAIN_TARGETS), ("test", TEST_TARGETS)):
        imgs = rng.integers(0, 256, size=(len(targets), 28, 28), dtype=np.uint8)
        imgs[0] = 0
        imgs[0, 2, 5:20] = 255  # image 0: a bar in UPRIGHT row 2, columns 5..19
        upright[tag] = imgs
        write_idx_images(raw / f"emnist-byclass-{tag}-images-idx3-ubyte", imgs.transpose(0, 2, 1))
        write_idx_labels(raw / f"emnist-byclass-{tag}-labels-idx1-ubyte", targets)
    return tmp_path, upright


def test_emnist_letters_lowercase_relabelled_upright(emnist_root):
    root, upright = emnist_root
    for split, targets in (("train", TRAIN_TARGETS), ("test", TEST_TARGETS)):
        ds = load_dataset("emnist-letters", split, root=root, download=False)
        keep = [i for i, t in enumerate(targets) if 36 <= t <= 61]
        assert len(ds) == len(keep) and ds.n_classes == 26
        assert ds.y.dtype == torch.int64 and ds.x.dtype == torch.float32
        assert ds.y.tolist() == [targets[i] - 36 for i in keep]
        expected = upright[split][keep].reshape(len(keep), 784).astype(np.float32) / np.float32(255)
        np.testing.assert_array_equal(ds.x.numpy(), expected)
    train = load_dataset("emnist-letters", "train", root=root, download=False)
    assert train.y.tolist() == [0, 25, 4, 1, 14]  # a z e b o
    test = load_dataset("emnist-letters", "test", root=root, download=False)
    assert test.y.tolist() == [9, 0, 24]  # j a y
    # test image 0 (a 'j') was drawn with a horizontal bar in upright row 2
    img = test.images()[0]
    assert torch.all(img[2, 5:20] == 1.0) and float(img.sum()) == 15.0


def test_emnist_orientation(tmp_path):
    raw = tmp_path / "EMNIST" / "raw"
    raw.mkdir(parents=True)
    stored = np.zeros((2, 28, 28), dtype=np.uint8)
    stored[0, 5:20, 2] = 255  # stored transposed: column 2 in the file = row 2 upright
    stored[0, 0, 27] = 7  # upright (27, 0): bottom-left corner
    for tag in ("train", "test"):
        write_idx_images(raw / f"emnist-byclass-{tag}-images-idx3-ubyte", stored)
        write_idx_labels(raw / f"emnist-byclass-{tag}-labels-idx1-ubyte", [36, 5])
    ds = load_dataset("emnist-letters", "train", root=tmp_path, download=False)
    assert len(ds) == 1 and ds.y.tolist() == [0]
    img = ds.images()[0]
    assert torch.all(img[2, 5:20] == 1.0) and float(img.sum()) == pytest.approx(15 + 7 / 255)
    assert float(img[27, 0]) == pytest.approx(7 / 255) and float(img[0, 27]) == 0.0
    assert float(ds.x[0, 27 * 28]) == pytest.approx(7 / 255)  # row-major flattening


def test_emnist_train_cap_and_fraction(emnist_root, monkeypatch):
    root, _ = emnist_root
    monkeypatch.setattr(D, "EMNIST_LETTERS_TRAIN_SIZE", 3)
    ds = load_dataset("emnist-letters", "train", root=root, download=False)
    assert ds.y.tolist() == [0, 25, 4]  # the FIRST 3 lowercase images
    assert len(load_dataset("emnist-letters", "test", root=root, download=False)) == 3  # test is not capped
    half = load_dataset("emnist-letters", "train", root=root, download=False, train_fraction=0.5)
    assert half.y.tolist() == [0, 25]  # round(0.5 * 3) = 2 (banker's rounding)
    assert D.EMNIST_LETTERS_TRAIN_SIZE == 3
    monkeypatch.undo()
    assert D.EMNIST_LETTERS_TRAIN_SIZE == 160_000


# ------------------------------------------------------------------ where the data are looked for
@pytest.mark.slow
def test_relative_ipbook_data_is_resolved_where_it_was_given(tmp_path):
    """The README's `export IPBOOK_DATA=../shared/data`, then a process that starts elsewhere (a
    notebook kernel runs in book/): the path means the shell's directory ($PWD), not book/."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    probe = "import os, ipbook; print(os.environ['IPBOOK_DATA'])"
    env = {**os.environ, "IPBOOK_DATA": "../shared/data", "PWD": str(repo)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=repo / "book", env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == str(repo.parent / "shared" / "data")
    env.pop("PWD")  # without $PWD: the current directory
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == str(tmp_path.parent / "shared" / "data")


def test_a_failed_download_leaves_no_folders_and_a_short_message(tmp_path, monkeypatch):
    from urllib.error import URLError

    class Offline:  # what torchvision does offline: make its folders, then fail to download
        def __init__(self, root, train, download, **kwargs):
            (Path(root) / "MNIST" / "raw").mkdir(parents=True)
            print("Downloading http://yann.lecun.com/exdb/mnist/ ... Failed to download (trying next)")
            raise URLError("Name or service not known")

    monkeypatch.setattr(D, "_dataset_class", lambda spec: Offline)
    root = tmp_path / "nonexistent" / "data"
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("mnist", "train", root=root)
    assert list(tmp_path.iterdir()) == []            # looking for data created nothing
    msg = str(err.value)
    assert msg.count("\n") == 1                      # two lines: what is missing, how to provide it
    assert str(root / "MNIST" / "raw") in msg and "IPBOOK_DATA" in msg and "network" in msg
    assert "download=" not in msg and "Failed to download" not in msg
