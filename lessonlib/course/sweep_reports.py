r"""Several tuning sweeps side by side: the grid table, the good learning rates, the sensitivity figure.

Each takes ``{label: Sweep}`` (:func:`lessonlib.course.tuning.sweep`, all by the same rule): :func:`grid_table`
prints every run's score, :func:`good_ranges` the learning rates that beat a threshold, and
:func:`sensitivity_figure` draws the best score against the learning rate.
"""

from __future__ import annotations

import math

import numpy as np

from lessonlib.course.tuning import KEYS, Sweep, number_text, score_text
from lessonlib.optim._checks import brief, check_bool, check_name, check_real

#: Short names of the second hyperparameter for the column heads of :func:`grid_table`.
_SYMBOL = {"momentum": "mu", "beta1": "beta1", "alpha": "rho", "weight_decay": "wd"}


def _columns(sweeps: dict, collapse: bool = False) -> list:
    """(head 1, head 2, sweep, fixed part of the hyperparameters) for every column of :func:`grid_table`.

    With ``collapse`` a sweep is one column whatever its other hyperparameter, and its head 2 names that one.
    """
    cols = []
    for label, s in sweeps.items():
        others = [n for n in s.grid if n != "lr"]
        if not others:
            cols.append((label, "", s, {}))
        elif collapse:
            cols.append((label, " ".join(_SYMBOL.get(n, n) for n in others), s, None))
        else:
            for name in others:
                for x in s.grid[name]:
                    cols.append((label, f"{_SYMBOL.get(name, name)} {number_text(x)}", s, {name: x}))
    return cols


def _check_sweeps(sweeps) -> dict:
    if not isinstance(sweeps, dict) or not sweeps or not all(isinstance(s, Sweep) for s in sweeps.values()):
        raise TypeError(f"sweeps must be a non-empty dict {{label: Sweep}}, got {brief(sweeps)}")
    return sweeps


