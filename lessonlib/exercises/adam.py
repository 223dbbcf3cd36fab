"""Checks for notebook 04 (Adam, line by line)."""

from __future__ import annotations

import numpy as np

from lessonlib.exercises import Result, check_value
from lessonlib.optim.adam import adam_step, adam_trace, step_bound


def check_only_m_corrected(answer) -> Result:
    """Exercise 1: Adam's first step, in units of lr, with betas (0.9, 0.99), m corrected and v not (eps = 0)."""
    s = adam_step(0.0, 1.0, 0.0, 0.0, 1, lr=1.0, beta1=0.9, beta2=0.99, eps=0.0, correct="m")
    return check_value(
        "first step / lr (only m corrected)",
        answer,
        expected=s.update,
        hint="m_hat_1 = g_1, but v_1 = (1 - beta2) g_1^2 is left as it is: the step is 1 / sqrt(1 - beta2) lr.",
    )


def check_constant_gradient_distance(answer) -> Result:
    """Exercise 2: how far theta moves in 10 Adam steps (lr = 0.01, defaults) with the constant gradient -2."""
    steps = adam_trace(np.float64(0.0), [np.float64(-2.0)] * 10, lr=0.01)
    return check_value(
        "theta_10 - theta_0",
        answer,
        expected=float(steps[-1].theta),
        hint="With a constant gradient m_hat = g and v_hat = g^2 at every step, so each step is lr in size "
        "(up to eps); mind the direction: the gradient is negative.",
    )


def check_paper_bound(answer) -> Result:
    """Exercise 3: the paper's bound (1 - beta1) / sqrt(1 - beta2), in units of lr, for betas (0.8, 0.99)."""
    return check_value(
        "bound / lr",
        answer,
        expected=step_bound(0.8, 0.99),
        hint="Use (1 - beta1) / sqrt(1 - beta2), with beta1 = 0.8 and beta2 = 0.99.",
    )
