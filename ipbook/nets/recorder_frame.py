"""The recorder's rows as a table: their columns, the ``saturated`` flags, and an exact CSV round trip.

A row is one step, layer and estimator:

===============  ====================================================================================
``step``         the step it was measured at (int)
``layer``        the layer's name (str)
``estimator``    the estimator's family: ``matrix``, ``noisy-upper``, ``noisy-lower``, ``binning``
``setting``      its setting (the spec's text after ``:``; ``""`` for the paper's matrix setting)
``i_xt``         I(X;T) in bits
``i_ty``         I(T;Y) in bits (with targets only)
``n``            N, the probes
``width``        the layer's width d (its output flattened per probe)
``sigma``        the matrix estimator's kernel width σ of the layer (NaN for the other families)
``ceiling_xt``   the largest I(X;T) the estimator can give: log2 N
``ceiling_ty``   the largest I(T;Y): with class labels H(Y) (noisy bounds, binning) and the matrix
                 estimator's S(Y), the Rényi entropy of the targets' Gram matrix at the setting's
                 kernel width, which lies below H(Y); with other targets S(Y) (with targets only)
``saturated``    I(X;T) within the book's margin of its ceiling (see :func:`at_ceiling`)
``saturated_ty`` the same for I(T;Y) (with targets only)
===============  ====================================================================================
"""
from __future__ import annotations

import csv
import math

__all__ = [
    "COLUMNS",
    "MARGIN_BITS",
    "MARGIN_FRAC",
    "TARGET_COLUMNS",
    "at_ceiling",
    "load_frame",
    "rows_frame",
    "save_frame",
]

#: Every column, in order; :data:`TARGET_COLUMNS` are dropped when there are no targets.
COLUMNS = ("step", "layer", "estimator", "setting", "i_xt", "i_ty", "n", "width", "sigma", "ceiling_xt",
           "ceiling_ty", "saturated", "saturated_ty")
TARGET_COLUMNS = ("i_ty", "ceiling_ty", "saturated_ty")
_DTYPES = {"step": "int64", "layer": str, "estimator": str, "setting": str, "i_xt": "float64", "i_ty": "float64",
           "n": "int64", "width": "int64", "sigma": "float64", "ceiling_xt": "float64", "ceiling_ty": "float64",
           "saturated": bool, "saturated_ty": bool}

#: The book's margin (:data:`ipbook.verdicts.MARGIN_BITS`, :data:`ipbook.verdicts.MARGIN_FRAC`):
#: the smallest change that matters is max(0.1 bit, 5 % of the value).
MARGIN_BITS, MARGIN_FRAC = 0.1, 0.05


def at_ceiling(value: float, ceiling: float | None) -> bool:
    """Whether ``value`` (bits) lies within the book's margin of its ``ceiling``: value >= ceiling −
    max(0.1 bit, 5 % of the value), the test by which :func:`ipbook.verdicts.judge` finds a
    trajectory pinned. NaN values and missing ceilings are not saturated."""
    if ceiling is None or not (math.isfinite(value) and math.isfinite(ceiling)):
        return False
    return bool(value >= ceiling - max(MARGIN_BITS, MARGIN_FRAC * value))


def rows_frame(rows: list[tuple], with_targets: bool):
    """The rows (tuples in :data:`COLUMNS` order) as a DataFrame with the columns' dtypes."""
    import pandas as pd
    frame = pd.DataFrame(rows, columns=list(COLUMNS)).astype(_DTYPES)
    return frame if with_targets else frame.drop(columns=list(TARGET_COLUMNS))


def save_frame(frame, path) -> None:
    """Write a recorder's frame to ``path`` as CSV, every float as its exact repr (read it back
    with :func:`load_frame`, or ``pandas.read_csv``)."""
    frame.to_csv(path, index=False, na_rep="nan", quoting=csv.QUOTE_NONNUMERIC,
                 float_format=lambda v: repr(float(v)))


def load_frame(path):
    """The frame :func:`save_frame` wrote, equal to it (values, dtypes, ``""`` settings and layer
    names that look like numbers kept)."""
    import pandas as pd
    header = pd.read_csv(path, nrows=0).columns.tolist()
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        raise ValueError(f"{path} is not a recorder's frame: unknown column(s) {unknown}")
    floats = [c for c in header if _DTYPES[c] == "float64"]
    exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}   # pandas 3: the default
    frame = pd.read_csv(path, dtype={c: (object if _DTYPES[c] in (str, bool) else _DTYPES[c]) for c in header},
                        keep_default_na=False, na_values={c: ["nan"] for c in floats}, **exact)
    for c in header:
        if _DTYPES[c] is bool:
            frame[c] = frame[c].map({"True": True, "False": False, True: True, False: False}).astype(bool)
        elif _DTYPES[c] is str:
            frame[c] = frame[c].astype(str)
    return frame[[c for c in COLUMNS if c in header]].astype({c: _DTYPES[c] for c in header})

