"""Checks for notebook 03 (AdaGrad and RMSprop)."""

from __future__ import annotations

import functools

import numpy as np

from lessonlib.course import objectives, runs, tuning
from lessonlib.exercises import Result, check_digits, shown, unanswered
from lessonlib.optim.rmsprop import rmsprop_step


def _first_step(g, *, lr, alpha, eps):
    return float(rmsprop_step(np.float64(0.0), np.float64(g), np.float64(0.0), 1, lr=lr, alpha=alpha, eps=eps).update)


def check_first_step(answer) -> Result:
    """Exercise 1: the size of RMSprop's first step for g = 3, lr = 0.01, rho = 0.99 (torch's ``alpha``), eps = 0."""
    return check_digits(
        "first step",
        answer,
        expected=_first_step(3.0, lr=0.01, alpha=0.99, eps=0.0),
        hint="RMSprop has no bias correction: v starts at 0, so v_1 holds only a small share of g_1^2.",
        slips={
            0.01: "That is lr itself: either you corrected v_1 for its bias (RMSprop has no bias correction) or you "
            "swapped rho and 1 - rho (rho keeps the old v).",
            0.03: "That is lr * g, a plain gradient step: RMSprop divides g by the root of v.",
            0.01 * 3 / 0.03**0.5: "Your v_1 averages g, not g squared.",
            0.01 * 3 / 0.09: "You divided by v_1 itself: RMSprop divides by its square root.",
        },
    )


def check_eps_share(answer) -> Result:
    """Exercise 2: RMSprop's first step in units of lr for g = 1e-8, alpha = 0.99, eps = 1e-8, to three digits."""
    return check_digits(
        "first step / lr",
        answer,
        expected=_first_step(1e-8, lr=1.0, alpha=0.99, eps=1e-8),
        hint="Compare sqrt(v_1) with eps: which of the two terms of the denominator is larger here?",
        slips={
            10.0: "That leaves eps out: here sqrt(v_1) is smaller than eps, so eps decides the step.",
            1e-4: "That puts eps inside the root; torch adds it after the root.",
            0.5: "Your v_1 is g_1^2: RMSprop's v_1 holds only a share of it (no bias correction).",
        },
    )


def check_decay_for_first_step(answer) -> Result:
    """Exercise 3: the decay rho (torch's ``alpha``) with a first RMSprop step of 2 lr (g != 0, eps = 0), 3 digits."""
    return check_digits(
        "rho",
        answer,
        expected=1 - 1 / 2**2,  # lr / sqrt(1 - rho) = 2 lr
        hint="Write the first step in units of lr (Exercise 1 did it for rho = 0.99), set it to 2 and solve for rho.",
        slips={
            0.5: "With that rho the first step is sqrt(2) lr, not 2 lr: the step depends on a square root.",
            0.25: "That is 1 - rho: rho is the weight of the old v, 1 - rho the new g^2's share.",
        },
    )


# Exercise 5: the bowl's comparison run both ways. Untuned: one learning rate for all three. Tuned: each optimizer at
# the best setting of the grids notebook 03 sweeps (the same grids as its comparison cell), by the loss after 60 steps.
NAMES = ("SGD", "momentum", "RMSprop")
STEPS = 60
SHARED = {"SGD": {"lr": 0.01}, "momentum": {"lr": 0.01, "momentum": 0.9}, "RMSprop": {"lr": 0.01}}


def _grids() -> dict:
    lrs = tuning.lr_grid(0.0562, 0.75, per_decade=8)
    return {
        "SGD": {"lr": lrs},
        "momentum": {"lr": lrs, "momentum": [0.0, 0.2, 0.4, 0.6, 0.8, 0.9]},
        "RMSprop": {"lr": lrs},
    }


@functools.cache
def _rankings() -> tuple[tuple[str, ...], tuple[str, ...]]:
    bowl = objectives.quadratic(a=1.0, b=20.0)
    untuned = {name: runs.run(name, bowl, steps=STEPS, **hyper).final_loss for name, hyper in SHARED.items()}
    tuned = {name: tuning.sweep(name, bowl, grid, steps=STEPS).best.score for name, grid in _grids().items()}
    return tuple(sorted(untuned, key=untuned.get)), tuple(sorted(tuned, key=tuned.get))


def rankings() -> tuple[list[str], list[str]]:
    """The two rankings of exercise 5, lowest loss after 60 steps first: untuned (``SHARED``), then tuned."""
    untuned, tuned = _rankings()
    return list(untuned), list(tuned)


def _names(ranking) -> list[str] | None:
    """``ranking`` as the three canonical names (any case), or None if it is not an order of the three."""
    if isinstance(ranking, str) or not isinstance(ranking, (list, tuple)):
        return None
    canon = {n.lower(): n for n in NAMES}
    got = [canon.get(x.strip().lower()) if isinstance(x, str) else None for x in ranking]
    return got if sorted(got, key=str) == sorted(NAMES, key=str) and None not in got else None


def check_rankings(untuned, tuned) -> Result:
    """Exercise 5: the order of SGD, momentum and RMSprop on the bowl, untuned and then tuned, best first."""
    name = "rankings"
    if untuned is ... or tuned is ... or untuned is None or tuned is None:
        return unanswered(name)
    got_u, got_t = _names(untuned), _names(tuned)
    if got_u is None or got_t is None:
        return Result(
            False,
            f"✗ {name}: each answer must be a list of the three names {list(NAMES)} in some order, "
            f"got {shown(untuned)} and {shown(tuned)}.",
        )
    want_u, want_t = rankings()
    if got_u == want_u and got_t == want_t:
        return Result(True, f"✓ {name}: untuned {got_u}, tuned {got_t} are right.")
    if got_u == want_u[::-1] and got_t == want_t[::-1]:
        hint = "Both are upside down: rank the lowest loss first."
    elif got_u == got_t:
        hint = (
            "You gave the same order twice, but tuning changes it: rank the tuned runs by each sweep's best score "
            "(sweeps[name].best.score), the untuned ones by the loss after 60 steps at lr 0.01."
        )
    elif got_u != want_u and got_t == want_t:
        hint = (
            "The tuned order is right. For the untuned one run all three at lr 0.01 (momentum with mu = 0.9, "
            "RMSprop with torch's rho = 0.99) for 60 steps and sort by the final loss."
        )
    elif got_u == want_u:
        hint = "The untuned order is right. For the tuned one sort by each sweep's best score, lowest first."
    else:
        hint = "Sort each set of runs by its loss after 60 steps, lowest first."
    return Result(False, f"✗ {name}: untuned {got_u}, tuned {got_t}: not both right. {hint}")
