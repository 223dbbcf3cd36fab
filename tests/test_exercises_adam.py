"""lessonlib.exercises.adam (lesson 04): right answers pass, wrong ones get their hint, `...` is unanswered."""

from __future__ import annotations

import pytest

import lessonlib as ll
from lessonlib.exercises import adam
from tests.checks import assert_verdicts

CASES = [
    # (check, right answer, wrong answer, words the hint must contain)
    (adam.check_only_m_corrected, 10.0, 1.0, "v_1 is used as it is"),
    (adam.check_constant_gradient_distance, 0.1, -0.1, "mind the direction"),
    (adam.check_paper_bound, 2.0, 3.16, "this question has (0.8, 0.99)"),
]


@pytest.mark.parametrize("check, right, wrong, hint", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_check(check, right, wrong, hint):
    assert_verdicts(check, right, wrong, hint)


def test_adam_answers_are_the_math():
    # only m corrected at t = 1: m_hat_1 / sqrt(v_1) = g / (sqrt(1 - beta2) |g|) = 1 / sqrt(0.01) = 10
    s = ll.adam_step(0.0, -3.0, 0.0, 0.0, 1, lr=1.0, beta1=0.9, beta2=0.99, eps=0.0)
    assert abs(s.m_hat / s.v**0.5) == pytest.approx(10.0, rel=1e-12)
    # a constant gradient gives steps of lr (up to eps): ten steps of 0.01 against a gradient of -2
    theta = ll.adam_trace(0.0, [-2.0] * 10, lr=0.01)[-1].theta
    assert theta == pytest.approx(0.1, rel=1e-8) and theta < 0.1
    assert adam.check_constant_gradient_distance(theta)
    # the paper's bound for (0.8, 0.99): 0.2 / 0.1
    assert adam.check_paper_bound(0.2 / 0.1)
