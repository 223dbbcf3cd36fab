r"""Figures that several notebooks draw.

Each function returns the matplotlib Figure/Axes it drew on and never calls ``plt.show()``: the notebook
decides when to show a figure.

Figures take their size from the course style (``ll.course.setup``: 7 x 4 inches at 100 dpi, for slides);
the wide ones, :func:`comparison` and :func:`course_map`, are :data:`WIDE` = 8.8 inches: with the 0.1-inch
margin the notebook's inline PNG adds on each side, at most 900 pixels, the most a JupyterLab notebook
column shows at 100%, so their 9- to 11-point text is read at its size. Legends sit outside the
axes, or in headroom kept free of data; every axis is labelled.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import lessonlib as ll
>>> ax = bias_correction_curves(betas=(0.9,), t_max=50)
>>> ax.get_legend_handles_labels()[1]
['$\\beta = 0.9$']
>>> plt.close("all")
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.course.objectives import Objective
from lessonlib.optim._checks import brief, check_int, check_reals
from lessonlib.optim.ema import EMA, effective_window, ema_weight_sum

#: The width of the wide figures, in inches: 880 pixels at the course's 100 dpi, 900 with the inline margins.
WIDE = 8.8


def _axes(ax=None, **subplots_kw):
    if ax is not None:
        return ax.figure, ax
    return plt.subplots(layout="constrained", **subplots_kw)  # labels inside the figure, also when saved as is


def ema_lines(x, beta):
    r"""The raw EMA :math:`a_t` and the bias-corrected :math:`\hat a_t = a_t / (1-\beta^t)` of ``x``.

    Args:
        x: the values :math:`x_1, x_2, \dots`, a 1-D sequence.
        beta: the decay :math:`\beta`, in ``[0, 1)``.

    >>> raw, corrected = ema_lines([4.0, 4.0, 4.0], beta=0.5)
    >>> raw.tolist(), corrected.tolist()
    ([2.0, 3.0, 3.5], [4.0, 4.0, 4.0])
    """
    x = check_reals("x", x, low=-math.inf)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D sequence of numbers, got shape {x.shape}")
    avg, raw, corrected = EMA(beta), [], []
    for xt in x:
        raw.append(avg.update(float(xt)))
        corrected.append(avg.corrected)
    return np.array(raw), np.array(corrected)


def ema_signal(x, betas=(0.5, 0.9, 0.98), *, corrected=True, raw=True, ax=None):
    r"""A noisy signal ``x`` (dots) with its EMA for each :math:`\beta`: raw dashed, bias-corrected solid.

    The legend sits in headroom above the data, as tall as the legend needs. Returns ``(fig, ax)``.

    Args:
        x: the signal, a 1-D sequence of numbers.
        betas: one EMA per :math:`\beta`, each in ``[0, 1)``.
        corrected: draw the bias-corrected :math:`\hat a_t`.
        raw: draw the raw :math:`a_t`.
        ax: the Axes to draw on (a new figure if None).
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
    ncol = 2 if len(betas) > 1 else 1
    rows = -(-len(ax.get_lines()) // ncol)
    low, high = min(0.0, float(np.min(x))), float(np.max(x))
    headroom = 0.15 + 0.12 * rows  # room for the legend above the data: about 0.12 of the range per row
    ax.set_ylim(low - 0.05 * (high - low), high + headroom * (high - low))
    ax.set_xlabel("step $t$")
    ax.set_ylabel("value")
    ax.legend(fontsize=9, ncol=ncol, loc="upper left")
    return fig, ax


def bias_correction_curves(betas=(0.9, 0.999), t_max: int = 5000, *, ax=None):
    r""":math:`1 - \beta^t` (the sum of the EMA's weights) against :math:`t`, on a log axis; returns ``ax``.

    A dotted line marks each :math:`\beta`'s effective window :math:`1/(1-\beta)`.

    Args:
        betas: one curve per :math:`\beta`.
        t_max: the last step drawn.
        ax: the Axes (a new figure if None).
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
    """Contour lines of ``objective`` over its box, its minimum marked with a star; returns ``ax``.

    Args:
        objective: what to draw.
        ax: the Axes (a new figure if None).
        n: grid points per side.
        levels: how many contour lines.
    """
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


#: Losses below this are drawn at it (a log axis has no room for 0 or 1e-168); the widgets' text says "below" it.
LOSS_FLOOR = 1e-12

#: One style per run, widest first: each later (thinner) path is drawn over the earlier ones, so where paths
#: coincide each stays visible, and the dash pattern and the marker tell them apart where the colour cannot.
RUN_STYLES = (
    {"ls": "-", "marker": "o"},
    {"ls": "--", "marker": "s"},
    {"ls": "-.", "marker": "^"},
    {"ls": ":", "marker": "D"},
)


def run_style(i: int) -> dict:
    """The colour, dash pattern, width and marker of the ``i``-th run in :func:`trajectories` and :func:`losses`.

    Args:
        i: the run's position (0-based) in the ``runs`` dict.

    >>> run_style(0)["color"], run_style(1)["ls"], run_style(4)["lw"] < run_style(3)["lw"]
    ('C0', '--', True)
    """
    i = check_int("i", i, high=10**6)  # far more runs than a legend holds
    lw = max(1.0, 3.2 - 0.6 * i)  # 3.2, 2.6, 2.0, 1.4, then 1 point: each run thinner than the one before
    return {**RUN_STYLES[i % len(RUN_STYLES)], "lw": lw, "color": f"C{i % 10}", "markersize": 4.0}


def first_exit(objective: Objective, path) -> int | None:
    r"""The first step at which ``path`` (shape ``(k + 1, 2)``) is outside the box the figures draw, or None.

    Args:
        objective: the objective whose ``xlim`` and ``ylim`` make the box.
        path: the iterates :math:`\theta_0, \dots, \theta_k`, one row each.

    >>> from lessonlib.course.objectives import quadratic
    >>> first_exit(quadratic(), [[-4.0, 1.25], [-3.0, 0.25], [-2.0, -1.6]]), first_exit(quadratic(), [[0.0, 0.0]])
    (2, None)
    """
    if not isinstance(objective, Objective):
        raise TypeError(
            f"objective must be an Objective (from lessonlib.course.objectives), got {type(objective).__name__}"
        )
    path = check_reals("path", path, low=-math.inf)
    if path.ndim != 2 or path.shape[1] != 2:
        raise ValueError(f"path must have shape (k + 1, 2), got {path.shape}")
    (x0, x1), (y0, y1) = objective.xlim, objective.ylim
    outside = (path[:, 0] < x0) | (path[:, 0] > x1) | (path[:, 1] < y0) | (path[:, 1] > y1)
    return int(np.argmax(outside)) if outside.any() else None


def _run_label(objective: Objective, label: str, tr) -> str:
    """A run's label with what the figure cannot show: that it diverged, or left the plotted box."""
    if tr.diverged:
        return f"{label} (diverged)"
    exit_step = first_exit(objective, tr.path)
    return label if exit_step is None else f"{label} (leaves the plot at step {exit_step})"


def _markevery(n_points: int, marks: int = 40) -> int:
    return max(1, n_points // marks)  # about 40 marks a path: they show the step sizes without hiding the line


def _draw_path(ax, tr, i: int, label: str, *, max_lw: float | None = None):
    style = run_style(i)
    if max_lw is not None:  # alone in its panel, a path needs no width to stand out, and shows more detail thin
        style["lw"] = min(style["lw"], max_lw)
    ax.plot(tr.path[:, 0], tr.path[:, 1], label=label, markevery=_markevery(len(tr.path)), **style)
    # the end point, larger, so a path that stops short is seen to stop
    end = {"mfc": "none", "mec": style["color"], "mew": 2.0, "markersize": 10}  # hollow: a minimum under it shows
    ax.plot(*tr.path[-1], style["marker"], label="_end", zorder=4, **end)


def _marker_handles():
    from matplotlib.lines import Line2D

    return [
        Line2D([], [], ls="none", marker="o", color="k", markersize=6, label="start"),
        Line2D([], [], ls="none", marker="*", color="k", markersize=11, label="minimum"),
    ]


def trajectories(objective: Objective, runs: dict, *, ax=None, markers: bool = True, legend: bool = True):
    """Each run's path (``{label: Trajectory}``) on the contours of ``objective``; returns ``ax``.

    Each run has its own colour, dash pattern, width and marker (:func:`run_style`), the widest drawn
    first, so paths that run on top of each other all stay visible; a larger marker shows where each ended.

    Args:
        objective: the objective whose contours are drawn.
        runs: ``{label: Trajectory}``, in drawing order.
        ax: the Axes to draw on (a new figure if None).
        markers: mark the iterates along each path (about 40 marks a path) and its end.
        legend: put a legend outside the axes, on the right (off when a figure places one itself).
    """
    _, ax = _axes(ax)
    contours(objective, ax=ax)
    for i, (label, tr) in enumerate(runs.items()):
        if markers:
            _draw_path(ax, tr, i, _run_label(objective, label, tr))
        else:
            style = {k: v for k, v in run_style(i).items() if k != "marker"}
            ax.plot(tr.path[:, 0], tr.path[:, 1], label=_run_label(objective, label, tr), **style)
    start = next(iter(runs.values())).path[0] if runs else None
    if start is not None:
        ax.plot(*start, "o", color="k", markersize=6, label="start", zorder=5)
    if legend:
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    ax.set_title(objective.formula, fontsize=10)
    return ax


def losses(runs: dict, *, ax=None, floor: float = LOSS_FLOOR, legend: bool = True):
    """Loss against step for each run (``{label: Trajectory}``), log scale; returns ``ax``.

    Losses below ``floor`` are drawn at ``floor``; when that happens a dotted line marks the floor and
    the axis label says so. The runs keep the styles of :func:`trajectories`.

    Args:
        runs: ``{label: Trajectory}``, in drawing order.
        ax: the Axes to draw on (a new figure if None).
        floor: the smallest loss drawn (> 0: the axis is logarithmic).
        legend: put a legend outside the axes, on the right.
    """
    if not floor > 0:
        raise ValueError(f"Invalid floor: {brief(floor)} (allowed: floor > 0, the axis is logarithmic)")
    _, ax = _axes(ax)
    floored = False
    for i, (label, tr) in enumerate(runs.items()):
        floored = floored or bool(np.any(tr.losses < floor))
        ax.semilogy(np.maximum(tr.losses, floor), label=label, markevery=_markevery(len(tr.losses), 12), **run_style(i))
    ax.set_xlabel("step $t$")
    if floored:
        ax.axhline(floor, color="0.5", ls=":", lw=1.0, label="_floor", zorder=0)
        ax.set_ylabel(rf"loss $f(\theta_t)$, floor $10^{{{np.log10(floor):.0f}}}$")
    else:
        ax.set_ylabel(r"loss $f(\theta_t)$")
    if legend:
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return ax


def _path_panel(ax, objective: Objective, i: int, label: str, tr):
    """One run alone on the contours, its label (and what became of it) as the title, in its colour."""
    contours(objective, ax=ax)
    _draw_path(ax, tr, i, label, max_lw=2.0)
    ax.plot(*tr.path[0], "o", color="k", markersize=6, label="start", zorder=5)
    ax.set_title(_run_label(objective, label, tr).replace(" (", "\n("), fontsize=10, color=run_style(i)["color"])


def comparison(objective: Objective, runs: dict, *, figsize=None, overlay: bool = False):
    """Paths on the contours and the losses of ``{label: Trajectory}``; returns ``(fig, axes)``.

    With several runs (the default) each path gets a small panel of its own over the same contours,
    side by side, with the losses below them: on a valley like Rosenbrock's the paths run along the
    same floor and would hide each other in one panel. With one run, its path is on the left and its
    loss on the right; with ``overlay=True`` every path shares that left panel, styled apart
    (:func:`run_style`, the widest drawn first). The legend sits outside the axes, on the right.
    The figure is :data:`WIDE` (8.8 inches, 880 pixels at the course's 100 dpi) wide: a notebook column.

    Args:
        objective: the objective the runs were made on.
        runs: ``{label: Trajectory}``, in drawing order (at least one).
        figsize: ``(width, height)`` in inches; by default :data:`WIDE`, 4 high (one row) or more (panels).
        overlay: draw every path in one panel instead of one panel each.

    Returns:
        ``(fig, axes)``: ``axes`` is an array of the path axes (one, or one per run), then the loss axes.
    """
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty dict {label: Trajectory}")
    n = len(runs)
    labels = list(runs)
    if overlay or n == 1:
        fig = plt.figure(figsize=figsize or (WIDE, 4.0), layout="constrained")
        left, right = fig.subplots(1, 2, width_ratios=(1.1, 1.0))
        if overlay:
            trajectories(objective, runs, ax=left, legend=False)
            labels = [_run_label(objective, label, tr) for label, tr in runs.items()]
        else:
            _path_panel(left, objective, 0, *next(iter(runs.items())))
            fig.suptitle(objective.formula, fontsize=11)
        losses(runs, ax=right, legend=False)
        path_axes, legend_fig = [left], fig
    else:
        cols = min(n, 4)
        rows = -(-n // cols)
        fig = plt.figure(figsize=figsize or (WIDE, 2.7 * rows + 2.9), layout="constrained")
        fig.get_layout_engine().set(wspace=0.08)  # room between the panels' end tick labels
        top, bottom = fig.subfigures(2, 1, height_ratios=(2.7 * rows, 2.9))
        grid = top.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
        path_axes = list(grid.flat[:n])
        for extra in grid.flat[n:]:
            extra.remove()
        for i, (ax, (label, tr)) in enumerate(zip(path_axes, runs.items())):
            _path_panel(ax, objective, i, label, tr)
            ax.xaxis.set_major_locator(plt.MaxNLocator(4, steps=[1, 2, 5, 10]))
            ax.yaxis.set_major_locator(plt.MaxNLocator(4, steps=[1, 2, 5, 10]))
            ax.label_outer()
        top.suptitle(objective.formula, fontsize=11)
        right = bottom.subplots()
        losses(runs, ax=right, legend=False)
        legend_fig = bottom
    handles = [line for line in right.get_lines() if not line.get_label().startswith("_")]
    legend_fig.legend(handles + _marker_handles(), labels + ["start", "minimum"], loc="outside right upper", fontsize=9)
    return fig, np.array([*path_axes, right], dtype=object)


#: The course as a graph: (label, x, y) per lesson box, and the arrows "what builds on what". Lessons in
#: reading order from left to right; a column holds lessons that build on the same earlier one.
COURSE_MAP = {
    "start": ("00 start\nhere", 0.0, 0.0),
    "ema": ("01 the EMA\nand its bias\ncorrection", 1.0, 0.0),
    "momentum": ("02 momentum\nand gradient\nnoise", 2.0, 0.95),
    "rmsprop": ("03 AdaGrad\nand RMSprop", 2.0, -0.95),
    "adam": ("04 Adam,\nline by line", 3.0, 0.0),
    "example": ("05 the worked\nexample", 4.0, 1.35),
    "adamw": ("06 schedules\nand AdamW", 4.0, 0.45),
    "failures": ("07 when\nAdam fails", 4.0, -0.45),
    "cost": ("08 what a\nstep costs", 4.0, -1.35),
    "scale": ("09 Adam\nat scale", 5.0, -1.35),
    "torch": ("10 Adam in\nPyTorch,\non a GPU", 6.0, 0.0),
}
COURSE_ARROWS = [
    ("start", "ema"),
    ("ema", "momentum"),
    ("ema", "rmsprop"),
    ("momentum", "rmsprop"),
    ("ema", "adam"),
    ("momentum", "adam"),
    ("rmsprop", "adam"),
    ("adam", "example"),
    ("adam", "adamw"),
    ("adam", "failures"),
    ("adam", "cost"),
    ("adamw", "torch"),
    ("failures", "torch"),
    ("cost", "torch"),
    ("cost", "scale"),
    ("adamw", "scale"),
    ("scale", "torch"),
]


def course_map(*, ax=None):
    """The lessons as boxes, with an arrow from each idea to the ones built on it. Returns ``(fig, ax)``.

    Args:
        ax: the Axes to draw on (a new :data:`WIDE` x 4 inch figure if None).
    """
    if ax is None:
        fig = plt.figure(figsize=(WIDE, 4.0))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))  # the whole figure: no axis to leave room for
    fig = ax.figure
    style = {"boxstyle": "round,pad=0.45", "facecolor": "#e8f0fa", "edgecolor": "0.3"}
    boxes = {}
    for key, (label, x, y) in COURSE_MAP.items():
        face = style["facecolor"] if label[:2].isdigit() else "white"  # a concept that is not a lesson: white
        boxes[key] = ax.text(x, y, label, ha="center", va="center", fontsize=10, bbox={**style, "facecolor": face})
    for start, end in COURSE_ARROWS:
        ax.annotate(
            "",
            xy=COURSE_MAP[end][1:],
            xytext=COURSE_MAP[start][1:],
            arrowprops={
                "arrowstyle": "-|>",
                "color": "0.35",
                "lw": 1.2,
                "mutation_scale": 12,
                "patchA": boxes[start],
                "patchB": boxes[end],
                "shrinkA": 2,
                "shrinkB": 2,
            },
        )
    ax.set_xlim(-0.55, 6.55)
    ax.set_ylim(-1.7, 1.7)
    ax.axis("off")
    return fig, ax