def grid_table(sweeps: dict, collapse: bool = False) -> str:
    """Several sweeps side by side: a row per learning rate, a column per optimizer and value of its other setting.

    Each cell is the score of one run (``div``: diverged; blank: not on that optimizer's grid); ``*`` marks each
    optimizer's best. Below the table, each optimizer's choice, and a warning for each hyperparameter whose best
    value lies at the edge of its grid (:attr:`Sweep.edges`).

    Args:
        sweeps: ``{label: Sweep}``, all by the same rule.
        collapse: one column per optimizer instead: at each learning rate the best score over its other
            hyperparameter, with the value that gave it in brackets (:meth:`Sweep.best_at`); the values tried are
            listed above the table. For grids too wide to print a column per value.

    >>> from lessonlib.course.objectives import quadratic
    >>> from lessonlib.course.tuning import sweep
    >>> bowl = quadratic()
    >>> print(grid_table({"SGD": sweep("SGD", bowl, {"lr": [0.05, 0.09, 0.11]}, steps=50),
    ...                   "momentum": sweep("momentum", bowl, {"lr": [0.05, 0.09], "momentum": [0.5]}, steps=50)}))
    loss after 50 steps (lower is better); * each optimizer's best, div = diverged
    lr           SGD  momentum
                        mu 0.5
    0.05     4.7e-02   5.8e-05
    0.09    *6.4e-04  *7.9e-14
    0.11         div
    SGD: lr 0.09
    momentum: lr 0.09, momentum 0.5
      momentum's best learning rate is at the edge of its grid: a wider grid might do better
    >>> mom = sweep("momentum", bowl, {"lr": [0.05, 0.1, 0.2], "momentum": [0.0, 0.4, 0.8]}, steps=50)
    >>> print(grid_table({"momentum": mom}, collapse=True))
    loss after 50 steps (lower is better); * each optimizer's best, div = diverged
    in each cell the best over the second hyperparameter, its value in brackets; the values tried:
      momentum: mu 0, 0.4, 0.8
    lr            momentum
                        mu
    0.05     2.4e-04 (0.8)
    0.1     *2.9e-09 (0.4)
    0.2          div
    momentum: lr 0.1, momentum 0.4
    """
    sweeps = _check_sweeps(sweeps)
    collapse = check_bool("collapse", collapse)
    rules = {s.rule for s in sweeps.values()}
    if len(rules) != 1:
        raise ValueError(f"Invalid sweeps: their rules differ ({sorted(rules)}); a table compares one rule")
    rule = rules.pop()
    cols = _columns(sweeps, collapse)
    lrs = sorted({lr for s in sweeps.values() for lr in s.grid["lr"]})
    first = max(6, *(len(number_text(lr)) + 1 for lr in lrs))
    rows = []
    for lr in lrs:
        cells = []
        for _, _, s, fixed in cols:
            if lr not in s.grid["lr"]:
                cells.append(("", ""))
                continue
            out = s.best_at(lr=lr) if fixed is None else s.at(**fixed, lr=lr)
            text = ("*" if out is s.best else "") + ("div" if out.diverged else score_text(out.score, rule))
            other = ", ".join(number_text(v) for n, v in out.hyper.items() if n != "lr")
            cells.append((text, f"({other})" if fixed is None and not out.diverged else ""))
        rows.append(cells)
    # collapsed: the values in brackets left-aligned after the scores, so the scores stay in line
    brackets = [max(len(cells[j][1]) for cells in rows) for j in range(len(cols))]
    rows = [[t + (" " + b.ljust(w) if w else "") for (t, b), w in zip(cells, brackets)] for cells in rows]
    width = max(10, *(len(c[1]) + 2 for c in cols))
    if collapse:
        width = max(width, *(len(c[0]) + 2 for c in cols), *(len(c) + 2 for cells in rows for c in cells))
    lines = [f"{rule}; * each optimizer's best, div = diverged"]
    if any(fixed is None for *_, fixed in cols):
        lines.append("in each cell the best over the second hyperparameter, its value in brackets; the values tried:")
        for label, _, s, fixed in cols:
            if fixed is None:
                tried = "; ".join(
                    f"{_SYMBOL.get(n, n)} " + ", ".join(number_text(x) for x in s.grid[n]) for n in s.grid if n != "lr"
                )
                lines.append(f"  {label}: {tried}")
    lines.append(f"{'lr':<{first}s}" + "".join(f"{c[0]:>{width}s}" for c in cols))
    if any(c[1] for c in cols):
        lines.append(" " * first + "".join(f"{c[1]:>{width}s}" for c in cols))
    for lr, cells in zip(lrs, rows):
        lines.append((f"{number_text(lr):<{first}s}" + "".join(f"{c:>{width}s}" for c in cells)).rstrip())
    for label, s in sweeps.items():
        chosen = ", ".join(f"{n} {number_text(v)}" for n, v in s.best.hyper.items())
        lines.append(f"{label}: every run diverged" if s.best.diverged else f"{label}: {chosen}")
        for name in s.edges:
            what = "learning rate" if name == "lr" else f"{_SYMBOL.get(name, name)} {number_text(s.best.hyper[name])}"
            lines.append(f"  {label}'s best {what} is at the edge of its grid: a wider grid might do better")
    return "\n".join(lines)


