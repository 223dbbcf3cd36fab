r"""Tune before you compare: run an optimizer over a grid of its hyperparameters and keep the best setting.

A comparison of optimizers says something only when each one runs at a setting that suits it. :func:`sweep`
runs one optimizer at every point of a grid (its learning rate :math:`\alpha`, and its momentum :math:`\mu` or
:math:`\beta_1` where it has one) on one objective, scores each run by a rule it states, marks the runs that
diverged, and returns every outcome with the best one, saying when a choice lies at an end of its grid
(:attr:`Sweep.edges`), where a wider grid might do better. :meth:`Sweep.table` prints the grid, so a notebook shows
what it tried, not only what it chose (:func:`grid_table` puts several sweeps side by side); :meth:`Sweep.profile`
gives the best score at each learning rate, the curve of the sensitivity figure (:func:`sensitivity_figure`).

The rule: with ``until=None`` the score is the loss after the last step (lower is better); with
``until=tol`` it is the first step :math:`t` with :math:`f(\theta_t) < \mathrm{tol}` (fewer is better; a run that
never gets there scores infinity, and ties are broken by the final loss). A run diverged when its loss stopped
being finite or ended above where it started; it scores infinity and is never chosen.

>>> from lessonlib.course.objectives import quadratic
>>> s = sweep("SGD", quadratic(), {"lr": [0.01, 0.05, 0.09, 0.11]}, steps=50)
>>> s.best.hyper, [o.diverged for o in s.outcomes]
({'lr': 0.09}, [False, False, False, True])
>>> print(s.table())
SGD: loss after 50 steps (lower is better); * best, div = diverged
lr          0.01      0.05      0.09      0.11
         2.9e+00   4.7e-02  *6.4e-04       div
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np

from lessonlib.course import runs as _runs
from lessonlib.course.objectives import Objective
from lessonlib.optim._checks import check_bool, check_real

#: The hyperparameters a grid may vary, as the optimizers name them (torch's names).
TUNABLE = ("lr", "momentum", "beta1", "alpha", "weight_decay")

#: What a profile can be read from: the sweep's score, or the loss after the last step.
KEYS = ("score", "final_loss")


class Outcome(NamedTuple):
    """One grid point: its hyperparameters, its score under the sweep's rule, whether it diverged, its last loss."""

    hyper: dict
    score: float
    diverged: bool
    final_loss: float


