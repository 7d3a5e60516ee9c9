"""The information plane of a recorder's frame (:meth:`InformationPlaneRecorder.to_frame` or
:meth:`InformationPlaneRecorder.load`): one panel per estimator setting, coloured by step, the
ceilings dashed. matplotlib is imported when a plane is drawn, not before."""
from __future__ import annotations

__all__ = ["plot_plane"]

_MARKERS = "osD^v<>pPX*h"


def _panels(frame) -> list[tuple[str, str]]:
    return list(dict.fromkeys(zip(frame.estimator, frame.setting)))


def _ceilings(ax, sub, with_ty: bool) -> None:
    """Dash the ceilings of one panel's rows, and let its axes run from 0 to them: the planes of
    different layers, estimators and runs then read on one scale, and a value at its ceiling shows."""
    top_xt = float(sub.ceiling_xt.max())
    (ax.axvline if with_ty else ax.axhline)(top_xt, color="0.4", ls="--", lw=0.8)
    (ax.set_xlim if with_ty else ax.set_ylim)(0, 1.05 * max(top_xt, float(sub.i_xt.max())))
    if with_ty and "ceiling_ty" in sub and sub.ceiling_ty.notna().any():
        top_ty = float(sub.ceiling_ty.max())
        ax.axhline(top_ty, color="0.4", ls=":", lw=0.8)
        ax.set_ylim(0, 1.05 * max(top_ty, float(sub.i_ty.max())))


def plot_plane(frame, *, axes=None, cmap: str = "viridis", ceilings: bool = True):
    r"""Draw the information plane of a recorder's frame.

    Parameters
    ----------
    frame : DataFrame
        A recorder's rows: ``step, layer, estimator, setting, i_xt`` and, where there are targets,
        ``i_ty`` (else I(X;T) is drawn over the step); ``ceiling_xt`` / ``ceiling_ty`` where present.
    axes : sequence of matplotlib Axes, optional
        One per estimator setting (default: a new figure, one row of panels).
    cmap : str
        The colour map of the steps.
    ceilings : bool
        Dash each panel's ceilings: log2 N on the I(X;T) axis, and on the I(T;Y) axis H(Y) or the
        matrix estimator's S(Y) (the largest over the rows).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per (estimator, setting), a marker per layer, the points coloured by step.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    if len(frame) == 0:
        raise ValueError("the frame has no rows: nothing measured yet")
    panels, with_ty = _panels(frame), "i_ty" in frame and frame.i_ty.notna().any()
    if axes is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.0), squeeze=False, layout="constrained")
        axes = axes[0]
    fig = axes[0].figure
    norm = Normalize(float(frame.step.min()), max(float(frame.step.max()), float(frame.step.min()) + 1))
    layers = list(dict.fromkeys(frame.layer))
    for ax, (est, setting) in zip(axes, panels):
        sub = frame[(frame.estimator == est) & (frame.setting == setting)]
        for k, layer in enumerate(layers):
            f = sub[sub.layer == layer].sort_values("step")
            x, y = (f.i_xt, f.i_ty) if with_ty else (f.step, f.i_xt)
            ax.plot(x, y, color="0.8", lw=0.6, zorder=1)
            sc = ax.scatter(x, y, c=f.step, cmap=cmap, norm=norm, s=12, marker=_MARKERS[k % len(_MARKERS)],
                            label=layer, zorder=2)
        if ceilings and "ceiling_xt" in sub:
            _ceilings(ax, sub, with_ty)
        ax.set_title(f"{est}:{setting}" if setting else est, loc="left", fontsize=9)
        ax.set_xlabel("I(X;T) [bits]" if with_ty else "step")
        ax.set_ylabel("I(T;Y) [bits]" if with_ty else "I(X;T) [bits]")
    axes[0].legend(fontsize=7, frameon=False, title="layer", title_fontsize=7)
    fig.colorbar(sc, ax=list(axes), label="step", fraction=0.03)
    return fig
