r"""Tune before you compare: run an optimizer over a grid of its hyperparameters and keep the best setting.

A comparison of optimizers says something only when each one runs at a setting that suits it. :func:`sweep`
runs one optimizer at every point of a grid (its learning rate :math:`\alpha`, and its momentum :math:`\mu` or
:math:`\beta_1` where it has one) on one objective, scores each run by a rule it states, marks the runs that
diverged, and returns every outcome with the best one. :meth:`Sweep.table` prints the grid, so a notebook shows
what it tried, not only what it chose; :meth:`Sweep.profile` gives the best score at each learning rate, the
curve of the sensitivity figure (:func:`sensitivity_figure`).

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
from lessonlib.optim._checks import check_real

#: The hyperparameters a grid may vary, as the optimizers name them (torch's names).
TUNABLE = ("lr", "momentum", "beta1", "alpha", "weight_decay")


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
        if self.at_edge:
            lines.append("the best learning rate is at the edge of the grid: widen it before trusting the choice")
        return "\n".join(lines)

    @property
    def at_edge(self) -> bool:
        """True when the best learning rate is the grid's smallest or largest (a wider grid might do better)."""
        lrs = self.grid["lr"]
        return len(lrs) > 1 and self.best.hyper["lr"] in (min(lrs), max(lrs)) and math.isfinite(self.best.score)

    def profile(self, name: str = "lr") -> tuple[np.ndarray, np.ndarray]:
        """For each value of ``name`` (in grid order), the best score over the rest of the grid (inf: all diverged).

        Args:
            name: the hyperparameter along the profile, ``"lr"`` by default.
        """
        if name not in self.grid:
            raise ValueError(f"Invalid name: {name!r} (allowed: one of {list(self.grid)})")
        values = np.array(self.grid[name], dtype=np.float64)
        best = [min(o.score for o in self.outcomes if o.hyper[name] == x) for x in self.grid[name]]
        return values, np.array(best, dtype=np.float64)

    def good_range(self, below: float) -> tuple[float, float] | None:
        """The smallest and largest learning rate whose best score is below ``below`` (None if none is).

        Args:
            below: the score a learning rate must beat to count as good (a loss, or a number of steps).
        """
        below = check_real("below", below, low=-math.inf)
        lrs, best = self.profile("lr")
        good = lrs[best < below]
        return (float(good.min()), float(good.max())) if good.size else None

    def _at(self, hyper: dict) -> Outcome:
        return next(o for o in self.outcomes if o.hyper == hyper)


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


def sensitivity_figure(sweeps: dict, *, ax=None, floor: float = 1e-30):
    """Each sweep's best score against the learning rate, one curve per optimizer, both axes logarithmic.

    Learning rates where every run diverged are drawn as an x at the top of the axes. Returns ``ax``.

    Args:
        sweeps: ``{label: Sweep}``, all by the same rule.
        ax: the Axes to draw on (a new figure if None).
        floor: the smallest loss drawn (losses below it are drawn at it).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    top = 1.0
    for s in sweeps.values():
        finite = [o.score for o in s.outcomes if math.isfinite(o.score)]
        top = max([top, *finite])
    for i, (label, s) in enumerate(sweeps.items()):
        lrs, best = s.profile("lr")
        ok = np.isfinite(best)
        ax.plot(lrs[ok], np.maximum(best[ok], floor), "-o", color=f"C{i}", label=label, markersize=4)
        if (~ok).any():
            ax.plot(lrs[~ok], np.full((~ok).sum(), top * 3), "x", color=f"C{i}", markersize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"learning rate $\alpha$ (log scale)")
    first = next(iter(sweeps.values()), None)
    ax.set_ylabel(first.rule.split(" (")[0] if first else "score")
    ax.legend(fontsize=9)
    return ax
