"""lessonlib.exercises.worked_example (lesson 05): a third Adam step by hand, with the exercise's own g_3."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

import lessonlib as ll
from lessonlib.course import worked_example as we
from lessonlib.exercises import worked_example as ex
from tests.test_worked_example import EXACT, GRADS
from tests.test_worked_example_table import QUANTITIES

S2, G3 = EXACT[1], ex.G3
STEP3 = ll.adam_step(S2["theta"], F(G3).limit_denominator(), S2["m"], S2["v"], 3, **we.hyper("exact"))
STEP3 = {k: getattr(STEP3, k) for k in QUANTITIES}
CHECKS = {
    "m": ex.check_m3,
    "v": ex.check_v3,
    "m_hat": ex.check_m_hat3,
    "v_hat": ex.check_v_hat3,
    "update": ex.check_update3,
    "theta": ex.check_theta3,
}
DIGITS = {"m": 6, "v": 6, "m_hat": 6, "v_hat": 6, "update": 6, "theta": 9}


def test_the_exercise_asks_for_a_step_no_table_shows():
    # the notebook prints the lesson's step 3 (g_3 = 0.8) above the exercises: the exercise's g_3 differs
    assert G3 != GRADS[2] and ex.THETA3 != float(EXACT[2]["theta"])
    assert float(STEP3["m"]) == pytest.approx(0.0275, rel=1e-15)  # 0.9 * 0.075 + 0.1 * (-0.4)
    assert STEP3["update"] > 0  # m still remembers the positive gradients: theta keeps going down


@pytest.mark.parametrize("key", QUANTITIES)
def test_check_accepts_the_exact_answer(key):
    result = CHECKS[key](float(STEP3[key]))
    assert result.ok is True and result.message.startswith("✓")


@pytest.mark.parametrize("key", QUANTITIES)
def test_check_accepts_the_digits_it_asks_for_and_not_fewer(key):
    exact = float(STEP3[key])
    assert CHECKS[key](float(f"{exact:.{DIGITS[key]}g}")).ok is True
    assert CHECKS[key](float(f"{exact:.{DIGITS[key] - 2}g}") * (1 + 3 * 10.0 ** -(DIGITS[key] - 2))).ok is False


@pytest.mark.parametrize("key", QUANTITIES)
def test_check_unanswered(key):
    result = CHECKS[key](...)
    assert result.ok is None and "not answered yet" in result.message


GENERAL_HINTS = {
    "m": "m_3 is an EMA of the gradients",
    "v": "v_3 is an EMA of the squared gradients",
    "m_hat": "m̂_3 is m_3 divided by the sum of its weights",
    "v_hat": "v̂_3 is v_3 divided by the sum of its weights",
    "update": "Check m̂_3 and v̂_3 first",
    "theta": "θ_3 needs 9 significant digits",
}


@pytest.mark.parametrize("key", QUANTITIES)
def test_check_rejects_a_wrong_answer_with_the_general_hint(key):
    result = CHECKS[key](float(STEP3[key]) * 1.01)
    assert result.ok is False and "relative error 1.0e-02" in result.message
    assert GENERAL_HINTS[key] in result.message


# Wrong answers written as a learner would compute them, with the hint each must produce.
m2, v2, theta2 = float(S2["m"]), float(S2["v"]), float(S2["theta"])
m3, v3 = float(STEP3["m"]), float(STEP3["v"])
m_hat3, v_hat3, update3 = float(STEP3["m_hat"]), float(STEP3["v_hat"]), float(STEP3["update"])
SLIPS = [
    ("m", 0.9 * float(S2["m_hat"]) + 0.1 * G3, "started from m̂_2"),
    ("m", 0.9 * 0.395 + 0.1 * G3, "lesson's m̂_2 = 0.395"),
    ("m", 0.1 * m2 + 0.9 * G3, "weights are swapped"),
    ("m", 0.9 * m2 + G3, "enters with a weight"),
    ("m", 0.9 * m2 - 0.1 * G3, "sign of g_3"),
    ("m", m3 / 0.271, "That is m̂_3"),
    ("v", 0.999 * 0.0003398 + 0.001 * G3**2, "the lesson's rounded v_2 = 0.0003398"),
    ("v", 0.999 * v2 + 0.001 * G3, "squared gradient, not the gradient"),
    ("v", 0.999 * v2 + 0.001 * abs(G3), "not its size"),
    ("v", v3 / 0.002997001, "That is v̂_3"),
    ("m_hat", m3, "bias correction is missing"),
    ("m_hat", m3 / 0.1, "step 1's correction"),
    ("m_hat", m3 / 0.19, "step 2's correction"),
    ("v_hat", v3, "bias correction is missing"),
    ("v_hat", v3 / 0.003, "rounded 1 - β2^3 = 0.002997001 to 0.003"),
    ("v_hat", (0.999 * 0.0003398 + 0.001 * G3**2) / 0.002997001, "lesson's rounded v_2"),
    ("v_hat", v3 / 0.001, "step 1's correction"),
    ("update", 0.001 * m_hat3 / v_hat3, "a root, not v̂_3 itself"),
    ("update", 0.001 * m3 / np.sqrt(v3), "raw m_3 and v_3"),
    ("update", 0.0003 * m_hat3 / np.sqrt(v_hat3), "lr = 3e-4"),
    ("update", -update3, "m̂_3 is still positive"),
    ("theta", 0.998 - update3, "lesson's θ_2 = 0.998"),
    ("theta", 0.99804 - update3, "0.999 - 0.00096 = 0.99804"),
    ("theta", theta2 + update3, "Adam subtracts the update"),
]


@pytest.mark.parametrize("key, answer, hint", SLIPS)
def test_check_names_the_slip(key, answer, hint):
    result = CHECKS[key](answer)
    assert result.ok is False
    assert hint in result.message


def test_slips_are_far_from_the_right_answers_and_from_each_other():
    # each known slip must be told apart, at the digits asked for, from the right answer and the other slips
    for key in QUANTITIES:
        values = [float(STEP3[key])] + [a for k, a, _ in SLIPS if k == key]
        for i, a in enumerate(values):
            for b in values[i + 1 :]:
                assert abs(a - b) > 3 * 10.0 ** -DIGITS[key] * abs(b), (key, a, b)


def test_theta3_needs_the_update_to_many_digits():
    # theta3 is checked to 9 significant digits: an update carried to 3 digits does not pass
    assert not ex.check_theta3(theta2 - float(f"{update3:.3g}"))
    assert ex.check_theta3(theta2 - float(f"{update3:.6g}"))


def test_check_rejects_text():
    result = ex.check_m3("0.0275 please")
    assert result.ok is False and "expected a number" in result.message


def test_a_learner_computing_step_3_in_floats_passes_every_check():
    # the notebook hands the learner m_2, v_2, theta_2 as floats; plain float arithmetic must pass
    lr, beta1, beta2, eps = 0.001, 0.9, 0.999, 1e-8
    m3 = beta1 * m2 + (1 - beta1) * G3
    v3 = beta2 * v2 + (1 - beta2) * G3**2
    m_hat3 = m3 / (1 - beta1**3)
    v_hat3 = v3 / (1 - beta2**3)
    update3 = lr * m_hat3 / (v_hat3**0.5 + eps)
    answers = {"m": m3, "v": v3, "m_hat": m_hat3, "v_hat": v_hat3, "update": update3, "theta": theta2 - update3}
    for key, answer in answers.items():
        assert CHECKS[key](answer).ok is True, key