class Sweep(NamedTuple):
    """What :func:`sweep` found: the grid, the rule, every :class:`Outcome` (in grid order) and the best one."""

    optimizer: str
    grid: dict
    rule: str
    outcomes: list
    best: Outcome

    def table(self) -> str:
        """The grid's scores as text: learning rates across, the other hyperparameter (if any) down."""
        names = list(self.grid)
        cols = self.grid["lr"]
        rows = list(itertools.product(*(self.grid[n] for n in names if n != "lr")))
        lines = [f"{self.optimizer}: {self.rule}; * best, div = diverged"]
        down = " ".join(n for n in names if n != "lr")
        head = f"{down} / lr" if down else "lr"
        width = max(len(head), 6)
        lines.append(f"{head:<{width}s}" + "".join(f"{_num(c):>10s}" for c in cols))
        for row in rows:
            cells = []
            for lr in cols:
                hyper = dict(zip([n for n in names if n != "lr"], row), lr=lr)
                out = self._at(hyper)
                text = "div" if out.diverged else _score(out.score, self.rule)
                cells.append(("*" if out is self.best else "") + text)
            lines.append(f"{' '.join(_num(x) for x in row):<{width}s}" + "".join(f"{c:>10s}" for c in cells))
        for name in self.edges:
            what = "learning rate" if name == "lr" else f"{name} ({_num(self.best.hyper[name])})"
            lines.append(f"the best {what} is at the edge of the grid: widen it before trusting the choice")
        return "\n".join(lines)

    @property
    def best_arguments(self) -> dict:
        """The best setting as the optimizer's keyword arguments (``beta1`` becomes ``betas``), for a run of it."""
        return _hyper(self.optimizer, self.best.hyper)

    @property
    def edges(self) -> tuple[str, ...]:
        r"""The hyperparameters whose best value is at an end of their grid, where a wider grid might do better.

        A learning rate counts at either end of its grid. The other hyperparameter (:math:`\mu`, :math:`\beta_1`, ...)
        counts at its largest value, and at its smallest unless that is 0, the end of its allowed range, below which
        no grid can go. A hyperparameter with a single value, or a sweep whose every run diverged, has no edge.
        """
        if not math.isfinite(self.best.score):
            return ()
        out = []
        for name, values in self.grid.items():
            if len(values) < 2:
                continue
            low, high, chosen = min(values), max(values), self.best.hyper[name]
            if chosen == high or (chosen == low and (name == "lr" or low > 0.0)):
                out.append(name)
        return tuple(out)

    @property
    def at_edge(self) -> bool:
        """True when the best setting is at the edge of the grid in any hyperparameter (see :attr:`edges`)."""
        return bool(self.edges)

    def best_at(self, **fixed) -> Outcome:
        """The best :class:`Outcome` among the grid points with the given values, e.g. ``s.best_at(lr=0.1)``.

        Args:
            **fixed: values for some of the grid's hyperparameters (each must be on the grid); the best is taken over
                the rest, by the sweep's rule (ties: the lower final loss, then the first in grid order).

        >>> from lessonlib.course.objectives import quadratic
        >>> s = sweep("momentum", quadratic(), {"lr": [0.05, 0.1, 0.2], "momentum": [0.0, 0.4, 0.8]}, steps=50)
        >>> s.best.hyper, s.best_at(lr=0.05).hyper, s.best_at(momentum=0.0).hyper
        ({'lr': 0.1, 'momentum': 0.4}, {'lr': 0.05, 'momentum': 0.8}, {'lr': 0.05, 'momentum': 0.0})
        """
        for name, value in fixed.items():
            if name not in self.grid:
                raise ValueError(f"Invalid hyperparameter: {name!r} (allowed: one of {list(self.grid)})")
            if value not in self.grid[name]:
                raise ValueError(f"Invalid {name}: {value!r} is not on the grid {list(self.grid[name])}")
        found = [o for o in self.outcomes if all(o.hyper[n] == v for n, v in fixed.items())]
        return min(found, key=lambda o: (o.score, o.final_loss))

    def profile(self, name: str = "lr", key: str = "score") -> tuple[np.ndarray, np.ndarray]:
        """For each value of ``name`` (in grid order), the best ``key`` over the rest of the grid (inf: all diverged).

        Args:
            name: the hyperparameter along the profile, ``"lr"`` by default.
            key: ``"score"`` (the sweep's rule) or ``"final_loss"`` (the loss after the last step, whatever the
                rule; inf for a diverged run).
        """
        if name not in self.grid:
            raise ValueError(f"Invalid name: {name!r} (allowed: one of {list(self.grid)})")
        if key not in KEYS:
            raise ValueError(f"Invalid key: {key!r} (allowed: one of {list(KEYS)})")
        values = np.array(self.grid[name], dtype=np.float64)
        best = [min(getattr(o, key) for o in self.outcomes if o.hyper[name] == x) for x in self.grid[name]]
        return values, np.array(best, dtype=np.float64)

    def good_range(self, below: float, key: str = "score") -> tuple[float, float] | None:
        """The smallest and largest learning rate whose best ``key`` is below ``below`` (None if none is).

        The learning rates between the two are not all good unless :meth:`good_count` says so: a range can have
        holes.

        Args:
            below: the value a learning rate must beat to count as good (a loss, or a number of steps).
            key: ``"score"`` or ``"final_loss"``, as in :meth:`profile`.
        """
        below = check_real("below", below, low=-math.inf)
        lrs, best = self.profile("lr", key)
        good = lrs[best < below]
        return (float(good.min()), float(good.max())) if good.size else None

    def good_count(self, below: float, key: str = "score") -> tuple[int, int]:
        """How many learning rates of the grid are good (best ``key`` below ``below``), and how many lie in the range.

        The second number counts the grid's learning rates from the smallest good one to the largest, good or not,
        so the two are equal when the good range has no holes.

        Args:
            below: the value a learning rate must beat to count as good.
            key: ``"score"`` or ``"final_loss"``, as in :meth:`profile`.
        """
        span = self.good_range(below, key)
        if span is None:
            return 0, 0
        lrs, best = self.profile("lr", key)
        inside = (lrs >= span[0]) & (lrs <= span[1])
        return int((best[inside] < below).sum()), int(inside.sum())

    def at(self, **hyper) -> Outcome:
        """The :class:`Outcome` of one grid point, e.g. ``s.at(lr=0.1, momentum=0.9)``.

        Args:
            **hyper: a value for every hyperparameter of the grid.
        """
        if set(hyper) != set(self.grid):
            raise ValueError(f"Invalid hyperparameters: {sorted(hyper)} (allowed: exactly {sorted(self.grid)})")
        found = [o for o in self.outcomes if o.hyper == hyper]
        if not found:
            raise ValueError(f"Invalid hyperparameters: {hyper} is not a point of the grid {self.grid}")
        return found[0]

    def _at(self, hyper: dict) -> Outcome:
        return self.at(**hyper)


