"""Checks for notebook 03 (AdaGrad and RMSprop)."""

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
        rtol=2e-3,  # three significant digits are enough: 0.909 is right
        hint="Compare sqrt(v_1) with eps: which of the two terms of the denominator is larger here?",
    )


def check_decay_for_first_step(answer) -> Result:
    """Exercise 3: the decay rho (torch's ``alpha``) whose first RMSprop step is 2 lr (any nonzero g, eps = 0)."""
    return check_value(
        "rho",
        answer,
        expected=1 - 1 / 2**2,  # lr / sqrt(1 - alpha) = 2 lr
        hint="The first step is lr / sqrt(1 - rho) in size; set that equal to 2 lr and solve for rho.",
    )
