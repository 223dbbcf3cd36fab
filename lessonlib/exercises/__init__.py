"""Exercise checks: each tells the learner at once whether an answer is right, and if not, why.

One module per lesson (``lessonlib.exercises.ema`` and so on) defines the checks
for that notebook's exercises on top of :func:`check_value`. A check returns a
:class:`Result`, which a notebook cell displays as one line of text:

>>> check_value("m_1", 0.05, expected=0.05)
✓ m_1 = 0.05 is right.
>>> check_value("m_1", 0.5, expected=0.05, hint="m_1 is the raw average, before bias correction.")
✗ m_1 = 0.5 is not right (relative error 9.0e+00). m_1 is the raw average, before bias correction.
>>> check_value("m_1", ..., expected=0.05)
… m_1: not answered yet. Replace the ... with your answer and run the cell again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lessonlib.optim._checks import as_reals, brief, check_int, check_real


@dataclass(frozen=True)
class Result:
    """The outcome of a check: ``ok`` is None while the exercise is unanswered."""

    ok: bool | None
    message: str

    def __repr__(self) -> str:
        return self.message

    def __bool__(self) -> bool:
        return bool(self.ok)


def _fmt(x) -> str:
    arr = np.asarray(x)
    if arr.ndim == 0:
        return f"{float(arr):.10g}"
    return np.array2string(arr, precision=6)


def shown(answer) -> str:
    """What the learner gave, for a message: its type and a short repr (a repr that fails is left out)."""
    try:
        text = repr(answer)
    except Exception:  # noqa: BLE001 - a learner's object may have any repr
        text = ""
    return f"{type(answer).__name__} {text[:60]}{'...' if len(text) > 60 else ''}".rstrip()


def said(exc: BaseException) -> str:
    """What an exception says, for a message (one whose ``str`` fails is named by its type alone)."""
    try:
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    except Exception:  # noqa: BLE001 - a learner's exception may have any __str__
        return type(exc).__name__


def as_numbers(answer) -> np.ndarray | None:
    """A learner's answer as float64 numbers, or None where it is not numbers.

    Numbers are what :func:`lessonlib.optim._checks.as_reals` reads (a real number: an int, a float, numpy's, a
    Fraction or a Decimal; a list, tuple or plain array of them), and a torch tensor of them (one that requires grad
    too). Not numbers: a string or an array of strings, a bool (in a list too), a complex number (numpy's and
    torch's too, which numpy would read without their imaginary part), None (numpy reads it as nan), an int too
    large for a float, a masked array (its hidden values are not an answer).
    """
    if hasattr(type(answer), "detach") and callable(getattr(answer, "detach", None)):  # a torch tensor
        try:
            answer = answer.detach().cpu().numpy()
        except Exception:  # noqa: BLE001 - bfloat16, a meta tensor: no values to read
            return None
    try:
        return as_reals("answer", answer)
    except Exception:  # noqa: BLE001 - refused, or a learner's object whose __array__ or __float__ raises anything
        return None


def _check_text(name: str, value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _check_slips(slips, *, digits: bool = False) -> dict:
    """``slips``: None or a dict {the value a slip gives (finite numbers): what to tell the learner}.

    For :func:`check_digits` (``digits``) each value is one nonzero number: it has significant digits to match.
    """
    if slips is None:
        return {}
    if not isinstance(slips, dict):
        raise TypeError(f"slips must be a dict {{value: hint}} or None, got {type(slips).__name__}")
    for value, hint in slips.items():
        got = as_numbers(value)
        if got is None or not isinstance(hint, str):
            raise TypeError(f"slips must map numbers to hints (strings), got {brief(value, 40)}: {brief(hint, 40)}")
        if not np.all(np.isfinite(got)) or (digits and (got.ndim != 0 or got == 0)):
            allowed = "one finite, nonzero number" if digits else "finite numbers"
            raise ValueError(f"Invalid slip value: {brief(value, 40)} (allowed: {allowed})")
    return slips


def _check_expected(expected) -> np.ndarray:
    """What a check compares with: finite numbers (the lesson's author gives it, not the learner)."""
    want = as_numbers(expected)
    if want is None:
        raise TypeError(f"expected must be a number or an array of numbers, got {type(expected).__name__}")
    if not np.all(np.isfinite(want)):
        raise ValueError(f"Invalid expected: {brief(expected, 60)} (allowed: finite numbers)")
    return want


def unanswered(name: str) -> Result:
    """The verdict on an answer still ``...``: neither right nor wrong, and how to answer."""
    _check_text("name", name)
    return Result(None, f"… {name}: not answered yet. Replace the ... with your answer and run the cell again.")


def check_value(
    name: str, answer, expected, *, rtol: float = 1e-6, atol: float = 0.0, hint: str = "", slips: dict | None = None
) -> Result:
    """Compare a numeric answer (number or array) with the expected value.

    ``hint`` is shown when the answer is wrong: it should say what the most
    likely mistake is, not give the answer away. ``slips`` maps the value a known
    slip gives to what to tell the learner who made it; an answer that matches a
    slip (to the same tolerance as the right answer) gets that message instead.

    >>> check_value("m_1", 0.5, expected=0.05, slips={0.5: "That is g_1 itself: the average weighs it by 1 - beta1."})
    ✗ m_1 = 0.5 is not right (relative error 9.0e+00). That is g_1 itself: the average weighs it by 1 - beta1.
    """
    _check_text("name", name), _check_text("hint", hint)
    want, slips = _check_expected(expected), _check_slips(slips)
    rtol, atol = check_real("rtol", rtol), check_real("atol", atol)
    if answer is ... or answer is None:
        return unanswered(name)
    got = as_numbers(answer)
    if got is None:
        return Result(False, f"✗ {name}: expected a number, got {shown(answer)}.")
    if got.shape != want.shape:
        return Result(False, f"✗ {name} has shape {got.shape}; expected shape {want.shape}.")
    if not np.all(np.isfinite(got)):
        return Result(False, f"✗ {name} = {_fmt(got)} is not finite. {hint}".rstrip())
    scale = np.maximum(np.abs(want), np.finfo(np.float64).tiny)
    err = float(np.max(np.abs(got - want) / scale))
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return Result(True, f"✓ {name} = {_fmt(got)} is right.")
    for value, slip_hint in slips.items():
        slip = as_numbers(value)
        if slip.shape == got.shape and np.allclose(got, slip, rtol=rtol, atol=atol):
            hint = slip_hint
            break
    return Result(False, f"✗ {name} = {_fmt(got)} is not right (relative error {err:.1e}). {hint}".rstrip())


#: How many significant digits the numeric exercises ask for, unless a question says otherwise.
DIGITS = 3


def digits_tolerance(expected: float, digits: int = DIGITS) -> float:
    r"""One unit in the last significant digit asked for: the absolute error an answer to ``digits`` digits may have.

    An answer rounded to ``digits`` significant digits is within half a unit of the exact value; one unit also lets
    through the last digit a learner gets by rounding along the way (:math:`0.818^2 = 0.669` for
    :math:`(9/11)^2 = 0.66942`), and nothing a digit coarser.

    Args:
        expected: the exact answer (not zero).
        digits: how many significant digits the question asks for.

    >>> digits_tolerance(0.66942), digits_tolerance(0.076), digits_tolerance(0.09999999999999999)
    (0.001, 0.0001, 0.001)
    """
    digits = check_int("digits", digits, low=1, high=300)
    expected = check_real("expected", expected, low=-math.inf)
    if expected == 0:
        raise ValueError(f"Invalid expected: {brief(expected)} (allowed: a finite, nonzero number)")
    rounded = float(f"{expected:.{digits}g}")  # 0.09999999999999999 is 0.100, whose last digit is a thousandth
    exponent = math.floor(math.log10(abs(rounded))) - digits + 1
    return float(f"1e{exponent}")


def check_digits(
    name: str, answer, expected: float, *, hint: str, digits: int = DIGITS, slips: dict | None = None
) -> Result:
    """:func:`check_value` for a question that asks for ``digits`` significant digits.

    Args:
        name: what the answer is, as the message names it.
        answer: the learner's number (``...`` while unanswered).
        expected: the exact answer.
        hint: what the most likely mistake is, shown when the answer is wrong.
        digits: how many significant digits the question asks for.
        slips: the value a known slip gives -> what to tell the learner (matched to ``digits`` digits, as the answer).

    >>> check_digits("mu", 0.669, 0.66942, hint="")
    ✓ mu = 0.669 is right.
    >>> check_digits("mu", 0.672, 0.66942, hint="").ok
    False
    """
    atol = digits_tolerance(expected, digits) * (1 + 1e-9)  # exactly one unit off passes despite float rounding
    slips = _check_slips(slips, digits=True)
    result = check_value(name, answer, expected, rtol=0.0, atol=atol, hint=hint)
    for value, slip_hint in slips.items() if result.ok is False else ():
        slip_atol = digits_tolerance(value, digits) * (1 + 1e-9)  # a slip is matched to the same digits, at its scale
        if check_value(name, answer, value, rtol=0.0, atol=slip_atol).ok:
            return check_value(name, answer, expected, rtol=0.0, atol=atol, hint=slip_hint)
    return result
