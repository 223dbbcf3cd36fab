r"""Checks for notebook 05 (the worked example): a third step by hand, with a new gradient.

The learner starts from the exact state after the lesson's step 2 (:math:`m_2 = 0.075`,
:math:`v_2 = 0.00033975`, :math:`\theta_2` from the table) and takes step 3 with the
gradient :math:`g_3 = -0.4`, not the lesson's 0.8: the notebook prints the lesson's own
step 3 in its tables above the exercises, so the exercise asks for a step no table shows.
The learner computes :math:`m_3, v_3, \hat m_3, \hat v_3`, the update and :math:`\theta_3`,
each to the significant digits the question states (:data:`DIGITS`, and
:data:`THETA_DIGITS` for :math:`\theta_3`). Each check knows the likely slips (the lesson's
rounded numbers, a forgotten bias correction, the wrong power of beta, ...) and names the
one an answer matches, without handing over the formula:

>>> check_v3(0.999 * 0.0003398 + 0.001 * (-0.4) ** 2)  # doctest: +NORMALIZE_WHITESPACE
✗ v_3 = 0.0004994602 is not right (relative error 1.0e-04). You used the lesson's rounded v_2 = 0.0003398;
the exact v_2 is 0.00033975 (0.999 · 0.00025 = 0.00024975, not 0.0002498).
>>> check_m_hat3(0.0275)  # doctest: +NORMALIZE_WHITESPACE
✗ m̂_3 = 0.0275 is not right (relative error 7.3e-01). That is m_3 itself: the bias correction is missing.
>>> check_m3(0.0275)
✓ m_3 = 0.0275 is right.
"""

from __future__ import annotations

import math

from lessonlib.course.worked_example import LESSON, hyper, table
from lessonlib.exercises import Result, check_digits
from lessonlib.optim.adam import adam_step
from lessonlib.optim.ema import ema_update, ema_weight_sum
from lessonlib.optim.exact import fraction

_EXACT = table("exact")
_S2 = _EXACT[1]
T = 3
#: The exercise's third gradient: not the lesson's g_3 = 0.8, whose step the notebook's tables show.
G3 = -0.4
_S3 = adam_step(_S2.theta, fraction(G3), _S2.m, _S2.v, T, **hyper("exact"))
_H = hyper("float64")
LR, BETA1, BETA2, EPS = _H["lr"], _H["beta1"], _H["beta2"], _H["eps"]

#: Where step 3 starts: the exact state after the lesson's step 2, as floats.
M2, V2, THETA2 = float(_S2.m), float(_S2.v), float(_S2.theta)
M_HAT2, V_HAT2 = float(_S2.m_hat), float(_S2.v_hat)
#: The right answers (exact, rounded to float64).
M3, V3, M_HAT3, V_HAT3, UPDATE3, THETA3 = (
    float(getattr(_S3, k)) for k in ("m", "v", "m_hat", "v_hat", "update", "theta")
)
BC1, BC2 = ema_weight_sum(BETA1, T), ema_weight_sum(BETA2, T)

#: Significant digits every step-3 question asks for, and theta_3's: theta_2 is about 1 and the update about
#: 0.0002, so theta_3's 9th digit is the update's 6th.
DIGITS, THETA_DIGITS = 6, 9

LESSON_V2, LESSON_M_HAT2 = float(LESSON[2, "v"]), float(LESSON[2, "m_hat"])
LESSON_THETA2 = float(LESSON[2, "theta"])


def _update(m_hat, v_hat, lr=LR, root=math.sqrt):
    """The update's last line, for building the *wrong* answers below (the right one is exact)."""
    return lr * m_hat / (root(v_hat) + EPS)


def _check(name, answer, expected, slips, hint, digits=DIGITS) -> Result:
    """check_digits to ``digits`` significant digits, naming the first known slip an answer matches."""
    return check_digits(name, answer, expected, hint=hint, digits=digits, slips=dict(slips))


def check_m3(answer) -> Result:
    r"""Exercise 1a: :math:`m_3` from :math:`m_2` and :math:`g_3`, to 6 significant digits."""
    slips = [
        (ema_update(M_HAT2, G3, BETA1), "You started from m̂_2; the average carries the raw m_2 forward."),
        (ema_update(LESSON_M_HAT2, G3, BETA1), "You started from the lesson's m̂_2 = 0.395; use the raw m_2."),
        (ema_update(M2, G3, 1 - BETA1), "The weights are swapped: which one belongs to the old average?"),
        (BETA1 * M2 + G3, "The new gradient enters with a weight too, not whole."),
        (BETA1 * M2 - (1 - BETA1) * G3, "Check the sign of g_3: the average takes the gradient as it is."),
        (M3 / BC1, "That is m̂_3; m_3 is the raw average, before bias correction."),
    ]
    return _check("m_3", answer, M3, slips, "m_3 is an EMA of the gradients: start from the raw m_2 = 0.075.")


