r"""Run a lessonlib optimizer on a 2-D objective and record where it went.

:func:`run` starts at :math:`\theta_0`, and for :math:`t = 1, \dots, n` computes
:math:`g_t = \nabla f(\theta_{t-1})` (noisy if the objective is) and calls
``opt.step([g_t])``. It returns the path :math:`\theta_0, \dots, \theta_n` and the
losses :math:`f(\theta_0), \dots, f(\theta_n)`. :func:`make` builds an optimizer from a name of
:data:`OPTIMIZERS` or a class; :func:`scheduled` gives a maker whose learning rate follows a schedule.

>>> import lessonlib as ll
>>> from lessonlib.course.objectives import quadratic
>>> tr = run(ll.SGD, quadratic(), steps=3, lr=0.1, start=(-4.0, 1.0))
>>> tr.path.round(4).tolist()    # theta_1 shrinks by 1 - 0.1, theta_2 flips: 1 - 0.1 * 20 = -1
[[-4.0, 1.0], [-3.6, -1.0], [-3.24, 1.0], [-2.916, -1.0]]
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lessonlib.course.objectives import Objective
from lessonlib.optim._checks import (
    MAX_RUN_STEPS,
    brief,
    check_int,
    check_made,
    check_name,
    check_real,
    check_reals,
    check_seed,
)
from lessonlib.optim.adam import Adam
from lessonlib.optim.rmsprop import RMSprop
from lessonlib.optim.sgd import SGD


class Entry(NamedTuple):
    r"""One optimizer the lessons compare, as the panels' sliders drive it.

    It holds the optimizer's class, its fixed keyword arguments, what the sliders set and the slider values it
    starts from.

    ``sliders(lr, beta1, beta2)`` gives the keyword arguments one set of slider values means:
    ``beta1`` is the momentum of "momentum" (it plays the part of Adam's beta1), ``beta2`` is
    RMSprop's decay :math:`\rho` (torch calls it ``alpha``); plain SGD uses only ``lr``.
    ``defaults`` holds a value for each slider the optimizer uses (and only those): the panel
    moves the sliders there when the optimizer is chosen, so RMSprop starts from its own
    :math:`\rho = 0.99` (torch's default), not from Adam's :math:`\beta_2 = 0.999`.
    """

    cls: type
    fixed: dict
    sliders: object
    defaults: dict = {}


#: The one registry of the optimizers the lessons compare, by display name. The defaults suit the bowl
#: (``objectives.quadratic()``) and are torch's where torch has one (RMSprop's rho, Adam's betas).
OPTIMIZERS = {
    "SGD": Entry(SGD, {}, lambda lr, beta1, beta2: {"lr": lr}, {"lr": 0.05}),
    "momentum": Entry(
        SGD,
        {"momentum": 0.9},
        lambda lr, beta1, beta2: {"lr": lr, "momentum": beta1},
        {"lr": 0.01, "beta1": 0.9},
    ),
    "RMSprop": Entry(RMSprop, {}, lambda lr, beta1, beta2: {"lr": lr, "alpha": beta2}, {"lr": 0.1, "beta2": 0.99}),
    "Adam": Entry(
        Adam,
        {},
        lambda lr, beta1, beta2: {"lr": lr, "betas": (beta1, beta2)},
        {"lr": 0.1, "beta1": 0.9, "beta2": 0.999},
    ),
}


class Trajectory(NamedTuple):
    """Where an optimizer went: ``path`` has shape ``(k + 1, 2)``, ``losses`` shape ``(k + 1,)``.

    ``k`` is the number of steps taken: ``steps``, or fewer if the run diverged
    (``diverged`` is then True and the path stops at the last finite point).
    """

    path: np.ndarray
    losses: np.ndarray
    diverged: bool

    @property
    def final_loss(self) -> float:
        """The loss after the last step."""
        return float(self.losses[-1])


def make(optimizer, params, **hyper):
    """An optimizer over ``params``: ``optimizer`` is a class (``ll.Adam``) or a name from :data:`OPTIMIZERS`.

    With a name, the fixed arguments of :data:`OPTIMIZERS` come first and ``hyper``
    overrides them; arguments the optimizer does not take (``betas`` for SGD,
    say) are an error, as in ``torch.optim``.

    >>> import numpy as np
    >>> make("momentum", [np.zeros(2)], lr=0.1)
    SGD([(2,)], lr=0.1, momentum=0.9, weight_decay=0.0)
    """
    if isinstance(optimizer, str):
        entry = OPTIMIZERS[check_name("optimizer", optimizer, OPTIMIZERS)]
        return entry.cls(params, **{**entry.fixed, **hyper})
    if not callable(optimizer):
        raise TypeError(
            f"optimizer must be a name from {list(OPTIMIZERS)} or an optimizer class, got {type(optimizer).__name__}"
        )
    return check_made("optimizer", optimizer(params, **hyper))


def run(optimizer, objective: Objective, *, steps: int = 100, start=None, seed: int = 0, **hyper) -> Trajectory:
    """Run ``optimizer`` (class or name, see :func:`make`) with ``hyper`` on ``objective`` for ``steps`` steps.

    ``start`` defaults to ``objective.start``; ``seed`` seeds the gradient noise of a
    noisy objective, so two runs with the same seed see the same noise. A run whose
    iterate or gradient stops being finite ends there with ``diverged=True``.

    >>> import lessonlib as ll
    >>> from lessonlib.course.objectives import quadratic
    >>> tr = run("Adam", quadratic(), steps=200, lr=0.1)
    >>> tr.path.shape, tr.diverged, tr.final_loss < 1e-3
    ((201, 2), False, True)
    """
    if not isinstance(objective, Objective):
        raise TypeError(
            f"objective must be an Objective (from lessonlib.course.objectives), got {type(objective).__name__}"
        )
    steps, seed = check_int("steps", steps, high=MAX_RUN_STEPS), check_seed(seed)
    theta = check_reals("start", objective.start if start is None else start, low=-math.inf)
    if theta.shape != (2,):
        raise ValueError(f"start must be a point (theta_1, theta_2), got shape {theta.shape}")
    opt = make(optimizer, [theta], **hyper)
    rng = np.random.default_rng(seed)
    path, losses, diverged = [theta.copy()], [float(objective.value(theta))], False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            g = objective.grad(theta, rng)
            if not (math.isfinite(g[0]) and math.isfinite(g[1])):
                diverged = True
                break
            opt.step([g], check_finite=False)  # g was just checked: no second look at it
            loss = float(objective.value(theta))
            if not (math.isfinite(theta[0]) and math.isfinite(theta[1]) and math.isfinite(loss)):
                diverged = True
                break
            path.append(theta.copy())
            losses.append(loss)
    return Trajectory(np.array(path), np.array(losses), diverged)


def compare(runs: dict, objective: Objective, *, steps: int = 100, seed: int = 0) -> dict[str, Trajectory]:
    """Several runs on one objective: ``runs`` maps a label to ``(optimizer, hyper)``.

    Every run gets the same ``seed``, so on a noisy objective they face the same noise.

    >>> from lessonlib.course.objectives import quadratic
    >>> out = compare({"SGD": ("SGD", {"lr": 0.05}), "Adam": ("Adam", {"lr": 0.1})}, quadratic(), steps=50)
    >>> sorted(out), out["SGD"].path.shape
    (['Adam', 'SGD'], (51, 2))
    """
    if not isinstance(runs, dict):
        raise TypeError(f"runs must be a dict {{label: (optimizer, hyper)}}, got {type(runs).__name__}")
    steps, seed = check_int("steps", steps, high=MAX_RUN_STEPS), check_seed(seed)
    for label, entry in runs.items():
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2 and isinstance(entry[1], dict)):
            raise TypeError(f"runs[{brief(label, 40)}] must be a pair (optimizer, hyper), got {brief(entry, 60)}")
    return {label: run(opt, objective, steps=steps, seed=seed, **hyper) for label, (opt, hyper) in runs.items()}


class _Scheduled:
    r"""An optimizer whose learning rate is multiplied by a schedule: ``lr`` = :math:`\alpha\,\eta_t` before step t."""

    def __init__(self, opt, lr: float, schedule):
        self.opt, self.lr, self.schedule, self.t = opt, lr, schedule, 0

    def step(self, grads, *, check_finite: bool = True) -> None:
        r"""One step at ``lr`` = :math:`\alpha\,\eta_t`.

        A rejected step (a bad gradient, a schedule value that is not a learning rate) leaves the step count and
        the optimizer's learning rate as they were.
        """
        before = self.opt.lr
        self.opt.lr = self.lr * float(self.schedule(self.t + 1))  # the optimizer checks it (0 <= lr, finite)
        try:
            self.opt.step(grads, check_finite=check_finite)
        except BaseException:
            self.opt.lr = before
            raise
        self.t += 1


def scheduled(optimizer, schedule):
    r"""``optimizer`` with a learning-rate schedule, as a class-like maker that runs and sweeps accept.

    Before step :math:`t` the maker's optimizer sets its learning rate to :math:`\alpha\,\eta_t`, :math:`\alpha`
    the ``lr`` it was made with and :math:`\eta_t` = ``schedule(t)`` (a function of the step from 1, such as those
    of :mod:`lessonlib.optim.schedules`). Pass it wherever a name or a class of optimizer goes:
    :func:`lessonlib.course.tuning.sweep`, :func:`run`, :func:`lessonlib.course.gradient_noise.minibatch_run`.

    Args:
        optimizer: a name from :data:`OPTIMIZERS` or an optimizer class.
        schedule: :math:`\eta`, a function of the step :math:`t \ge 1` returning the multiplier.

    >>> from functools import partial
    >>> from lessonlib.course.objectives import quadratic
    >>> from lessonlib.optim.schedules import warmup_cosine
    >>> cosine = scheduled("SGD", partial(warmup_cosine, warmup_steps=0, total_steps=2))
    >>> cosine.__name__
    'SGD, scheduled'
    >>> run(cosine, quadratic(), steps=2, lr=0.1).path[:, 0].round(3).tolist()   # eta = 0.5, then 0
    [-4.0, -3.8, -3.8]
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be a function of the step t, got {type(schedule).__name__}")
    if not (isinstance(optimizer, str) or callable(optimizer)):
        raise TypeError(f"optimizer must be a name or an optimizer class, got {type(optimizer).__name__}")
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise ValueError(f"Invalid optimizer: {brief(optimizer)} (allowed: one of {list(OPTIMIZERS)})")

    def maker(params, *, lr, **hyper):
        lr = check_real("lr", lr)
        return _Scheduled(make(optimizer, params, lr=lr, **hyper), lr, schedule)

    name = optimizer if isinstance(optimizer, str) else getattr(optimizer, "__name__", str(optimizer))
    maker.__name__ = f"{name}, scheduled"
    return maker
