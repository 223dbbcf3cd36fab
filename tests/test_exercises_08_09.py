"""The exercise checks of notebooks 08 and 09: a right answer, a wrong one (with its hint), and no answer."""

from __future__ import annotations

import math

import pytest

from lessonlib.course import pytorch as th
from lessonlib.exercises import cost
from lessonlib.exercises import pytorch as ex


@pytest.mark.parametrize(
    "check, right, wrong, hint",
    [
        (cost.check_adam_state_gb, 12.0, 24.0, "two tensors (m and v) per parameter"),
        (cost.check_fastest_step_ms, 7.0, 2.0, "seven float32 numbers"),
        (ex.check_warmup_cosine, 0.5 * (1 + math.cos(math.pi * 0.25)), 0.25, "fraction of that part already done"),
        (ex.check_clipped_entry, 0.4, 1.0, "does not cap each entry at max_norm"),
    ],
    ids=["state-gb", "fastest-step", "warmup-cosine", "clipped-entry"],
)
def test_check(check, right, wrong, hint):
    ok = check(right)
    assert ok.ok is True and ok.message.startswith("✓")
    bad = check(wrong)
    assert bad.ok is False and bad.message.startswith("✗") and hint in bad.message
    assert check(...).ok is None and "not answered yet" in check(...).message


def test_expected_values_come_from_the_numbers_in_the_exercises():
    # 1.5e9 parameters x 2 tensors x 4 bytes; step 325 is a quarter into the cosine; 2.0 scaled by about 1/5.
    assert cost.check_adam_state_gb(1.5e9 * 8 / 1e9)
    # 1e9 parameters x 7 arrays x 4 bytes at 4e12 bytes/s = 7 ms; reading only (4 arrays) is wrong
    assert cost.check_fastest_step_ms(1e9 * 7 * 4 / 4e12 * 1e3)
    assert not cost.check_fastest_step_ms(1e9 * 4 * 4 / 4e12 * 1e3)
    assert th.adam_step_traffic(1) == 28
    assert ex.check_warmup_cosine((1 + math.cos(math.pi * (325 - 100) / (1000 - 100))) / 2)
    assert ex.check_clipped_entry(2.0 / (5.0 + 1e-6))
    assert not ex.check_warmup_cosine(325 / 100)  # as if still warming up
    assert not ex.check_clipped_entry(2.0 / math.sqrt(5.0))
