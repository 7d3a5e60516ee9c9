"""The probe sets the grids measure a run's checkpoints on: which images (:func:`probe_index`,
nested in N and the same for every run of a seed's draw) and at which checkpoints the extra draws
are taken (:func:`spread_steps`)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

__all__ = ["TRAIN_PROBE_POOL", "probe_index", "spread_steps"]


#: Training images a ``train`` probe is drawn from: the first 6,000, which every run (the 10 % run
#: included) trained on, so that a draw is the same images for every run.
TRAIN_PROBE_POOL = 6000


def probe_index(seed: int, probe: str, n: int, draw: int, n_pool: int) -> torch.Tensor:
    """The sorted indices of a probe set among ``n_pool`` images.

    Draw 0 on the test split is the run's own: the first ``n`` of the permutation the trainer draws
    with seed + 1 (so at N = 100 exactly the online trajectory's probe images, and larger N contain
    them). Other draws, and training-image probes, use a permutation seeded by the draw alone, the
    same for every run and seed.
    """
    if n > n_pool:
        raise ValueError(f"a probe set of n = {n} images needs at least that many; the pool has {n_pool}")
    if probe == "test" and draw == 0:
        gen = torch.Generator().manual_seed(int(seed) + 1)
    else:
        gen = torch.Generator().manual_seed(1_000_003 * (int(draw) + 1) + (probe == "train"))
    return torch.randperm(n_pool, generator=gen)[:n].sort().values


# ----------------------------------------------------------------------------- a whole sweep
def spread_steps(steps: Sequence[int], k: int) -> list[int]:
    """``k`` of a run's checkpoint iterations, evenly spread over the list (first and last kept)."""
    steps = sorted(steps)
    if len(steps) <= k:
        return steps
    return sorted({steps[int(round(i))] for i in np.linspace(0, len(steps) - 1, k)})
