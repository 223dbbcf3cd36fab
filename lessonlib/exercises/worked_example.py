r"""Checks for notebook 05 (the worked example): step 3 by hand.

The learner starts from the exact state after step 2 (:math:`m_2 = 0.075`,
:math:`v_2 = 0.00033975`, :math:`\theta_2` from the table) and the gradient
:math:`g_3 = 0.8`, and computes :math:`m_3, v_3, \hat m_3, \hat v_3`, the update
and :math:`\theta_3`. Each check knows the likely slips (the lesson's rounded
numbers, a forgotten bias correction, the wrong power of beta, ...) and names
the one an answer matches:

>>> check_v3(0.999 * 0.0003398 + 0.001 * 0.8**2)  # doctest: +NORMALIZE_WHITESPACE
✗ v_3 = 0.0009794602 is not right (relative error 5.1e-05). You used the lesson's rounded v_2 = 0.0003398;
the exact v_2 is 0.00033975 (0.999 · 0.00025 = 0.00024975, not 0.0002498).
>>> check_m_hat3(0.1475)  # doctest: +NORMALIZE_WHITESPACE
✗ m̂_3 = 0.1475 is not right (relative error 7.3e-01). You forgot the bias correction: that is m_3 itself;
divide it by 1 - β1^3.
"""

from __future__ import annotations

import math

import numpy as np

from lessonlib.course.worked_example import GRADS, HYPER, LESSON, table
from lessonlib.exercises import Result, check_value, unanswered
from lessonlib.optim.ema import ema_update, ema_weight_sum

_EXACT = table("exact")
_S2, _S3 = _EXACT[1], _EXACT[2]
T = 3
G3 = GRADS[2]
LR, BETA1, BETA2, EPS = HYPER["lr"], HYPER["beta1"], HYPER["beta2"], HYPER["eps"]

#: Where step 3 starts: the exact state after step 2, as floats.
M2, V2, THETA2 = float(_S2.m), float(_S2.v), float(_S2.theta)
M_HAT2, V_HAT2 = float(_S2.m_hat), float(_S2.v_hat)
#: The right answers (exact, rounded to float64).
M3, V3, M_HAT3, V_HAT3, UPDATE3, THETA3 = (
    float(getattr(_S3, k)) for k in ("m", "v", "m_hat", "v_hat", "update", "theta")
)
BC1, BC2 = ema_weight_sum(BETA1, T), ema_weight_sum(BETA2, T)

LESSON_V2, LESSON_M_HAT2 = float(LESSON[2, "v"]), float(LESSON[2, "m_hat"])
LESSON_THETA2 = float(LESSON[2, "theta"])

_MATCH_RTOL = 1e-6  # an answer this close to a known slip is taken to be that slip


def _update(m_hat, v_hat, lr=LR, root=math.sqrt):
    """The update's last line, for building the *wrong* answers below (the right one comes from the table)."""
    return lr * m_hat / (root(v_hat) + EPS)


def _check(name, answer, expected, slips, hint, rtol=1e-6) -> Result:
    """check_value, with the hint of the first known slip that ``answer`` matches (else the general ``hint``)."""
    if answer is ... or answer is None:
        return unanswered(name)
    try:
        got = float(np.asarray(answer, dtype=np.float64))
    except (TypeError, ValueError):
        got = None
    if got is not None and not np.isclose(got, expected, rtol=rtol, atol=0.0):
        for value, slip_hint in slips:
            if np.isclose(got, value, rtol=_MATCH_RTOL, atol=0.0):
                hint = slip_hint
                break
    return check_value(name, answer, expected, rtol=rtol, hint=hint)


def check_m3(answer) -> Result:
    r"""Exercise 1a: :math:`m_3 = \beta_1 m_2 + (1-\beta_1) g_3`."""
    slips = [
        (ema_update(M_HAT2, G3, BETA1), "You started from m̂_2; the average carries the raw m_2 = 0.075 forward."),
        (ema_update(LESSON_M_HAT2, G3, BETA1), "You started from the lesson's m̂_2 = 0.395; use the raw m_2 = 0.075."),
        (ema_update(M2, G3, 1 - BETA1), "The weights are swapped: β1 = 0.9 multiplies the old average m_2."),
        (BETA1 * M2 + G3, "The new gradient needs its weight 1 - β1 = 0.1."),
        (M3 / BC1, "That is m̂_3; m_3 is the raw average, before bias correction."),
    ]
    return _check("m_3", answer, M3, slips, "m_3 = β1·m_2 + (1 - β1)·g_3, with m_2 = 0.075 and g_3 = 0.8.")


