"""Exact arithmetic for checking the lessons' numbers to the last digit.

The textbook step functions (:func:`lessonlib.adam_step` and friends) use only
``+ - * /`` and a ``sqrt`` they are given, so they run on
``fractions.Fraction`` as well as on floats. The one inexact operation is the
square root; :func:`sqrt` takes it to ``digits`` significant digits.

>>> from lessonlib.adam import adam_step
>>> s = adam_step(Fraction(1), Fraction("0.5"), 0, 0, 1, lr=Fraction("0.001"),
...               beta1=Fraction("0.9"), beta2=Fraction("0.999"), eps=Fraction("1e-8"), sqrt=sqrt)
>>> s.m, s.m_hat
(Fraction(1, 20), Fraction(1, 2))
>>> float(1 - s.theta)   # a hair under lr, because of eps
0.0009999999800000003
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

DIGITS = 60


def sqrt(x, digits: int = DIGITS) -> Fraction:
    """The square root of a non-negative rational, correct to ``digits`` significant digits."""
    x = Fraction(x)
    if x < 0:
        raise ValueError(f"sqrt of a negative number: {x}")
    with localcontext() as ctx:
        ctx.prec = digits + 5
        root = (Decimal(x.numerator) / Decimal(x.denominator)).sqrt()
    return Fraction(root)


def fraction(x) -> Fraction:
    """A number as the decimal a person wrote, exactly: ``fraction(0.1) == Fraction(1, 10)``.

    Floats go through their shortest repr, so ``0.1`` means one tenth, not the
    binary float nearest to it.
    """
    return Fraction(repr(x)) if isinstance(x, float) else Fraction(x)