def check_v3(answer) -> Result:
    r"""Exercise 1b: :math:`v_3` from :math:`v_2` and :math:`g_3`, to 6 significant digits."""
    slips = [
        (
            ema_update(LESSON_V2, G3**2, BETA2),
            "You used the lesson's rounded v_2 = 0.0003398; the exact v_2 is 0.00033975 "
            "(0.999 · 0.00025 = 0.00024975, not 0.0002498).",
        ),
        (ema_update(V2, G3, BETA2), "v averages the squared gradient, not the gradient."),
        (ema_update(V2, abs(G3), BETA2), "v averages the squared gradient, not its size |g_3|."),
        (ema_update(V_HAT2, G3**2, BETA2), "You started from v̂_2; the average carries the raw v_2 forward."),
        (ema_update(V2, G3**2, 1 - BETA2), "The weights are swapped: which one belongs to the old average?"),
        (V3 / BC2, "That is v̂_3; v_3 is the raw average, before bias correction."),
    ]
    return _check("v_3", answer, V3, slips, "v_3 is an EMA of the squared gradients: start from the raw v_2.")


def check_m_hat3(answer) -> Result:
    r"""Exercise 2a: :math:`\hat m_3`, to 6 significant digits."""
    slips = [
        (M3, "That is m_3 itself: the bias correction is missing."),
        (M3 / (1 - BETA1), "You divided by 1 - β1, step 1's correction; which power of β1 belongs to step 3?"),
        (M3 / BETA1**T, "You divided by a power of β1 itself; the correction is one minus it."),
        (M3 / ema_weight_sum(BETA1, 2), "You used step 2's correction; this is step 3."),
    ]
    return _check("m̂_3", answer, M_HAT3, slips, "m̂_3 is m_3 divided by the sum of its weights at step 3.")


def check_v_hat3(answer) -> Result:
    r"""Exercise 2b: :math:`\hat v_3`, to 6 significant digits."""
    lesson_v3 = ema_update(LESSON_V2, G3**2, BETA2)
    slips = [
        (V3, "That is v_3 itself: the bias correction is missing."),
        (
            V3 / 0.003,
            "You rounded 1 - β2^3 = 0.002997001 to 0.003, as the lesson rounds 0.001999 to 0.002; "
            "that changes v̂_3 by 0.1%.",
        ),
        (lesson_v3 / BC2, "You carried the lesson's rounded v_2 = 0.0003398; the exact v_2 is 0.00033975."),
        (V3 / (1 - BETA2), "You divided by 1 - β2, step 1's correction; which power of β2 belongs to step 3?"),
        (V3 / ema_weight_sum(BETA2, 2), "You used step 2's correction; this is step 3."),
    ]
    return _check("v̂_3", answer, V_HAT3, slips, "v̂_3 is v_3 divided by the sum of its weights at step 3.")


def check_update3(answer) -> Result:
    r"""Exercise 3a: the update :math:`\alpha\, \hat m_3 / (\sqrt{\hat v_3} + \epsilon)`, to 6 significant digits."""
    slips = [
        (_update(M_HAT3, V_HAT3, root=lambda x: x), "The denominator is a root, not v̂_3 itself."),
        (_update(M3, V3), "You used the raw m_3 and v_3; the update uses the bias-corrected moments."),
        (_update(M_HAT3, V3), "You used the raw v_3 under the root; use its corrected value."),
        (_update(M3, V_HAT3), "You used the raw m_3 on top; use its corrected value."),
        (_update(M_HAT3, V3 / 0.003), "You rounded 1 - β2^3 to 0.003; it is 0.002997001."),
        (
            _update(M_HAT3, ema_update(LESSON_V2, G3**2, BETA2) / BC2),
            "You carried the lesson's rounded v_2 = 0.0003398; the exact v_2 is 0.00033975.",
        ),
        (_update(M_HAT3, V_HAT3, lr=3e-4), "You used the lesson's 'default' lr = 3e-4; this example uses α = 0.001."),
        (-UPDATE3, "The update has the sign of m̂_3, and m̂_3 is still positive: m remembers the earlier gradients."),
    ]
    return _check("update_3", answer, UPDATE3, slips, "Check m̂_3 and v̂_3 first; the update is α·m̂_3 over a root.")


def check_theta3(answer) -> Result:
    r""":math:`\theta_3 = \theta_2 - \text{update}_3`, to 9 significant digits."""
    slips = [
        (
            LESSON_THETA2 - UPDATE3,
            f"You started from the lesson's θ_2 = 0.998, rounded to three decimals; θ_2 = {THETA2:.12f}.",
        ),
        (
            float(LESSON[1, "theta"]) - float(LESSON[2, "update"]) - UPDATE3,
            f"You started from the lesson's 0.999 - 0.00096 = 0.99804; θ_2 = {THETA2:.12f}.",
        ),
        (THETA2 + UPDATE3, "Adam subtracts the update from θ_2."),
    ]
    return _check(
        "θ_3",
        answer,
        THETA3,
        slips,
        f"θ_3 needs 9 significant digits: start from θ_2 = {THETA2:.12f} and keep every digit of the update.",
        digits=THETA_DIGITS,
    )
