"""Checks for notebook 02 (RMSprop)."""

from __future__ import annotations

import numpy as np

from lessonlib.exercises import Result, check_value
from lessonlib.optim.rmsprop import rmsprop_step


def _first_step(g, *, lr, alpha, eps):
    return float(rmsprop_step(np.float64(0.0), np.float64(g), np.float64(0.0), 1, lr=lr, alpha=alpha, eps=eps).update)


def check_first_step(answer) -> Result:
    """Exercise 1: the size of RMSprop's first step for g = 3, lr = 0.01, alpha = 0.99, eps = 0."""
    return check_value(
        "first step",
        answer,
        expected=_first_step(3.0, lr=0.01, alpha=0.99, eps=0.0),
        hint="v_1 = (1 - alpha) g^2 and there is no bias correction, so sqrt(v_1) = 0.1 |g|; "
        "the step does not depend on g.",
    )


def check_eps_share(answer) -> Result:
    """Exercise 2: RMSprop's first step in units of lr for g = 1e-8, alpha = 0.99, eps = 1e-8."""
    return check_value(
        "first step / lr",
        answer,
        expected=_first_step(1e-8, lr=1.0, alpha=0.99, eps=1e-8),
        hint="sqrt(v_1) = 0.1 |g| = 1e-9 here, ten times smaller than eps: the denominator is 1e-9 + 1e-8.",
    )


def check_decay_for_first_step(answer) -> Result:
    """Exercise 3: the decay alpha whose first RMSprop step is 2 lr (any nonzero g, eps = 0)."""
    return check_value(
        "alpha",
        answer,
        expected=1 - 1 / 2**2,  # lr / sqrt(1 - alpha) = 2 lr
        hint="The first step is lr / sqrt(1 - alpha) in size; set that equal to 2 lr and solve for alpha.",
    )
