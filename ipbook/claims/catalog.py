"""The paper's claims, each written once: its words on a chapter's claims table, its short name on
the robustness matrix, the paper's panels, and, for the claims about simplifying phases, the rule
that turns the one judge's verdicts (:func:`ipbook.verdicts.judge`) into the claim's status.

Every page, table and matrix that names a claim reads it from :data:`CLAIMS`;
:func:`simplifying_claims` is the only code that decides a claim about simplifying phases.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ipbook.verdicts import all_simplify, amplifies, none_simplify

__all__ = ["ClaimSpec", "CLAIMS", "claim_spec", "claim_by_short", "simplifying_claims"]


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of the paper.

    ``key`` names it in glue keys (``claim_<key>``); ``text`` is its sentence on a chapter's claims
    table; ``short`` its row on the robustness matrix (None for claims the matrix does not test);
    ``figure`` the paper's panel(s). Claims about simplifying phases have a ``rule``: ``"all"``
    (every layer of ``layers`` simplifies), ``"none"`` (no layer of ``layers`` simplifies; None
    means every layer of ``run``) or ``"amplifies"`` (``run``'s Z simplifies, more than
    ``versus``'s Z). ``chapters`` are the book's pages (notebook names) whose figures show it.
    """

    key: str
    text: str
    short: str | None
    figure: str
    rule: str | None = None
    run: str | None = None
    layers: tuple[str, ...] | None = None
    versus: str | None = None
    chapters: tuple[str, ...] = ()


#: Every claim, in the paper's order (the order of a chapter's claims table).
CLAIMS: tuple[ClaimSpec, ...] = (
    ClaimSpec("shallow_simp", "The shallow AE has a simplifying phase", "Shallow AE simplifies (Z)", "1d",
              "all", "shallow", ("Z",), chapters=('fig1_shallow',)),
    ClaimSpec("shallow_diag", "The shallow AE ends on the diagonal", None, "1d"),
    ClaimSpec("deep_inner", "The deep AE simplifies in E2, Z and D1", "Deep AE simplifies in E2, Z, D1", "2d",
              "all", "deep", ("E2", "Z", "D1"), chapters=('fig2_deep',)),
    ClaimSpec("deep_outer", "… but not in E1 and D2", "… not in E1, D2", "2d", "none", "deep", ("E1", "D2"), chapters=('fig2_deep',)),
    ClaimSpec("ten_none", "The deep AE on 10 % of the data has no simplifying phase", "None in the 10 % run",
              "2g", "none", "deep-10pct", chapters=('fig2_deep',)),
    ClaimSpec("ten_gen", "The 10 % run does not generalize, the full run does", None, "2b, 2e"),
    ClaimSpec("dpi", "The deep and label AEs satisfy the DPI", "DPI holds (deep, 10 %, label)", "2c, 2f, 4e", chapters=('fig2_deep', 'summary')),
    ClaimSpec("sparse_simp", "The sparse AE has a simplifying phase", "Sparse AE simplifies (Z)", "3b",
              "all", "sparse", ("Z",), chapters=('fig3_sparse_tied', 'controls')),
    ClaimSpec("sparse_amp", "Sparsity amplifies the simplifying phase", "Sparsity amplifies it (vs shallow)",
              "3b", "amplifies", "sparse", ("Z",), versus="shallow", chapters=('fig3_sparse_tied', 'controls')),
    ClaimSpec("tied_none", "The tied AE has no simplifying phase", "None in the tied AE", "3d",
              "none", "tied", ("Z",), chapters=('fig3_sparse_tied',)),
    ClaimSpec("tied_loss", "The tied AE learns slightly less accurately", None, "3c"),
    ClaimSpec("vae_z", "The VAE's I(X;Z) stays at log2 100 ≈ 6.6 bits", None, "4b"),
    ClaimSpec("vae_dpi", "In the VAE only the bottleneck breaks the DPI", None, "4b"),
    ClaimSpec("vae_none", "The VAE has no simplifying phase", "None in the VAE", "4c", "none", "vae", chapters=('fig4_vae_label',)),
    ClaimSpec("lae_orth", "Label AE: input information rises before output information", None, "4f"),
    ClaimSpec("lae_none", "The label AE has no simplifying phase", "None in the label AE", "4f", "none", "label", chapters=('fig4_vae_label',)),
    ClaimSpec("gen", "Every model trained on the full data generalizes", None, "1c, 2b, 3a, 3c, 4a, 4d"),
    ClaimSpec("below_diag", "Every trajectory stays below the diagonal, I(X;T) ≥ I(T;X′)", None, "Sec. II"),
)
_BY_KEY = {c.key: c for c in CLAIMS}


def claim_spec(key: str) -> ClaimSpec:
    """The claim named ``key``; KeyError naming the known keys otherwise."""
    if key not in _BY_KEY:
        raise KeyError(f"unknown claim {key!r}; known: {', '.join(_BY_KEY)}")
    return _BY_KEY[key]


def claim_by_short(short: str) -> ClaimSpec:
    """The claim whose robustness-matrix row is ``short``; KeyError naming the rows otherwise."""
    found = [c for c in CLAIMS if c.short == short]
    if not found:
        raise KeyError(f"no claim with the row {short!r}; rows: {', '.join(c.short for c in CLAIMS if c.short)}")
    return found[0]


def simplifying_claims(verdicts: Mapping[tuple[str, str], str], size: Mapping[tuple[str, str], float],
                       keys=None) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """The status of each claim about simplifying phases whose runs are present.

    Parameters
    ----------
    verdicts : {(run, layer): verdict}
        The one judge's verdict on each layer (:data:`ipbook.verdicts.VERDICTS`).
    size : {(run, layer): float}
        The size of each layer's fall that ``"amplifies"`` compares (bits on one run's
        trajectories; the fraction of the peak on a grid, where N, and so the ceiling, differs).
    keys : iterable of str, optional
        The claims to decide (default: every claim with a rule).

    Returns
    -------
    dict
        ``{key: (status, [(run, layer), ...] it rests on)}``, status one of
        :data:`ipbook.verdicts.CLAIM_STATUSES`.
    """
    runs = {r for r, _ in verdicts}
    out = {}
    for c in (claim_spec(k) for k in keys) if keys is not None else CLAIMS:
        if c.rule is None or c.run not in runs or (c.versus is not None and c.versus not in runs):
            continue
        layers = c.layers if c.layers is not None else [l for (r, l) in verdicts if r == c.run]
        rests = [(c.run, l) for l in layers]
        if c.rule == "amplifies":
            mine, other = (c.run, "Z"), (c.versus, "Z")
            out[c.key] = (amplifies(verdicts[mine], verdicts[other], size[mine] > size[other]), [mine, other])
        else:
            decide = all_simplify if c.rule == "all" else none_simplify
            out[c.key] = (decide(verdicts[x] for x in rests), rests)
    return out
