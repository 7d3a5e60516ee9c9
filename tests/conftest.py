"""Shared test setup.

* ``IPBOOK_DATA`` points at the offline data (``../shared/data``) unless it is already set.
* torch runs single-threaded (override with ``IPBOOK_TEST_THREADS``): on a small shared machine the
  intra-op thread pool oversubscribes the cores and makes the tiny test networks up to 50x slower.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("IPBOOK_DATA", str(REPO_ROOT.parent / "shared" / "data"))
torch.set_num_threads(int(os.environ.get("IPBOOK_TEST_THREADS", "1")))


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The torchvision data root the tests read (``$IPBOOK_DATA``)."""
    return Path(os.environ["IPBOOK_DATA"])
