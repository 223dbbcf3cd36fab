r"""Figures that several notebooks draw. Each function returns the matplotlib Figure/Axes it drew on and
never calls ``plt.show()``: the notebook decides when to show a figure.

Figures take their size from the course style (``ll.course.setup``: 7 x 4 inches, for slides).

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import lessonlib as ll
>>> ax = bias_correction_curves(betas=(0.9,), t_max=50)
>>> ax.get_legend_handles_labels()[1]
['$\\beta = 0.9$']
>>> plt.close("all")
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.course.objectives import Objective
from lessonlib.optim.ema import EMA, effective_window, ema_weight_sum


def _axes(ax=None, **subplots_kw):
    if ax is not None:
        return ax.figure, ax
    return plt.subplots(**subplots_kw)


def ema_lines(x, beta):
    r"""The raw EMA :math:`a_t` and the bias-corrected :math:`\hat a_t = a_t / (1-\beta^t)` of ``x``.

    >>> raw, corrected = ema_lines([4.0, 4.0, 4.0], beta=0.5)
    >>> raw.tolist(), corrected.tolist()
    ([2.0, 3.0, 3.5], [4.0, 4.0, 4.0])
    """
    avg, raw, corrected = EMA(beta), [], []
    for xt in x:
        raw.append(avg.update(float(xt)))
        corrected.append(avg.corrected)
    return np.array(raw), np.array(corrected)


def ema_signal(x, betas=(0.5, 0.9, 0.98), *, corrected=True, raw=True, ax=None):
    r"""A noisy signal ``x`` (dots) with its EMA for each :math:`\beta`: raw dashed, bias-corrected solid.

    Returns ``(fig, ax)``.
    """
    fig, ax = _axes(ax)
    t = np.arange(1, len(x) + 1)
    ax.plot(t, x, ".", color="0.6", markersize=4, label="signal $x_t$")
    for i, beta in enumerate(betas):
        a, a_hat = ema_lines(x, beta)
        color = f"C{i}"
        window = f"window {effective_window(beta):.0f}"
        if raw:
            ax.plot(t, a, "--", color=color, lw=1.3, label=rf"raw $a_t$, $\beta={beta:g}$ ({window})")
        if corrected:
            ax.plot(t, a_hat, "-", color=color, lw=1.8, label=rf"corrected $\hat a_t$, $\beta={beta:g}$")
    low, high = min(0.0, float(np.min(x))), float(np.max(x))
    ax.set_ylim(low - 0.05 * (high - low), high + 0.45 * (high - low))  # room for the legend above the data
    ax.set_xlabel("step $t$")
    ax.set_ylabel("value")
    ax.legend(fontsize=8, ncol=2 if len(betas) > 1 else 1, loc="upper left")
    return fig, ax


def bias_correction_curves(betas=(0.9, 0.999), t_max: int = 5000, *, ax=None):
    r""":math:`1 - \beta^t` (the sum of the EMA's weights) against :math:`t`, on a log axis; returns ``ax``.

    A dotted line marks each :math:`\beta`'s effective window :math:`1/(1-\beta)`.
    """
    _, ax = _axes(ax)
    t = np.arange(1, t_max + 1)
    for i, beta in enumerate(betas):
        ax.plot(t, ema_weight_sum(beta, t), color=f"C{i}", label=rf"$\beta = {beta:g}$")
        ax.axvline(effective_window(beta), color=f"C{i}", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("step $t$ (log scale); dotted: $1/(1-\\beta)$")
    ax.set_ylabel(r"$1 - \beta^t$")
    ax.legend(loc="upper left")
    return ax


def contours(objective: Objective, *, ax=None, n: int = 200, levels: int = 25):
    """Contour lines of ``objective`` over its box, its minimum marked with a star; returns ``ax``."""
    _, ax = _axes(ax)
    x = np.linspace(*objective.xlim, n)
    y = np.linspace(*objective.ylim, n)
    grid = np.array(np.meshgrid(x, y))
    z = objective.value(grid)
    if objective.log_levels:
        lv = np.logspace(np.log10(max(z.min(), 1e-3)), np.log10(z.max()), levels)
    else:
        lv = np.linspace(0, z.max(), levels) ** 2 / z.max()  # denser near the minimum
    ax.contour(x, y, z, levels=lv, colors="0.75", linewidths=0.8)
    ax.plot(*objective.minimum, "*", color="k", markersize=12, label="minimum")
    ax.set_xlim(*objective.xlim)
    ax.set_ylim(*objective.ylim)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    ax.grid(False)
    return ax


def trajectories(objective: Objective, runs: dict, *, ax=None, markers: bool = True):
    """Each run's path (``{label: Trajectory}``) on the contours of ``objective``; returns ``ax``."""
    _, ax = _axes(ax)
    contours(objective, ax=ax)
    for i, (label, tr) in enumerate(runs.items()):
        suffix = " (diverged)" if tr.diverged else ""
        ax.plot(tr.path[:, 0], tr.path[:, 1], "-", color=f"C{i}", lw=1.4, label=label + suffix)
        if markers:
            ax.plot(tr.path[:, 0], tr.path[:, 1], ".", color=f"C{i}", markersize=3)
    start = next(iter(runs.values())).path[0] if runs else None
    if start is not None:
        ax.plot(*start, "o", color="k", markersize=6, label="start")
    ax.legend(fontsize=8, loc="best")
    ax.set_title(objective.formula, fontsize=10)
    return ax


def losses(runs: dict, *, ax=None, floor: float = 1e-12):
    """Loss against step for each run (``{label: Trajectory}``), log scale; returns ``ax``."""
    _, ax = _axes(ax)
    for i, (label, tr) in enumerate(runs.items()):
        ax.semilogy(np.maximum(tr.losses, floor), color=f"C{i}", label=label)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"loss $f(\theta_t)$")
    ax.legend(fontsize=8)
    return ax


