"""What every exercise check must do: pass the right answer, give the wrong one its hint, and wait for `...`."""

from __future__ import annotations

import math


def assert_verdicts(check, right, wrong, hint: str) -> None:
    ok = check(right)
    assert ok.ok is True and ok.message.startswith("✓")
    bad = check(wrong)
    assert bad.ok is False and bad.message.startswith("✗") and hint in bad.message
    assert check(...).ok is None and "not answered yet" in check(...).message


def assert_takes_digits(check, exact: float, digits: int) -> None:
    """Every rounding of the exact answer to the digits asked for, or more, passes; two units off in the last
    does not (one unit off does: a learner's rounding of a rounded intermediate)."""
    for shown in (digits, digits + 1, 6, 17):
        assert check(float(f"{exact:.{shown}g}")).ok is True, shown
    unit = 10.0 ** (math.floor(math.log10(exact)) - digits + 1)
    assert check(exact + unit).ok is True and check(exact - unit).ok is True
    assert check(exact + 2.5 * unit).ok is False and check(exact - 2.5 * unit).ok is False


class BadRepr:
    """A learner's object whose repr (so its str too) raises: a message must still be written."""

    def __repr__(self):
        raise RuntimeError("no repr")


class BadStr(TypeError):
    """An exception whose str raises, as a learner's function may raise."""

    def __str__(self):
        raise RuntimeError("no str")


def raises_bad_str(*args, **kwargs):
    raise BadStr
