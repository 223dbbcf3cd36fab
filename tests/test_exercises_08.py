"""Notebook 08's exercise checks: each slip a learner is likely to make gets a hint that names it, no formula."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lessonlib.exercises import cost

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "08-cost.ipynb"


@pytest.mark.parametrize(
    "check, answer, words",
    [
        (cost.check_fastest_step_ms, 0.007, "in seconds"),  # 7 ms left in seconds
        (cost.check_fastest_step_ms, 4.0, "only what the step reads"),  # 4 reads of 4 bytes
        (cost.check_fastest_step_ms, 8.0, "check of the gradients"),  # 32 bytes, ll.Adam.step's check included
        (cost.check_fastest_step_ms, 1.75, "numbers, not bytes"),  # 7 numbers, not 28 bytes
        (cost.check_fastest_step_ms, 14.0, "float64"),  # 8-byte numbers
        (cost.check_checked_step_bytes, 56, "the kernel alone"),
        (cost.check_checked_step_bytes, 32, "8 bytes, not 4"),
        (cost.check_arithmetic_ms, 0.467, "count its floating-point operations"),  # bytes over flop/s
        (cost.check_arithmetic_ms, 0.267, "check"),  # 16 operations: the check's counted too
        (cost.check_arithmetic_ms, 0.000233, "in seconds"),
    ],
)
def test_each_slip_gets_its_own_hint(check, answer, words):
    result = check(answer)
    assert result.ok is False and words in result.message, result.message


@pytest.mark.parametrize("check", [cost.check_fastest_step_ms, cost.check_checked_step_bytes, cost.check_arithmetic_ms])
def test_no_hint_hands_over_the_answer(check):
    right = {cost.check_fastest_step_ms: "7", cost.check_checked_step_bytes: "64", cost.check_arithmetic_ms: "0.233"}
    for wrong in (1.0, 123.0, -5.0):
        result = check(wrong)
        hint = result.message.split(")", 1)[1]  # after "(relative error ...)"
        assert result.ok is False and not re.search(rf"(?<![\w.]){re.escape(right[check])}(?![\w.])", hint), hint
    assert check(...).ok is None and check("seven").ok is False


def test_every_exercise_of_notebook_08_states_its_precision():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    texts = [" ".join("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown"]
    exercises = [t for t in texts if re.match(r"\*\*Exercise \d+\.\*\*", t)]
    assert len(exercises) == 3
    for text in exercises:
        assert "three significant digits" in text or "A whole number" in text, text