def comparison(objective: Objective, runs: dict, *, figsize=(10.0, 4.0)):
    """Paths on the contours (left) and losses (right) for ``{label: Trajectory}``; returns ``(fig, axes)``."""
    fig, axes = plt.subplots(1, 2, figsize=figsize, width_ratios=(1.15, 1.0))
    trajectories(objective, runs, ax=axes[0])
    losses(runs, ax=axes[1])
    fig.tight_layout()
    return fig, axes


#: The course as a graph: (label, x, y) per box, and the arrows "what builds on what".
COURSE_MAP = {
    "sgd": ("gradient descent\n(what you know)", 0.0, 1.0),
    "ema": ("01 EMA\nand its bias correction", 0.0, -0.4),
    "momentum": ("momentum:\na running average of $g$", 1.8, 0.6),
    "rmsprop": ("02 RMSprop:\nan EMA of $g^2$", 1.8, -0.8),
    "adam": ("03 Adam =\nmomentum + RMSprop\n+ bias correction", 3.7, -0.1),
    "example": ("04 the worked\nexample, exactly", 5.6, 0.6),
    "adamw": ("05 AdamW:\ndecoupled decay", 5.6, -0.8),
    "torch": ("06 PyTorch,\non a GPU", 7.3, -0.1),
}
COURSE_ARROWS = [
    ("sgd", "momentum"),
    ("ema", "momentum"),
    ("ema", "rmsprop"),
    ("momentum", "adam"),
    ("rmsprop", "adam"),
    ("adam", "example"),
    ("adam", "adamw"),
    ("example", "torch"),
    ("adamw", "torch"),
]


def course_map(*, ax=None):
    """The lessons as boxes, with an arrow from each idea to the ones built on it. Returns ``(fig, ax)``."""
    fig, ax = _axes(ax, figsize=(10.0, 3.6))
    style = {"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "0.3"}
    boxes = {}
    for key, (label, x, y) in COURSE_MAP.items():
        face = "#e8f0fa" if label[:2].isdigit() else "white"
        boxes[key] = ax.text(x, y, label, ha="center", va="center", fontsize=10, bbox={**style, "facecolor": face})
    for start, end in COURSE_ARROWS:
        ax.annotate(
            "",
            xy=COURSE_MAP[end][1:],
            xytext=COURSE_MAP[start][1:],
            arrowprops={"arrowstyle": "->", "color": "0.35", "patchA": boxes[start], "patchB": boxes[end]},
        )
    ax.set_xlim(-0.9, 8.1)
    ax.set_ylim(-1.4, 1.5)
    ax.axis("off")
    return fig, ax
