"""The worked example's table (lessonlib.worked_example) against the independent derivation in
tests/test_worked_example.py."""

from __future__ import annotations

import unicodedata
from fractions import Fraction as F

import numpy as np
import pytest

import lessonlib as ll
from lessonlib.course import worked_example as we
from tests.test_worked_example import BETA1, BETA2, EXACT, GRADS, LR, THETA0

QUANTITIES = ["m", "v", "m_hat", "v_hat", "update", "theta"]


def test_inputs_are_the_lessons():
    assert [ll.exact.fraction(g) for g in we.GRADS] == GRADS
    assert ll.exact.fraction(we.THETA0) == THETA0
    assert we.hyper("exact")["lr"] == LR
    assert (we.hyper("exact")["beta1"], we.hyper("exact")["beta2"]) == (BETA1, BETA2)


def test_exact_table_equals_the_unrolled_derivation():
    steps = we.table("exact")
    assert len(steps) == len(EXACT) == 4
    for t, (step, row) in enumerate(zip(steps, EXACT), start=1):
        assert step.t == t and step.g == GRADS[t - 1]
        assert step.bc1 == 1 - BETA1**t and step.bc2 == 1 - BETA2**t
        assert (step.m, step.v, step.m_hat, step.v_hat) == (row["m"], row["v"], row["m_hat"], row["v_hat"])
        # the two derivations take the square root of the same v_hat to 60 digits
        assert abs(step.update - row["update"]) < F(1, 10**55)
        assert abs(step.theta - row["theta"]) < F(1, 10**55)


@pytest.mark.parametrize("kind, rel", [("float64", 1e-13), ("float32", 1e-6)])
def test_float_tables_are_close_to_exact(kind, rel):
    steps = we.table(kind)
    dtype = np.float64 if kind == "float64" else np.float32
    for step, row in zip(steps, EXACT):
        assert step.theta.dtype == step.m.dtype == step.update.dtype == dtype
        for key in QUANTITIES:
            assert float(getattr(step, key)) == pytest.approx(float(row[key]), rel=rel, abs=0)


def test_float32_is_really_float32():
    # float32 must be measurably worse than float64 on theta, else the table silently upcast
    e32 = we.relative_error(we.table("float32")[-1].theta, EXACT[-1]["theta"])
    e64 = we.relative_error(we.table("float64")[-1].theta, EXACT[-1]["theta"])
    assert 1e-10 < e32 < 1e-6 and e64 < 1e-15


def test_relative_errors_are_exact_and_named():
    errs = we.relative_errors(we.table("exact"), we.table("exact"))
    assert set(errs) == {"m", "v", "bc1", "bc2", "m_hat", "v_hat", "update", "theta"}
    assert all(e == [0.0] * 4 for e in errs.values())
    assert we.relative_error("0.002", "0.001999") == pytest.approx(1 / 1999, rel=1e-15)
    assert we.relative_error(F(1, 3), "0.25") == pytest.approx(1 / 3, rel=1e-15)


def test_lesson_numbers_are_what_the_lesson_prints():
    # step 1 as printed is exact except the update and theta, which eps moves by 2e-11
    exact = we.table("exact")
    for key in ("m", "v", "bc1", "bc2", "m_hat", "v_hat"):
        assert F(we.LESSON[1, key]) == getattr(exact[0], key)
    assert F(we.LESSON[1, "update"]) != exact[0].update
    assert F(we.LESSON[2, "bc2"]) == F("0.002") != exact[1].bc2
    assert F(we.LESSON[2, "v"]) - exact[1].v == F("0.00000005")


def test_text_table_shows_every_step():
    text = we.format_table(we.table("exact"), digits=12)
    lines = text.splitlines()
    assert len(lines) == 5
    assert lines[0].split() == ["t", "g", "m", "v", "1-β1^t", "1-β2^t", "m̂", "v̂", "update", "θ"]
    assert lines[2].split()[:6] == ["2", "0.3", "0.075", "0.00033975", "0.19", "0.001999"]
    assert lines[1].split()[-2:] == ["0.00099999998", "0.99900000002"]
    # right-aligned columns: every line has the same printed width (the hats are combining accents)
    assert len({sum(not unicodedata.combining(ch) for ch in line) for line in lines}) == 1


def test_html_table():
    html = we.Table(we.table("float64"), digits=6, caption="float64")._repr_html_()
    assert html.count("<tr>") == 5 and "<caption>float64</caption>" in html and "0.00033975" in html


def test_format_number():
    assert we.format_number(F(1, 3), 4) == "0.3333"
    assert we.format_number(0.1, 20) == "0.10000000000000000555"
    assert we.format_number(np.float32(0.5)) == "0.5"
    assert we.format_number(3) == "3"
    assert we.format_number(F(1, 10**11)) == "1e-11"


def test_bad_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        we.table("float16")


def test_a_table_shows_a_selection_of_columns_and_rejects_unknown_ones():
    half = we.Table(we.table("exact"), digits=20, columns=("t", "m_hat", "v_hat", "update", "theta"))
    lines = repr(half).splitlines()
    assert lines[0].split() == ["t", "m̂", "v̂", "update", "θ"]
    assert lines[1].split() == ["1", "0.5", "0.25", "0.0009999999800000004", "0.9990000000199999996"]
    html = half._repr_html_()
    assert html.count("<th>") == 5 and "<th>m</th>" not in html
    with pytest.raises(ValueError, match="columns must be"):
        we.Table(we.table("exact"), columns=("t", "lr"))
    with pytest.raises(ValueError, match="columns must be"):
        we.format_table(we.table("exact"), columns=())


def test_the_lessons_step_two_slips_measured():
    """The sizes notebook 05 states in words (issue: they were once said wrongly)."""
    exact = we.table("exact")
    lesson_theta2, lesson_bc2 = F(we.LESSON[2, "theta"]), F(we.LESSON[2, "bc2"])
    s2 = exact[1]
    # theta_2 printed as 0.998: 4.4% of the step it reports, a relative error of 4.3e-5
    assert float((s2.theta - lesson_theta2) / s2.update) == pytest.approx(0.0444, abs=5e-4)
    assert float((s2.theta - lesson_theta2) / s2.theta) == pytest.approx(4.26e-5, rel=1e-2)
    # writing beta2^2 = 0.998 for 0.998001 moves 1 - beta2^2 by 500 times the relative rounding (about 1000 / t)
    beta2_sq = F("0.999") ** 2
    amplification = ((lesson_bc2 - s2.bc2) / s2.bc2) / ((beta2_sq - F("0.998")) / beta2_sq)
    assert float(amplification) == pytest.approx(499.0, rel=1e-2)