def check_v3(answer) -> Result:
    r"""Exercise 1b: :math:`v_3 = \beta_2 v_2 + (1-\beta_2) g_3^2`."""
    slips = [
        (
            ema_update(LESSON_V2, G3**2, BETA2),
            "You used the lesson's rounded v_2 = 0.0003398; the exact v_2 is 0.00033975 "
            "(0.999 · 0.00025 = 0.00024975, not 0.0002498).",
        ),
        (ema_update(V2, G3, BETA2), "v averages the squared gradient: use g_3² = 0.64, not g_3."),
        (ema_update(V_HAT2, G3**2, BETA2), "You started from v̂_2; the average carries the raw v_2 forward."),
        (ema_update(V2, G3**2, 1 - BETA2), "The weights are swapped: β2 = 0.999 multiplies the old average v_2."),
        (V3 / BC2, "That is v̂_3; v_3 is the raw average, before bias correction."),
    ]
    return _check("v_3", answer, V3, slips, "v_3 = β2·v_2 + (1 - β2)·g_3², with v_2 = 0.00033975 and g_3 = 0.8.")


def check_m_hat3(answer) -> Result:
    r"""Exercise 2a: :math:`\hat m_3 = m_3 / (1-\beta_1^3)`."""
    slips = [
        (M3, "You forgot the bias correction: that is m_3 itself; divide it by 1 - β1^3."),
        (M3 / (1 - BETA1), "You divided by 1 - β1 = 0.1; the correction at step 3 is 1 - β1^3 = 0.271."),
        (M3 / BETA1**T, "You divided by β1^3; the correction is 1 - β1^3."),
        (M3 / ema_weight_sum(BETA1, 2), "You used step 2's correction 1 - β1²; at t = 3 it is 1 - β1^3."),
    ]
    return _check("m̂_3", answer, M_HAT3, slips, "m̂_3 = m_3 / (1 - β1^3), with m_3 from exercise 1.")


def check_v_hat3(answer) -> Result:
    r"""Exercise 2b: :math:`\hat v_3 = v_3 / (1-\beta_2^3)`."""
    lesson_v3 = ema_update(LESSON_V2, G3**2, BETA2)
    slips = [
        (V3, "You forgot the bias correction: that is v_3 itself; divide it by 1 - β2^3."),
        (
            V3 / 0.003,
            "You rounded 1 - β2^3 = 0.002997001 to 0.003, as the lesson rounds 0.001999 to 0.002; "
            "that changes v̂_3 by 0.1%.",
        ),
        (lesson_v3 / BC2, "You carried the lesson's rounded v_2 = 0.0003398; the exact v_2 is 0.00033975."),
        (V3 / (1 - BETA2), "You divided by 1 - β2 = 0.001; the correction at step 3 is 1 - β2^3 = 0.002997001."),
        (V3 / ema_weight_sum(BETA2, 2), "You used step 2's correction 1 - β2²; at t = 3 it is 1 - β2^3."),
    ]
    return _check("v̂_3", answer, V_HAT3, slips, "v̂_3 = v_3 / (1 - β2^3), with v_3 from exercise 1.")


def check_update3(answer) -> Result:
    r"""Exercise 3a: the step :math:`\alpha\, \hat m_3 / (\sqrt{\hat v_3} + \epsilon)`."""
    slips = [
        (_update(M_HAT3, V_HAT3, root=lambda x: x), "You forgot the square root of v̂_3."),
        (_update(M3, V3), "You used m_3 and v_3; the update uses the bias-corrected m̂_3 and v̂_3."),
        (_update(M_HAT3, V3), "You used the raw v_3 under the root; use v̂_3."),
        (_update(M3, V_HAT3), "You used the raw m_3 on top; use m̂_3."),
        (_update(M_HAT3, V3 / 0.003), "You rounded 1 - β2^3 to 0.003; it is 0.002997001."),
        (
            _update(M_HAT3, ema_update(LESSON_V2, G3**2, BETA2) / BC2),
            "You carried the lesson's rounded v_2 = 0.0003398; the exact v_2 is 0.00033975.",
        ),
        (_update(M_HAT3, V_HAT3, lr=3e-4), "You used the lesson's 'default' lr = 3e-4; this example uses α = 0.001."),
        (-UPDATE3, "The update is the positive amount subtracted from θ; drop the minus sign."),
    ]
    return _check("update_3", answer, UPDATE3, slips, "update_3 = α·m̂_3 / (√v̂_3 + ε), with α = 0.001, ε = 1e-8.")


def check_theta3(answer) -> Result:
    r"""Exercise 3b: :math:`\theta_3 = \theta_2 - \text{update}_3` (to 9 significant digits)."""
    slips = [
        (
            LESSON_THETA2 - UPDATE3,
            f"You started from the lesson's θ_2 = 0.998, rounded to three decimals; θ_2 = {THETA2:.12f}.",
        ),
        (
            float(LESSON[1, "theta"]) - float(LESSON[2, "update"]) - UPDATE3,
            f"You started from the lesson's 0.999 - 0.00096 = 0.99804; θ_2 = {THETA2:.12f}.",
        ),
        (THETA2 + UPDATE3, "Adam subtracts the update: θ_3 = θ_2 - update_3."),
    ]
    return _check(
        "θ_3",
        answer,
        THETA3,
        slips,
        f"θ_3 = θ_2 - update_3, with θ_2 = {THETA2:.12f} from the table; keep every digit of the update.",
        rtol=1e-9,
    )
