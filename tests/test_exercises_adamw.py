"""lessonlib.exercises.adamw (lesson 06): a right answer, the likely wrong ones (with their hints), and `...`."""

from __future__ import annotations

import numpy as np
import pytest

import lessonlib as ll
from lessonlib.exercises import adamw as ex


def test_shrink_factor():
    # the right answer, measured: one AdamW step with a zero gradient
    theta = np.array(1.0)
    ll.AdamW([theta], lr=3e-4, weight_decay=0.1).step([0.0])
    assert ex.check_shrink_factor(float(theta)).ok is True
    assert ex.check_shrink_factor(0.99997).ok is True
    wrong = ex.check_shrink_factor(0.9)
    assert wrong.ok is False and "scales the decay by the learning rate" in wrong.message
    wrong = ex.check_shrink_factor(3e-5)
    assert wrong.ok is False and "factor that is kept" in wrong.message
    wrong = ex.check_shrink_factor(0.9997)
    assert wrong.ok is False and "weight_decay belongs in the decay" in wrong.message
    assert ex.check_shrink_factor(...).ok is None
    assert "not answered yet" in ex.check_shrink_factor(...).message


def test_torch_weight_decay():
    right = ll.torch_weight_decay(5e-5, 1e-3)
    assert ex.check_torch_weight_decay(right).ok is True
    assert ex.check_torch_weight_decay(0.05).ok is True
    wrong = ex.check_torch_weight_decay(5e-8)
    assert wrong.ok is False and "the conversion goes the other way" in wrong.message
    wrong = ex.check_torch_weight_decay(5e-5)
    assert wrong.ok is False and "not the same decay" in wrong.message
    wrong = ex.check_torch_weight_decay(0.5)
    assert wrong.ok is False and "make the fractions removed per step equal" in wrong.message
    assert ex.check_torch_weight_decay(...).ok is None


def test_l2_decay_ratio():
    rates = ll.decay_rates(1e-3, 0.01, v_hat=[4.0**2, 0.02**2], eps=0.0)
    assert ex.check_l2_decay_ratio(rates.l2[1] / rates.l2[0]).ok is True
    assert ex.check_l2_decay_ratio(200).ok is True
    for answer, text in [(40000, "square root"), (1 / 200, "Upside down"), (1, "would be AdamW"), (20, "section 1")]:
        wrong = ex.check_l2_decay_ratio(answer)
        assert wrong.ok is False and text in wrong.message, answer
    assert ex.check_l2_decay_ratio(...).ok is None


def test_timescale():
    # the right answer, measured: decoupled decay alone keeps (1 - lr * wd)^t of a weight; after tau steps about 1/e
    lr, wd, steps_per_epoch = 0.1, 0.3, 600 // 100
    tau_steps = 1 / (lr * wd)
    assert abs((1 - lr * wd) ** tau_steps - np.exp(-1)) < 0.01
    assert ex.check_timescale(tau_steps / steps_per_epoch).ok is True
    assert ex.check_timescale(5.56).ok is True
    for answer, text in [
        (33.3, "tau in steps"),
        (3.85, "half-life"),
        (3.79, "half-life"),
        (0.556, "multiplies the decay by the learning rate"),
        (0.18, "Upside down"),
        (7, "600 / 100 steps"),
    ]:
        wrong = ex.check_timescale(answer)
        assert wrong.ok is False and text in wrong.message, answer
    assert ex.check_timescale(...).ok is None


@pytest.mark.parametrize(
    "check", [ex.check_shrink_factor, ex.check_torch_weight_decay, ex.check_l2_decay_ratio, ex.check_timescale]
)
def test_text_answers_are_refused_politely(check):
    result = check("zero point nine")
    assert result.ok is False and "expected a number" in result.message


# ---- each check accepts an answer at the precision its question states (tests/test_notebook_text.py: the statements)


#: what each exercise's question says about precision, and answers a learner gives at it: typed and computed
PRECISION = {
    1: ("Give it exactly", ex.check_shrink_factor, [0.99997, 1 - 3e-4 * 0.1]),
    2: ("Give it exactly", ex.check_torch_weight_decay, [0.05, 5e-5 / 1e-3]),
    3: ("a whole number", ex.check_l2_decay_ratio, [200, 4.0 / 0.02, np.sqrt(4.0**2 / 0.02**2)]),
    4: ("allows for rounding", None, []),
    5: ("three significant figures", ex.check_timescale, [5.56, 5.55, 5.5556, 1 / (0.1 * 0.3) / (600 / 100)]),
}


@pytest.mark.parametrize("number", [1, 2, 3, 5])
def test_every_check_accepts_an_answer_at_the_precision_its_question_asks(number):
    _, check, answers = PRECISION[number]
    for answer in answers:
        assert check(answer).ok is True, (number, answer)


def test_tau_takes_three_significant_figures_and_no_fewer():
    # 100/18 = 5.5556: rounded to three figures 5.56; one unit off in the last digit (5.55) passes, two do not
    for answer in (5.56, 5.55, 5.556, 5.5556):
        assert ex.check_timescale(answer).ok is True, answer
    for answer in (5.57, 5.54, 5.6, 5.5, 6):
        assert ex.check_timescale(answer).ok is False, answer
