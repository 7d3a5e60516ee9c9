"""Settings of the matrix estimator: kernel (bandwidth rule, γ, α) and sample (N, probe split,
draw); :data:`PAPER` is the paper's."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .matrix import RULES

__all__ = ['Setting', 'PAPER']


@dataclass(frozen=True)
class Setting:
    """One estimator setting: bandwidth ``rule`` and its scale ``gamma``, Rényi order ``alpha``,
    ``n`` probe images from the ``probe`` split (``"test"`` or ``"train"``), probe ``draw``."""

    rule: str = "scott"
    gamma: float = 2.0
    alpha: float = 1.01
    n: int = 100
    probe: str = "test"
    draw: int = 0

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"unknown bandwidth rule {self.rule!r}; valid: {', '.join(RULES)}")
        if not (math.isfinite(self.gamma) and self.gamma > 0):
            raise ValueError(f"gamma must be a finite number > 0; got {self.gamma!r}")
        if not (math.isfinite(self.alpha) and self.alpha > 0):
            raise ValueError(f"alpha must be a finite number > 0; got {self.alpha!r}")
        if self.probe not in ("test", "train"):
            raise ValueError(f"probe must be 'test' or 'train'; got {self.probe!r}")
        if not (isinstance(self.n, (int, np.integer)) and self.n >= 2):
            raise ValueError(f"n must be an integer >= 2; got {self.n!r}")
        if not (isinstance(self.draw, (int, np.integer)) and self.draw >= 0):
            raise ValueError(f"draw must be an integer >= 0; got {self.draw!r}")

    @property
    def probe_set(self) -> tuple[str, int, int]:
        """What fixes the probe images: ``(probe, n, draw)``."""
        return self.probe, int(self.n), int(self.draw)

    def label(self) -> str:
        """A short name for tables and figure columns, e.g. ``scott γ=2``, ``α=2``, ``N=500``."""
        parts = [self.rule if self.rule != "scott" else f"scott γ={self.gamma:g}"]
        if self.rule != "scott" and self.gamma != 1:
            parts[0] += f" γ={self.gamma:g}"
        if self.alpha != PAPER.alpha:
            parts.append(f"α={self.alpha:g}")
        if self.n != PAPER.n:
            parts.append(f"N={self.n}")
        if self.probe != PAPER.probe:
            parts.append(f"{self.probe} probe")
        if self.draw:
            parts.append(f"draw {self.draw}")
        return ", ".join(parts)


#: The paper's setting (Appendix A): α = 1.01, Scott's rule with γ = 2, N = 100 test images.
PAPER = Setting()
