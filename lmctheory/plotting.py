"""Plot helpers shared by the CLI and the figure scripts (one style for all figures).

Figures are :class:`matplotlib.figure.Figure` objects made without pyplot, so drawing them
neither selects a backend nor opens a window nor touches the caller's pyplot state, and the style
applies only inside :func:`style_context` (``matplotlib.rc_context``): the caller's rcParams and
backend are left as they were.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from .utils.optional import require

STYLE = {
    "figure.figsize": (5.0, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 9,
    "legend.fontsize": 8,
    "legend.frameon": False,
}


@contextlib.contextmanager
def style_context(colors=None):
    """The shared style (``STYLE``, and a colour cycle when ``colors`` is given) for the block only.

    Parameters
    ----------
    colors : sequence of colours, optional
        The colour cycle.

    Returns
    -------
    context manager
        Use it in a ``with`` statement.

    Raises
    ------
    ImportError
        matplotlib is missing (install ``lmctheory[figures]``).

    Examples
    --------
    >>> import matplotlib
    >>> from lmctheory.plotting import STYLE, style_context
    >>> with style_context(["black"]):
    ...     matplotlib.rcParams["legend.fontsize"] == STYLE["legend.fontsize"]
    True
    """
    matplotlib = require("matplotlib", "drawing figures")
    from cycler import cycler  # installed with matplotlib

    style = dict(STYLE)
    if colors:
        style["axes.prop_cycle"] = cycler(color=list(colors))
    with matplotlib.rc_context(style):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize=None, **subplot_kw):
    """``(figure, axes)`` without pyplot: a :class:`~matplotlib.figure.Figure` and its axes grid
    (always 2-D). Draw inside :func:`style_context` for the shared style.

    Parameters
    ----------
    nrows, ncols : int, default 1
        Grid of axes.
    figsize : tuple, optional
        Size in inches.
    **subplot_kw
        Passed to ``Figure.subplots``.

    Returns
    -------
    tuple
        The figure and a 2-D array of axes.

    Raises
    ------
    ImportError
        matplotlib is missing (install ``lmctheory[figures]``).

    Examples
    --------
    >>> from lmctheory.plotting import new_figure
    >>> fig, axes = new_figure(1, 2)
    >>> axes.shape
    (1, 2)
    """
    Figure = require("matplotlib.figure", "drawing figures").Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)


def save_figure(fig, path) -> list[Path]:
    """Save ``fig`` to ``path`` (PNG at 200 dpi) and a PDF beside it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or Path
        Destination (parent directories are created); a ``.pdf`` path writes the PDF only.

    Returns
    -------
    list of Path
        Both paths.

    Raises
    ------
    OSError
        The directory is not writable.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from lmctheory.plotting import new_figure, save_figure
    >>> fig, axes = new_figure()
    >>> [p.suffix for p in save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "f.png")]
    ['.png', '.pdf']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [path]
    fig.savefig(path, bbox_inches="tight")
    if path.suffix.lower() != ".pdf":
        pdf = path.with_suffix(".pdf")
        fig.savefig(pdf, bbox_inches="tight")
        out.append(pdf)
    return out


def plot_rate_curve(curve, fit, *, predicted_slope: float, bound=None, title: str | None = None):
    r"""Log-log plot of mean :math:`W_p` ± std against N, the fitted line, the predicted slope (anchored
    at the first point) and, when given, the explicit bound on :math:`\mathbb{E}\,W_p`.

    Parameters
    ----------
    curve : RateCurve
        From :func:`lmctheory.rates.rate_curve`.
    fit : RateFit
        Its fit.
    predicted_slope : float
        The theory's slope (:func:`lmctheory.rates.predicted_slope`).
    bound : array_like, optional
        The explicit bound at ``curve.ns``.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ImportError
        matplotlib is missing (install ``lmctheory[figures]``).

    Examples
    --------
    >>> from lmctheory.rates import UniformCube
    >>> from lmctheory.plotting import plot_rate_curve
    >>> from lmctheory.rates import rate_curve
    >>> curve = rate_curve(UniformCube(3), [16, 32, 64], reps=2)
    >>> fig = plot_rate_curve(curve, curve.fit(), predicted_slope=-1 / 3)
    >>> len(fig.axes)
    1
    """
    with style_context():
        fig, axes = new_figure()
        ax = axes[0, 0]
        ns, mean, std = curve.ns, curve.mean, curve.std
        kind = "two-sample" if curve.two_sample else "one-sample"
        ax.errorbar(
            ns, mean, yerr=std, fmt="o", ms=4, capsize=2, label=f"mean $W_{{{curve.p:g}}}$ ± std ({kind})"
        )
        ax.plot(
            ns,
            fit.predict(ns),
            "-",
            lw=1.2,
            label=f"fit: slope {fit.slope:.3f} [{fit.ci_low:.3f}, {fit.ci_high:.3f}]",
        )
        anchor = mean[0] * (ns / ns[0]) ** predicted_slope
        ax.plot(ns, anchor, "--", lw=1.2, label=f"predicted slope {predicted_slope:.3f}")
        if bound is not None:
            ax.plot(ns, bound, ":", lw=1.2, label="explicit bound on $E\\,W_p$ (Jensen)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("sample size N (points per cloud)")
        ax.set_ylabel(f"$W_{{{curve.p:g}}}$ (distance, not p-th power)")
        if title:
            ax.set_title(title)
        ax.legend()
        fig.tight_layout()
    return fig


__all__ = ["STYLE", "style_context", "new_figure", "save_figure", "plot_rate_curve"]
