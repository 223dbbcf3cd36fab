"""lessonlib.exercises.failures (lesson 07): the right answer, the likely wrong ones (with their hints), and `...`."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessonlib.exercises import failures as ex


def test_tiny_gradient_step():
    g, eps = 1e-7, 1e-5
    right = ex.check_tiny_gradient_step(g / (g + eps))  # m_hat_1 = g, sqrt(v_hat_1) = g
    assert right.ok is True
    for answer in (0.0099, 0.00990, 0.009901):  # the precision the question asks for, three significant digits
        assert ex.check_tiny_gradient_step(answer).ok is True, answer
    for answer, text in [
        (g / eps, "1% of eps"),
        (1.0, "as if eps were not there"),
        (g / math.sqrt(g * g + eps), "inside the root"),
        (0.001, "m_1 and v_1 as they are"),  # no correction: 1e-8 / (sqrt(1e-3) * 1e-7 + 1e-5)
        (0.5, "m_hat_1 and sqrt(v_hat_1)"),
        (0.0097, "m_hat_1 and sqrt(v_hat_1)"),  # two units off in the third digit
    ]:
        wrong = ex.check_tiny_gradient_step(answer)
        assert wrong.ok is False and text in wrong.message, answer
        assert "g_1 / (|g_1| + eps)" not in wrong.message  # no hint hands over the formula
    assert ex.check_tiny_gradient_step(...).ok is None


def test_counterexample_beta2():
    assert ex.check_counterexample_beta2(1 / (1 + 4**2)).ok is True
    assert ex.check_counterexample_beta2(0.0588).ok is True  # three significant digits
    assert ex.check_counterexample_beta2(0.059).ok is False  # two are not enough
    for answer, text in [
        (1 / 16, "one less"),
        (16 / 17, "1 - beta2"),
        (0.2, "squared"),
        (0.1, "C = 3"),  # the lesson's own C, not the exercise's
        (0.5, "Theorem 1"),
    ]:
        wrong = ex.check_counterexample_beta2(answer)
        assert wrong.ok is False and text in wrong.message, answer
        assert "1 / (1 + C**2)" not in wrong.message
    assert ex.check_counterexample_beta2(None).ok is None


def test_memory_steps():
    k = 0
    while 0.95**k > 0.01:
        k += 1
    assert k == 90 and ex.check_memory_steps(k).ok is True and ex.check_memory_steps(90.0).ok is True
    for answer, text in [(20, "window"), (89.78, "whole number"), (89, "Rounded down"), (4603, "0.999"),
                         (45, "logarithms")]:  # fmt: skip
        wrong = ex.check_memory_steps(answer)
        assert wrong.ok is False and text in wrong.message, answer
    assert ex.check_memory_steps(...).ok is None
    assert ex.check_memory_steps(np.array([1.0, 2.0])).ok is False  # bad input answers, never raises


@pytest.mark.parametrize("check", [ex.check_tiny_gradient_step, ex.check_counterexample_beta2, ex.check_memory_steps])
def test_text_answers_are_refused_politely(check):
    result = check("zero point one")
    assert result.ok is False and "expected a number" in result.message
