"""Notebook 01's exercise checks: the digits each question asks for pass, and each known slip gets its own hint."""

from __future__ import annotations

import math

import pytest

from lessonlib.exercises import ema


@pytest.mark.parametrize(
    "check, answers",
    [
        (ema.check_raw_average, [3.6, 3.60, 3.61, 3.59, (1 - 0.8**2) * 10]),  # 3 significant digits, one unit off
        (ema.check_window, [50, 50.0, 49.9, 50.1, 1 / (1 - 0.98)]),
        (ema.check_half_correction_step, [693, 693.0]),  # a whole number, exactly
    ],
)
def test_the_precision_asked_for_passes(check, answers):
    for answer in answers:
        assert check(answer).ok is True, answer


@pytest.mark.parametrize(
    "check, answer, hint",
    [
        (ema.check_raw_average, 10.0, "bias-corrected"),
        (ema.check_raw_average, 2.0, "That is a_1"),
        (ema.check_raw_average, 9.6, "weights are swapped"),
        (ema.check_raw_average, 6.4, "zero start"),
        (ema.check_raw_average, 3.5, "do not bias-correct"),  # the general hint
        (ema.check_window, 49, "average age"),
        (ema.check_window, 1 / 0.98, "That is 1 / beta"),
        (ema.check_window, 0.02, "weight of the newest value"),
        (ema.check_window, 100, "set by the weight the newest value gets"),
        (ema.check_half_correction_step, 692, "round up"),
        (ema.check_half_correction_step, 500, "grows by less and less"),
        (ema.check_half_correction_step, 1000, "about 0.63"),
        (ema.check_half_correction_step, 694, "shortcut ln 2"),
        (ema.check_half_correction_step, 700, "with logarithms"),
    ],
)
def test_each_slip_is_named(check, answer, hint):
    result = check(answer)
    assert result.ok is False and result.message.startswith("✗") and hint in result.message


def test_hints_do_not_hand_over_the_formula():
    # the window's formula and the half-correction's logarithm ratio appear in no hint
    for answer in (49, 1 / 0.98, 0.02, 100):
        assert "1 / (1 - beta)" not in ema.check_window(answer).message
    for answer in (692, 500, 1000, 694, 700):
        assert "ln 0.5" not in ema.check_half_correction_step(answer).message


def test_the_answers_are_the_math():
    assert 0.999**693 <= 0.5 < 0.999**692
    assert math.isclose(ema.effective_window(0.98), 50)


@pytest.mark.parametrize("check", [ema.check_raw_average, ema.check_window, ema.check_half_correction_step])
def test_bad_input_never_raises(check):
    assert check(...).ok is None and "not answered yet" in check(...).message
    assert check(None).ok is None
    for bad in ("fifty", [1, 2], float("nan"), {}):
        assert check(bad).ok is False


def test_the_notebook_holds_to_the_course_notation():
    # a mean is x-bar (never mu, which is momentum); the window is w (never N, which counts parameters)
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "01-ema.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "\\mu" not in text and "\\bar x" in text
    assert "N = \\frac" not in text and "w = \\frac{1}{1-\\beta}" in text