def _num(x: float) -> str:
    return f"{x:g}"


def _score(score: float, rule: str) -> str:
    if rule.startswith("steps"):
        return "never" if math.isinf(score) else f"{int(score)}"
    return f"{score:.1e}"


def _check_grid(grid) -> dict:
    if not isinstance(grid, dict) or "lr" not in grid:
        raise TypeError(f"grid must be a dict with an 'lr' entry, e.g. {{'lr': [0.01, 0.1]}}, got {grid!r}")
    if len(grid) > 2:
        raise ValueError(f"Invalid grid: {list(grid)} (allowed: 'lr' and at most one other hyperparameter)")
    out = {}
    for name, values in grid.items():
        if name not in TUNABLE:
            raise ValueError(f"Invalid grid key: {name!r} (allowed: {', '.join(TUNABLE)})")
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError(f"grid[{name!r}] must be a list of numbers, got {values!r}")
        values = [check_real(f"grid[{name!r}]", v, low=0.0) for v in values]
        if not values or len(set(values)) != len(values):
            raise ValueError(f"Invalid grid[{name!r}]: {values} (allowed: a non-empty list without repeats)")
        out[name] = tuple(values)
    return out


def _hyper(optimizer, point: dict) -> dict:
    """Grid names to the optimizer's arguments: ``beta1`` becomes Adam's ``betas`` (with its default beta2)."""
    point = dict(point)
    if "beta1" in point:
        point["betas"] = (point.pop("beta1"), 0.999)
    return point


def sweep(
    optimizer,
    objective: Objective,
    grid: dict,
    *,
    steps: int = 100,
    until: float | None = None,
    seed=0,
    last: int = 1,
    run=None,
) -> Sweep:
    r"""Run ``optimizer`` at every point of ``grid`` on ``objective`` and pick the best setting by a stated rule.

    Every run starts at the same point and, on a noisy objective, sees the same noise (the same seeds).

    Args:
        optimizer: a name from :data:`lessonlib.course.runs.OPTIMIZERS` (``"momentum"``, ``"Adam"``, ...).
        objective: the loss :math:`f` to minimise (or any problem ``run`` accepts).
        grid: ``{"lr": [...]}``, optionally with one more of :data:`TUNABLE`, e.g. ``"momentum"`` (:math:`\mu`)
            or ``"beta1"`` (:math:`\beta_1`; :math:`\beta_2` stays 0.999). Every combination is run.
        steps: how many steps each run takes.
        until: ``None`` to score by the final loss; a loss ``tol`` to score by the steps until
            :math:`f(\theta_t) < \mathrm{tol}`.
        seed: the seed of the gradient noise, the same for every run; a list of seeds runs each setting once per
            seed and averages the scores (a noisy objective's final loss varies from seed to seed).
        last: score by the mean loss over the last ``last`` steps instead of the final loss alone (on a noisy
            objective, the level of its noise floor rather than one draw from it).
        run: the function that runs one setting, ``run(optimizer, objective, steps=, seed=, **hyper)``, returning
            an object with ``losses`` (from :math:`t = 0`) and ``diverged``; default :func:`runs.run`.

    >>> from lessonlib.course.objectives import quadratic
    >>> s = sweep("momentum", quadratic(), {"lr": [0.05, 0.1], "momentum": [0.5, 0.9]}, until=1e-3)
    >>> s.rule, s.best.hyper, s.best.score
    ('steps until loss < 0.001 (fewer is better)', {'lr': 0.1, 'momentum': 0.5}, 15.0)
    """
    grid = _check_grid(grid)
    if until is not None:
        until = check_real("until", until, low=0.0)
    seeds = list(seed) if isinstance(seed, (list, tuple, range)) else [seed]
    if not seeds:
        raise ValueError("Invalid seed: an empty list (allowed: a seed or a non-empty list of them)")
    if isinstance(last, bool) or not isinstance(last, int) or not 1 <= last <= max(steps, 1):
        raise ValueError(f"Invalid last: {last!r} (allowed: an int from 1 to steps)")
    run = _runs.run if run is None else run
    if not callable(run):
        raise TypeError(f"run must be a function, got {type(run).__name__}")
    if until is not None:
        rule = f"steps until loss < {until:g} (fewer is better)"
    else:
        rule = "loss after {steps} steps" if last == 1 else f"mean loss over steps {steps - last + 1}-{steps}"
        rule = rule.format(steps=steps) + " (lower is better)"
    if len(seeds) > 1:
        rule = rule.replace(" (", f", mean of {len(seeds)} seeds (", 1)
    outcomes = []
    for combo in itertools.product(*grid.values()):
        point = dict(zip(grid, combo))
        scores, finals, diverged = [], [], False
        for sd in seeds:
            tr = run(optimizer, objective, steps=steps, seed=sd, **_hyper(optimizer, point))
            losses = np.asarray(tr.losses, dtype=np.float64)
            diverged = diverged or bool(tr.diverged) or not losses[-1] <= losses[0]
            if diverged:
                break
            finals.append(float(losses[-1]))
            if until is None:
                scores.append(float(np.mean(losses[-last:])))
            else:
                hit = np.flatnonzero(losses < until)
                scores.append(float(hit[0]) if hit.size else math.inf)
        score = math.inf if diverged else float(np.mean(scores))
        final = math.inf if diverged else float(np.mean(finals))
        outcomes.append(Outcome(point, score, diverged, final))
    best = min(outcomes, key=lambda o: (o.score, o.final_loss))
    name = optimizer if isinstance(optimizer, str) else getattr(optimizer, "__name__", str(optimizer))
    return Sweep(name, grid, rule, outcomes, best)