def good_ranges(sweeps: dict, below, key: str = "score") -> str:
    """For each sweep: its best value and where it is, and the range of learning rates that beat each of ``below``.

    A range is given by its smallest and largest good learning rate and its width, the ratio of the two, with how
    many of the grid's learning rates in it are good (a range can have holes; see :meth:`Sweep.good_count`).

    Args:
        sweeps: ``{label: Sweep}``.
        below: a threshold, or a list of them: the value a learning rate must beat to count as good.
        key: ``"score"`` or ``"final_loss"``, as in :meth:`Sweep.profile`.

    >>> from lessonlib.course.objectives import quadratic
    >>> from lessonlib.course.tuning import sweep
    >>> s = sweep("SGD", quadratic(), {"lr": [0.01, 0.03, 0.05, 0.09, 0.11]}, steps=50)
    >>> print(good_ranges({"SGD": s}, below=[0.1, 1e-3]))
    good lr: best score below the threshold (x: the range's width; n of m: good / all lr in it)
         best at lr       < 0.1                        < 0.001
    SGD  6.4e-04 at 0.09  0.05 to 0.09 (x1.8, 2 of 2)  0.09 only
    """
    sweeps = _check_sweeps(sweeps)
    below = list(below) if isinstance(below, (list, tuple)) else [below]
    if not below:
        raise ValueError("Invalid below: an empty list (allowed: a threshold or a non-empty list of them)")
    below = [check_real("below", b, low=-math.inf) for b in below]
    check_name("key", key, KEYS)
    rows = []
    for label, s in sweeps.items():
        lrs, best = s.profile("lr", key)
        if not np.isfinite(best).any():
            rows.append([label, "every run diverged"])
            continue
        i = int(np.argmin(best))
        row = [label, f"{best[i]:.1e} at {number_text(lrs[i])}"]
        for b in below:
            span = s.good_range(b, key)
            if span is None:
                row.append("none")
            elif span[0] == span[1]:
                row.append(f"{number_text(span[0])} only")
            else:
                good, inside = s.good_count(b, key)
                width = number_text(float(f"{span[1] / span[0]:.3g}"))
                row.append(f"{number_text(span[0])} to {number_text(span[1])} (x{width}, {good} of {inside})")
        rows.append(row)
    head = ["", "best at lr", *(f"< {number_text(b)}" for b in below)]
    widths = [max(len(r[j]) for r in [head, *rows] if j < len(r)) + 2 for j in range(len(head))]
    lines = ["good lr: best score below the threshold (x: the range's width; n of m: good / all lr in it)"]
    for r in [head, *rows]:
        lines.append("".join(f"{c:<{w}s}" for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


def sensitivity_figure(sweeps: dict, *, ax=None, floor: float = 1e-30, key: str = "score", below: float | None = None):
    """Each sweep's best score against the learning rate, one curve per optimizer, both axes logarithmic.

    Learning rates where every run diverged are drawn as an x at the top of the axes. Returns ``ax``.

    Args:
        sweeps: ``{label: Sweep}``, all by the same rule.
        ax: the Axes to draw on (a new figure if None).
        floor: the smallest loss drawn (losses below it are drawn at it).
        key: ``"score"`` (the sweep's rule) or ``"final_loss"`` (the loss after the last step).
        below: if given, the line a good learning rate must get below, drawn dashed.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, NullLocator

    sweeps = _check_sweeps(sweeps)
    check_name("key", key, KEYS)
    if ax is None:
        _, ax = plt.subplots()
    top = 1.0
    for s in sweeps.values():
        finite = [getattr(o, key) for o in s.outcomes if math.isfinite(getattr(o, key))]
        top = max([top, *finite])
    for i, (label, s) in enumerate(sweeps.items()):
        lrs, best = s.profile("lr", key)
        ok = np.isfinite(best)
        ax.plot(lrs[ok], np.maximum(best[ok], floor), "-o", color=f"C{i}", label=label, markersize=4)
        if (~ok).any():
            ax.plot(lrs[~ok], np.full((~ok).sum(), top * 3), "x", color=f"C{i}", markersize=7)
    if below is not None:
        ax.axhline(check_real("below", below, low=-math.inf), color="0.4", ls="--", lw=1.0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    # labelled decades, no minor ticks: over 20 decades the default ticks crowd the axis (and take long to draw)
    ax.yaxis.set_major_locator(LogLocator(numticks=6))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(r"learning rate $\alpha$ (log scale)")
    first = next(iter(sweeps.values()))
    if key == "final_loss":
        steps = first.rule.split(" (")[0].split()[-2] if "after" in first.rule else None
        ax.set_ylabel(f"loss after {steps} steps" if steps else "final loss")
    else:
        ax.set_ylabel(first.rule.split(" (")[0].split(",")[0])
    ax.legend(fontsize=9)
    return ax
