"""Layer 1: the lesson's worked example, four steps, against exact values.

The exact values come from the *unrolled* form of the moving averages,
m_t = (1 - beta1) * sum_i beta1**(t-i) * g_i, computed here with fractions, not
from lessonlib's recursion, so the two are independent derivations. The one
irrational operation, the square root, is taken to 60 digits.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

import lessonlib as ll
from lessonlib.optim.exact import sqrt as exact_sqrt

THETA0 = F(1)
GRADS = [F("0.5"), F("0.3"), F("0.8"), F("0.6")]
LR, BETA1, BETA2, EPS = F("0.001"), F("0.9"), F("0.999"), F("1e-8")


def unrolled_ema(xs, beta):
    t = len(xs)
    return (1 - beta) * sum(beta ** (t - i) * x for i, x in enumerate(xs, start=1))


def exact_table():
    """Every intermediate of the four steps, derived from the unrolled sums."""
    rows, theta = [], THETA0
    for t in range(1, len(GRADS) + 1):
        m = unrolled_ema(GRADS[:t], BETA1)
        v = unrolled_ema([g * g for g in GRADS[:t]], BETA2)
        m_hat, v_hat = m / (1 - BETA1**t), v / (1 - BETA2**t)
        update = LR * m_hat / (exact_sqrt(v_hat) + EPS)
        theta = theta - update
        rows.append({"m": m, "v": v, "m_hat": m_hat, "v_hat": v_hat, "update": update, "theta": theta})
    return rows


EXACT = exact_table()
HYPER = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}


def test_exact_values_of_the_first_step():
    # What the lesson prints for t = 1, confirmed exactly.
    first = EXACT[0]
    assert first["m"] == F(1, 20) and first["v"] == F(1, 4000)
    assert first["m_hat"] == F(1, 2) and first["v_hat"] == F(1, 4)
    # ...except the update, which eps makes a hair smaller than 0.001.
    assert first["update"] == LR * F(1, 2) / (F(1, 2) + EPS)
    assert float(LR - first["update"]) == pytest.approx(2e-11, rel=1e-6)


def test_the_lesson_rounds_one_minus_beta2_squared():
    # The lesson divides v_2 by 0.002; the exact bias correction is 0.001999.
    assert ll.ema_weight_sum(BETA2, 2) == F("0.001999")  # the library's correction, exactly
    assert EXACT[1]["v"] == F("0.00033975")  # the lesson prints 0.0003398


@pytest.mark.parametrize("t", [1, 2, 3, 4])
@pytest.mark.parametrize("key", ["m", "v", "m_hat", "v_hat", "update", "theta"])
def test_float64_trace_matches_exact(t, key):
    steps = ll.adam_trace(1.0, [float(g) for g in GRADS], lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)
    got, want = getattr(steps[t - 1], key), EXACT[t - 1][key]
    # 1 - 0.999**t cancels about three digits in float64 (0.998001 -> 0.001999), so
    # v_hat, and what depends on it, is good to about 1e-14, not to 1e-16.
    assert got == pytest.approx(float(want), rel=1e-13, abs=0)


def test_exact_trace_through_lessonlib_equals_unrolled_derivation():
    steps = ll.adam_trace(THETA0, GRADS, lr=LR, beta1=BETA1, beta2=BETA2, eps=EPS, sqrt=exact_sqrt)
    for step, row in zip(steps, EXACT):
        assert (step.m, step.v, step.m_hat, step.v_hat) == (row["m"], row["v"], row["m_hat"], row["v_hat"])
        assert abs(step.theta - row["theta"]) < F(1, 10**50)


@pytest.mark.parametrize("dtype, rel", [(np.float64, 1e-15), (np.float32, 1e-7)])
def test_optimizer_class_matches_exact(dtype, rel):
    theta = np.array(1.0, dtype=dtype)
    opt = ll.Adam([theta], **HYPER)
    for g, row in zip(GRADS, EXACT):
        opt.step([np.array(float(g), dtype=dtype)])
        state = opt.state[0]
        assert state["m"].dtype == theta.dtype == dtype
        assert float(state["m"]) == pytest.approx(float(row["m"]), rel=rel * 4)
        assert float(state["v"]) == pytest.approx(float(row["v"]), rel=rel * 4)
        assert float(theta) == pytest.approx(float(row["theta"]), rel=rel)
    assert opt.state[0]["t"] == 4


def test_exact_sqrt_is_exact_to_many_digits():
    for x in (F(2), F(1, 4000), F("0.00033975") / F("0.001999")):
        r = exact_sqrt(x)
        assert abs(r * r - x) / x < F(1, 10**55)
    with pytest.raises(ValueError, match="negative"):
        exact_sqrt(F(-1))
