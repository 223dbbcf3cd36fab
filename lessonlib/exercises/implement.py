r"""Checks for the exercises "write it yourself": one step of each optimizer, as a function.

Lessons 01, 02, 03, 04, 06 and 07 each end with an exercise in which you write a function of the
optimizer: ``ema_update``, ``momentum_step``, ``rmsprop_step``, ``adam_step``, ``adamw_step`` or
``amsgrad_step``. ``TEMPLATE[name]`` is the starter code of the exercise cell, and ``check_<name>(fn)``
runs your function on the lesson's worked example (:math:`\theta_0 = 1`, gradients 0.5, 0.3, 0.8, 0.6,
along lessonlib's own trajectory) and on seeded random cases (Python floats and float64 arrays), and
compares every value it returns with lessonlib. When a value is wrong, the check recomputes the known
slips (each is a small function in :mod:`lessonlib.exercises.implement_slips`, next to its message) and
names the one your values match on every case; if none does, it shows the first wrong value with its
inputs. It also reports an exception, the wrong number, type or shape of values, and an input changed in
place. A check answers with a :class:`~lessonlib.exercises.implement_harness.Verdict`: a Result that also says
which check failed and which slip was found (the harness is :mod:`lessonlib.exercises.implement_harness`).

>>> def ema_update(avg, x, beta):
...     return beta * avg + (1 - beta) * x
>>> check_ema_update(ema_update)
✓ ema_update agrees with lessonlib on the worked example and 12 random cases.
>>> check_ema_update(lambda avg, x, beta: (1 - beta) * avg + beta * x)  # doctest: +NORMALIZE_WHITESPACE
✗ ema_update: your average matches (1 - beta) * avg + beta * x: the weights are swapped;
beta belongs to the old average, 1 - beta to the new value.
>>> check_ema_update(lambda avg, x, beta: (1 - beta) * avg + beta * x).failed
<Failure.SLIP: 'a known slip'>
"""

from __future__ import annotations

from lessonlib.exercises.implement_harness import Verdict, judge
from lessonlib.exercises.implement_slips import ADAM, ADAMW, AMSGRAD, EMA, EXERCISES, MOMENTUM, RMSPROP

#: The starter code of each exercise cell, by function name; its ``...`` lines give "not answered yet".
TEMPLATE = {name: ex.template for name, ex in EXERCISES.items()}


def check_ema_update(fn) -> Verdict:
    """Lesson 01: your ``ema_update(avg, x, beta) -> avg``, one step of the EMA, a_t from a_{t-1} and x_t.

    Args:
        fn: your function; it returns the new raw average (no bias correction) and changes no input.
    """
    return judge(EMA, fn)


def check_momentum_step(fn) -> Verdict:
    """Lesson 02: your ``momentum_step(theta, g, buf, *, lr, momentum) -> (buf, theta)``, torch's heavy ball.

    Args:
        fn: your function; it returns the new buffer b_t and the new theta_t (buf starts at zeros).
    """
    return judge(MOMENTUM, fn)


def check_rmsprop_step(fn) -> Verdict:
    """Lesson 03: your ``rmsprop_step(theta, g, v, *, lr, alpha, eps) -> (v, theta)``, torch's RMSprop.

    Args:
        fn: your function; it returns the new v_t and theta_t (alpha is the decay of v, lr the step size).
    """
    return judge(RMSPROP, fn)


def check_adam_step(fn) -> Verdict:
    """Lesson 04: your ``adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps) -> (theta, m, v)``: all five lines.

    Args:
        fn: your function; t is the step number, 1 on the first step. It returns theta_t, m_t, v_t.
    """
    return judge(ADAM, fn)


def check_adamw_step(fn) -> Verdict:
    """Lesson 06: your ``adamw_step(theta, g, m, v, t, *, lr, beta1, beta2, eps, weight_decay) -> (theta, m, v)``.

    Args:
        fn: your function, torch's AdamW: the decoupled decay of theta first, then the Adam step with g as it is.
    """
    return judge(ADAMW, fn)


def check_amsgrad_step(fn) -> Verdict:
    """Lesson 07: your ``amsgrad_step(theta, g, m, v, v_max, t, *, lr, beta1, beta2, eps) -> (theta, m, v, v_max)``.

    Args:
        fn: your function, torch's ``amsgrad=True``: v_max keeps the largest raw v, and v_hat is built from it.

    Here the worked example goes on for two more steps with small gradients (0.01), so that v falls.
    """
    return judge(AMSGRAD, fn)