def lr_grid(low: float, high: float, per_decade: int = 4) -> list[float]:
    r"""Learning rates from ``low`` to ``high``, evenly spaced on a log scale, rounded to 3 significant digits.

    Args:
        low: the smallest learning rate (> 0).
        high: the largest (>= low).
        per_decade: how many points per factor of 10.

    >>> lr_grid(0.01, 1.0, per_decade=2)
    [0.01, 0.0316, 0.1, 0.316, 1.0]
    """
    low = check_real("low", low, low=0.0)
    high = check_real("high", high, low=low)
    if low == 0.0:
        raise ValueError("Invalid low: 0.0 (allowed: 0 < low)")
    if isinstance(per_decade, bool) or not isinstance(per_decade, int) or not 1 <= per_decade <= 100:
        raise ValueError(f"Invalid per_decade: {per_decade!r} (allowed: an int from 1 to 100)")
    n = round(math.log10(high / low) * per_decade) + 1
    return [float(f"{x:.3g}") for x in np.logspace(math.log10(low), math.log10(high), n)]


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
                    cols.append((label, f"{_SYMBOL.get(name, name)} {_num(x)}", s, {name: x}))
    return cols


def _check_sweeps(sweeps) -> dict:
    if not isinstance(sweeps, dict) or not sweeps or not all(isinstance(s, Sweep) for s in sweeps.values()):
        raise TypeError(f"sweeps must be a non-empty dict {{label: Sweep}}, got {sweeps!r}")
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
    first = max(6, *(len(_num(lr)) + 1 for lr in lrs))
    rows = []
    for lr in lrs:
        cells = []
        for _, _, s, fixed in cols:
            if lr not in s.grid["lr"]:
                cells.append(("", ""))
                continue
            out = s.best_at(lr=lr) if fixed is None else s._at({**fixed, "lr": lr})
            text = ("*" if out is s.best else "") + ("div" if out.diverged else _score(out.score, rule))
            other = ", ".join(_num(v) for n, v in out.hyper.items() if n != "lr")
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
                    f"{_SYMBOL.get(n, n)} " + ", ".join(_num(x) for x in s.grid[n]) for n in s.grid if n != "lr"
                )
                lines.append(f"  {label}: {tried}")
    lines.append(f"{'lr':<{first}s}" + "".join(f"{c[0]:>{width}s}" for c in cols))
    if any(c[1] for c in cols):
        lines.append(" " * first + "".join(f"{c[1]:>{width}s}" for c in cols))
    for lr, cells in zip(lrs, rows):
        lines.append((f"{_num(lr):<{first}s}" + "".join(f"{c:>{width}s}" for c in cells)).rstrip())
    for label, s in sweeps.items():
        chosen = ", ".join(f"{n} {_num(v)}" for n, v in s.best.hyper.items())
        lines.append(f"{label}: every run diverged" if s.best.diverged else f"{label}: {chosen}")
        for name in s.edges:
            what = "learning rate" if name == "lr" else f"{_SYMBOL.get(name, name)} {_num(s.best.hyper[name])}"
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
    rows = []
    for label, s in sweeps.items():
        lrs, best = s.profile("lr", key)
        if not np.isfinite(best).any():
            rows.append([label, "every run diverged"])
            continue
        i = int(np.argmin(best))
        row = [label, f"{best[i]:.1e} at {_num(lrs[i])}"]
        for b in below:
            span = s.good_range(b, key)
            if span is None:
                row.append("none")
            elif span[0] == span[1]:
                row.append(f"{_num(span[0])} only")
            else:
                good, inside = s.good_count(b, key)
                width = _num(float(f"{span[1] / span[0]:.3g}"))
                row.append(f"{_num(span[0])} to {_num(span[1])} (x{width}, {good} of {inside})")
        rows.append(row)
    head = ["", "best at lr", *(f"< {_num(b)}" for b in below)]
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
    if key not in KEYS:
        raise ValueError(f"Invalid key: {key!r} (allowed: one of {list(KEYS)})")
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


