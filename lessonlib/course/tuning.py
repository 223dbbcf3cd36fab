r"""Tune before you compare: run an optimizer over a grid of its hyperparameters and keep the best setting.

A comparison of optimizers says something only when each one runs at a setting that suits it. :func:`sweep`
runs one optimizer at every point of a grid (its learning rate :math:`\alpha`, and its momentum :math:`\mu` or
:math:`\beta_1` where it has one) on one objective, scores each run by a rule it states, marks the runs that
diverged, and returns every outcome with the best one, saying when a choice lies at an end of its grid
(:attr:`Sweep.edges`), where a wider grid might do better. :meth:`Sweep.table` prints the grid, so a notebook shows
what it tried, not only what it chose; :meth:`Sweep.profile` gives the best score at each learning rate. Several
sweeps side by side (tables, the sensitivity figure) are :mod:`lessonlib.course.sweep_reports`.

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
from lessonlib.optim._checks import MAX_RUN_STEPS, brief, check_int, check_name, check_real, check_seed, check_shown

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
        lines.append(f"{head:<{width}s}" + "".join(f"{number_text(c):>10s}" for c in cols))
        for row in rows:
            cells = []
            for lr in cols:
                hyper = dict(zip([n for n in names if n != "lr"], row), lr=lr)
                out = self.at(**hyper)
                text = "div" if out.diverged else score_text(out.score, self.rule)
                cells.append(("*" if out is self.best else "") + text)
            lines.append(f"{' '.join(number_text(x) for x in row):<{width}s}" + "".join(f"{c:>10s}" for c in cells))
        for name in self.edges:
            what = "learning rate" if name == "lr" else f"{name} ({number_text(self.best.hyper[name])})"
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
                raise ValueError(f"Invalid hyperparameter: {brief(name)} (allowed: one of {list(self.grid)})")
            if value not in self.grid[name]:
                raise ValueError(f"Invalid {name}: {brief(value)} is not on the grid {list(self.grid[name])}")
        found = [o for o in self.outcomes if all(o.hyper[n] == v for n, v in fixed.items())]
        return min(found, key=lambda o: (o.score, o.final_loss))

    def profile(self, name: str = "lr", key: str = "score") -> tuple[np.ndarray, np.ndarray]:
        """For each value of ``name`` (in grid order), the best ``key`` over the rest of the grid (inf: all diverged).

        Args:
            name: the hyperparameter along the profile, ``"lr"`` by default.
            key: ``"score"`` (the sweep's rule) or ``"final_loss"`` (the loss after the last step, whatever the
                rule; inf for a diverged run).
        """
        if not isinstance(name, str) or name not in self.grid:
            raise ValueError(f"Invalid name: {brief(name, 60)} (allowed: one of {list(self.grid)})")
        check_name("key", key, KEYS)
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
        check_name("key", key, KEYS)
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


def number_text(x: float) -> str:
    """A grid value as the tables print it (``%g``)."""
    return f"{check_shown('x', x):g}"


def score_text(score: float, rule: str) -> str:
    """A score as the tables print it: a step count (``never`` for inf) or a loss to two digits, by ``rule``."""
    score = check_shown("score", score)
    if not isinstance(rule, str):
        raise TypeError(f"rule must be a string (a Sweep's rule), got {type(rule).__name__}")
    if rule.startswith("steps"):
        return "never" if math.isinf(score) else f"{int(score)}"
    return f"{score:.1e}"


def _check_grid(grid) -> dict:
    if not isinstance(grid, dict) or "lr" not in grid:
        raise TypeError(f"grid must be a dict with an 'lr' entry, e.g. {{'lr': [0.01, 0.1]}}, got {brief(grid)}")
    if len(grid) > 2:
        raise ValueError(f"Invalid grid: {list(grid)} (allowed: 'lr' and at most one other hyperparameter)")
    out = {}
    for name, values in grid.items():
        if name not in TUNABLE:
            raise ValueError(f"Invalid grid key: {brief(name)} (allowed: {', '.join(TUNABLE)})")
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError(f"grid[{brief(name)}] must be a list of numbers, got {brief(values)}")
        values = [check_real(f"grid[{brief(name)}]", v, low=0.0) for v in values]
        if not values or len(set(values)) != len(values):
            raise ValueError(f"Invalid grid[{brief(name)}]: {values} (allowed: a non-empty list without repeats)")
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
    if not (isinstance(optimizer, str) or callable(optimizer)):
        raise TypeError(f"optimizer must be a name or an optimizer class, got {type(optimizer).__name__}")
    if run is None and isinstance(optimizer, str) and optimizer not in _runs.OPTIMIZERS:
        raise ValueError(f"Invalid optimizer: {brief(optimizer, 60)} (allowed: one of {list(_runs.OPTIMIZERS)})")
    grid = _check_grid(grid)
    if until is not None:
        until = check_real("until", until, low=0.0)
    steps = check_int("steps", steps, high=MAX_RUN_STEPS)
    seeds = list(seed) if isinstance(seed, (list, tuple, range)) else [seed]
    if not seeds:
        raise ValueError("Invalid seed: an empty list (allowed: a seed or a non-empty list of them)")
    seeds = [check_seed(sd) for sd in seeds]
    last = check_int("last", last, low=1, high=max(steps, 1))
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
            if not isinstance(tr, _runs.Trajectory):
                raise TypeError(f"run must return a Trajectory (runs.run's result), it returned {brief(tr, 60)}")
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
    low, high = check_real("low", low, low=0.0), check_real("high", high, low=0.0)
    if not 0.0 < low <= high:
        raise ValueError(f"Invalid low, high: {low}, {high} (allowed: 0 < low <= high)")
    per_decade = check_int("per_decade", per_decade, low=1, high=100)
    n = round((math.log10(high) - math.log10(low)) * per_decade) + 1  # high / low may overflow
    return [float(f"{x:.3g}") for x in np.logspace(math.log10(low), math.log10(high), n)]
