"""Exact arithmetic for checking the lessons' numbers to the last digit.

The textbook step functions (:func:`lessonlib.adam_step` and friends) use only
``+ - * /`` and a ``sqrt`` they are given, so they run on
``fractions.Fraction`` as well as on floats. The one inexact operation is the
square root; :func:`sqrt` takes it to ``digits`` significant digits.

>>> from lessonlib.optim.adam import adam_step
>>> s = adam_step(Fraction(1), Fraction("0.5"), 0, 0, 1, lr=Fraction("0.001"),
...               beta1=Fraction("0.9"), beta2=Fraction("0.999"), eps=Fraction("1e-8"), sqrt=sqrt)
>>> s.m, s.m_hat
(Fraction(1, 20), Fraction(1, 2))
>>> float(1 - s.theta)   # a hair under lr, because of eps
0.0009999999800000003
"""

from __future__ import annotations

import numbers
from decimal import Decimal, localcontext
from fractions import Fraction

from lessonlib.optim._checks import brief, check_step

DIGITS = 60

#: The largest and smallest x :func:`sqrt` takes, as a power of ten: beyond it the conversions to decimal take
#: seconds (20 s at 10**1000000), and no lesson comes near.
MAX_EXPONENT = 30_000


def _rational(name: str, x) -> Fraction:
    if isinstance(x, bool) or not isinstance(x, (numbers.Rational, float, Decimal, str)):
        raise TypeError(
            f"{name} must be a rational number (int, Fraction, float, Decimal or str), got {type(x).__name__}"
        )
    if isinstance(x, numbers.Rational):  # numpy integers too: Decimal takes only Python ints
        return Fraction(int(x.numerator), int(x.denominator))
    try:
        return Fraction(x)
    except (ValueError, OverflowError, ZeroDivisionError, ArithmeticError):
        raise ValueError(f"{name} must be a finite number, got {brief(x)}") from None


def sqrt(x, digits: int = DIGITS) -> Fraction:
    """The square root of a non-negative rational, correct to ``digits`` significant digits.

    Args:
        x: a finite number >= 0 (int, Fraction, float, Decimal or a decimal string), at most
            ``10**MAX_EXPONENT`` and, if not 0, at least ``10**-MAX_EXPONENT`` (nor a fraction whose numerator or
            denominator is longer).
        digits: significant digits, an int from 1 to 10000.

    >>> sqrt(Fraction(9, 4)), round(float(sqrt(2, digits=5)), 4)
    (Fraction(3, 2), 1.4142)
    """
    too_far = (
        f"Invalid x: beyond 10**+-{MAX_EXPONENT} (allowed: x = 0 or 10**-{MAX_EXPONENT} <= x <= 10**{MAX_EXPONENT})"
    )
    if isinstance(x, Decimal) and x.is_finite() and x and abs(x.adjusted()) > MAX_EXPONENT:
        raise ValueError(too_far)  # before the Fraction, which alone takes a second at 10**1000000
    x = _rational("x", x)
    if max(x.numerator.bit_length(), x.denominator.bit_length()) > MAX_EXPONENT * 3.33:  # log2(10) bits a digit
        raise ValueError(too_far)
    digits = check_step(digits, "digits", low=1)
    if digits > 10_000:
        raise ValueError(f"Invalid digits: {digits} (allowed: 1 <= digits <= 10000)")
    if x < 0:
        shown = x if max(x.numerator.bit_length(), x.denominator.bit_length()) < 1000 else "a negative number"
        raise ValueError(f"Invalid x: {shown} (allowed: x >= 0, the square root of a negative number is not real)")
    with localcontext() as ctx:
        ctx.prec = digits + 5
        ctx.Emax, ctx.Emin = 10**12, -(10**12)  # room for any number a Fraction can hold in memory
        try:
            root = (Decimal(x.numerator) / Decimal(x.denominator)).sqrt()
        except ArithmeticError:  # decimal's Overflow and Underflow
            raise ValueError("Invalid x: beyond the range of decimal arithmetic") from None
    return Fraction(root)


def fraction(x) -> Fraction:
    """A number as the decimal a person wrote, exactly: ``fraction(0.1) == Fraction(1, 10)``.

    Floats go through their shortest repr, so ``0.1`` means one tenth, not the
    binary float nearest to it.

    Args:
        x: a finite number (int, Fraction, float, Decimal or a decimal string).
    """
    return _rational("x", repr(float(x)) if isinstance(x, float) else x)  # float(): np.float64's repr differs