class _Scheduled:
    r"""An optimizer whose learning rate is multiplied by a schedule: ``lr`` = :math:`\alpha\,\eta_t` before step t."""

    def __init__(self, opt, lr: float, schedule):
        self.opt, self.lr, self.schedule, self.t = opt, lr, schedule, 0

    def step(self, grads, *, check_finite: bool = True) -> None:
        self.t += 1
        self.opt.lr = self.lr * float(self.schedule(self.t))
        self.opt.step(grads, check_finite=check_finite)


def scheduled(optimizer, schedule):
    r"""``optimizer`` with a learning-rate schedule, as a class-like maker that runs and sweeps accept.

    Before step :math:`t` the maker's optimizer sets its learning rate to :math:`\alpha\,\eta_t`, :math:`\alpha`
    the ``lr`` it was made with and :math:`\eta_t` = ``schedule(t)`` (a function of the step from 1, such as those
    of :mod:`lessonlib.optim.schedules`). Pass it wherever a name or a class of optimizer goes:
    :func:`sweep`, :func:`lessonlib.course.runs.run`, :func:`lessonlib.course.momentum.minibatch_run`.

    Args:
        optimizer: a name from :data:`lessonlib.course.runs.OPTIMIZERS` or an optimizer class.
        schedule: :math:`\eta`, a function of the step :math:`t \ge 1` returning the multiplier.

    >>> from functools import partial
    >>> from lessonlib.course.objectives import quadratic
    >>> from lessonlib.optim.schedules import warmup_cosine
    >>> cosine = scheduled("SGD", partial(warmup_cosine, warmup_steps=0, total_steps=2))
    >>> cosine.__name__
    'SGD, scheduled'
    >>> _runs.run(cosine, quadratic(), steps=2, lr=0.1).path[:, 0].round(3).tolist()   # eta = 0.5, then 0
    [-4.0, -3.8, -3.8]
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be a function of the step t, got {type(schedule).__name__}")
    if not (isinstance(optimizer, str) or callable(optimizer)):
        raise TypeError(f"optimizer must be a name or an optimizer class, got {type(optimizer).__name__}")
    if isinstance(optimizer, str) and optimizer not in _runs.OPTIMIZERS:
        raise ValueError(f"Invalid optimizer: {optimizer!r} (allowed: one of {list(_runs.OPTIMIZERS)})")

    def make(params, *, lr, **hyper):
        lr = check_real("lr", lr)
        return _Scheduled(_runs.make(optimizer, params, lr=lr, **hyper), lr, schedule)

    name = optimizer if isinstance(optimizer, str) else getattr(optimizer, "__name__", str(optimizer))
    make.__name__ = f"{name}, scheduled"
    return make
