r"""Lesson 01: the exponential moving average (EMA), the building block of momentum, RMSprop and Adam.

The recursion, with the average started at zero:

.. math::

    a_0 = 0, \qquad a_t = \beta\, a_{t-1} + (1 - \beta)\, x_t

Unrolled, :math:`a_t = (1-\beta)\sum_{i=1}^{t} \beta^{t-i} x_i`, whose weights sum
to :math:`1 - \beta^t` (:func:`ema_weight_sum`), not to 1. Dividing by that sum
removes the pull toward the zero start (the *bias correction*, :func:`debias`):

.. math::

    \hat a_t = \frac{a_t}{1 - \beta^t}

Everything here works on Python floats, numpy arrays and ``fractions.Fraction``
alike, so a notebook can run the same formula exactly. The functions check the
kind of each argument and the range of the hyperparameters (not the values in an
array, which would cost a pass over it); :class:`EMA` checks the values too.

>>> avg = EMA(beta=0.9)
>>> round(avg.update(0.5), 12), round(avg.corrected, 12)
(0.05, 0.5)
"""

from __future__ import annotations

from lessonlib.optim._checks import (
    check_beta,
    check_coefficient,
    check_number,
    check_operand,
    check_step,
    check_steps,
    hyperparameter,
)


def ema_update(avg, x, beta):
    r"""One step of the EMA: :math:`a_t = \beta a_{t-1} + (1-\beta) x_t`.

    Args:
        avg: :math:`a_{t-1}`, the average so far (0 before the first value).
        x: :math:`x_t`, the new value.
        beta: :math:`\beta`, the decay rate, in :math:`[0, 1)`.

    >>> ema_update(0.0, 0.5, 0.9)   # 0.05, up to float rounding: (1 - 0.9) is not exactly 0.1
    0.04999999999999999
    """
    beta = check_coefficient("beta", beta, high=1.0)  # a numpy scalar would turn a float32 average into float64
    return _update(check_operand("avg", avg), check_operand("x", x), beta)


def _update(avg, x, beta):
    r""":math:`\beta a_{t-1} + (1-\beta) x_t` unchecked: :func:`ema_update` for a caller that has checked its arguments.

    (:func:`~lessonlib.adam_step` checks each once; a second check costs more than the formula.)
    """
    return beta * avg + (1 - beta) * x


def ema_weight_sum(beta, t):
    r"""The sum of the EMA's weights after ``t`` steps, :math:`1 - \beta^t`: what :func:`debias` divides by.

    Args:
        beta: :math:`\beta`, the decay rate.
        t: the number of values averaged so far, an int >= 0 (or a list or integer array of them).

    >>> round(ema_weight_sum(0.9, 1), 12), round(ema_weight_sum(0.999, 2), 12)
    (0.1, 0.001999)
    """
    beta, t = check_coefficient("beta", beta, high=1.0), check_steps("t", t)
    return _weight_sum(beta, t)


def _weight_sum(beta, t):
    r""":math:`1 - \beta^t` unchecked: :func:`ema_weight_sum` for an optimizer's step.

    The step's hyperparameters and ``t`` were checked when they were set, and a check costs more than the formula.
    """
    return 1 - beta**t


def debias(avg, beta, t):
    r"""The bias-corrected average :math:`\hat a_t = a_t / (1 - \beta^t)`.

    Args:
        avg: :math:`a_t`, the raw average after ``t`` values.
        beta: :math:`\beta`, the decay rate.
        t: the number of values averaged, ``t >= 1`` (at ``t = 0`` nothing has been averaged).

    >>> round(debias(0.05, 0.9, 1), 12)
    0.5
    """
    check_steps("t", t, low=1)  # at t = 0 the weights sum to 0: there is nothing to correct
    return check_operand("avg", avg) / ema_weight_sum(beta, t)


def effective_window(beta):
    r"""The EMA's memory in steps, :math:`1/(1-\beta)`: 10 at 0.9, 1000 at 0.999.

    Args:
        beta: :math:`\beta`, the decay rate, in :math:`[0, 1)`.

    >>> round(effective_window(0.9), 9), round(effective_window(0.999), 9)
    (10.0, 1000.0)
    """
    return 1 / (1 - check_beta("beta", beta))


class EMA:
    r"""An exponential moving average of a stream of numbers or arrays.

    ``update(x)`` returns the new raw average :math:`a_t`; ``value`` is the raw
    average, ``corrected`` the bias-corrected :math:`\hat a_t`, ``t`` the
    number of values seen.

    Args:
        beta: :math:`\beta`, the decay rate, in :math:`[0, 1)`.

    >>> avg = EMA(beta=0.5)
    >>> [avg.update(x) for x in (4.0, 4.0, 4.0)]
    [2.0, 3.0, 3.5]
    >>> avg.corrected  # the debiased EMA of a constant is that constant
    4.0
    """

    beta = hyperparameter(check_beta)

    def __init__(self, beta=0.9):
        self.beta = beta
        self.value = 0.0
        self.t = 0

    def update(self, x):
        """Fold ``x`` (a number or an array, finite) into the average; return the new raw average."""
        check_step(self.t)
        x = check_number("x", x, like=self.value if self.t else None)
        new = ema_update(self.value, x, self.beta)  # computed before anything changes: a bad x loses nothing
        self.value, self.t = new, self.t + 1
        return self.value

    @property
    def corrected(self):
        """The bias-corrected average; only defined once a value has been seen."""
        check_step(self.t)
        if self.t == 0:
            raise ValueError("EMA.corrected is undefined before the first update (t = 0)")
        return debias(self.value, self.beta, self.t)

    def __repr__(self) -> str:
        return f"EMA(beta={self.beta}, t={self.t}, value={self.value!r})"
