r"""Lesson 06: learning-rate schedules, as pure functions of the step :math:`t` (1-based).

A schedule returns the *multiplier* :math:`\eta_t` of Loshchilov & Hutter's
Algorithm 2, not a learning rate: the step actually taken uses
:math:`\eta_t \alpha` (PyTorch's ``lr`` at step :math:`t`), and in AdamW the
decoupled decay is scaled by the same :math:`\eta_t`. With ``ll.Adam`` or
``ll.AdamW`` set ``opt.lr = alpha * eta(t)`` before step :math:`t`.

Every function accepts an integer ``t >= 1`` (and returns a Python float) or an
integer numpy array of steps (and returns a float array), so one call gives a
whole schedule for a plot:

>>> import numpy as np
>>> warmup_cosine(np.arange(1, 6), warmup_steps=2, total_steps=4)
array([0.5, 1. , 0.5, 0. , 0. ])
"""

from __future__ import annotations

import math

import numpy as np

from lessonlib.optim._checks import MAX_STEPS, check_int, check_real, check_steps


def _out(arr: np.ndarray, t):
    return float(arr) if np.ndim(t) == 0 else arr


def constant(t, value: float = 1.0):
    r"""The constant schedule, :math:`\eta_t = c` for every step (Adam's and PyTorch's default, :math:`c = 1`).

    Args:
        t: the step, an int >= 1, or an integer array of steps.
        value: :math:`c \ge 0`.

    >>> constant(1), constant(10_000)
    (1.0, 1.0)
    """
    arr = np.asarray(check_steps("t", t, low=1))  # steps count from 1, as in the lessons
    value = check_real("value", value)
    return _out(np.full(arr.shape, float(value)), t)


def warmup_cosine(t, *, warmup_steps: int, total_steps: int, final: float = 0.0):
    r"""Linear warm-up to 1, then cosine decay to ``final``; ``final`` after ``total_steps``.

    Args:
        t: the step :math:`t`, an int >= 1, or an integer array of steps.
        warmup_steps: :math:`W`, an int >= 0.
        total_steps: :math:`T`, an int > :math:`W`.
        final: :math:`\eta_\min`, in :math:`[0, 1]`.

    With :math:`W` = ``warmup_steps``, :math:`T` = ``total_steps`` and
    :math:`\eta_\min` = ``final``:

    .. math::

        \eta_t = \begin{cases}
            t / W & 1 \le t \le W \\
            \eta_\min + (1 - \eta_\min)\,\tfrac12\bigl(1 + \cos(\pi\,\tfrac{t - W}{T - W})\bigr) & W < t \le T \\
            \eta_\min & t > T
        \end{cases}

    The warm-up starts at :math:`1/W`, not 0, so step 1 already moves; it
    reaches exactly 1 at :math:`t = W`, and the cosine reaches exactly
    :math:`\eta_\min` at :math:`t = T`. ``warmup_steps = 0`` (peak at :math:`t = 0`) gives the plain
    cosine decay of Loshchilov & Hutter's SGDR (without restarts).

    >>> [round(warmup_cosine(t, warmup_steps=10, total_steps=110), 4) for t in (1, 5, 10, 60, 110, 200)]
    [0.1, 0.5, 1.0, 0.5, 0.0, 0.0]
    >>> round(warmup_cosine(60, warmup_steps=10, total_steps=110, final=0.1), 4)
    0.55
    """
    arr = np.asarray(check_steps("t", t, low=1))  # steps count from 1, as in the lessons
    warmup_steps = check_int("warmup_steps", warmup_steps, high=MAX_STEPS - 2)
    total_steps = check_int("total_steps", total_steps, high=MAX_STEPS - 1)
    if total_steps <= warmup_steps:
        raise ValueError(f"Invalid total_steps: {total_steps} (allowed: total_steps > warmup_steps = {warmup_steps})")
    final = check_real("final", final)
    if not 0.0 <= final <= 1.0:
        raise ValueError(f"Invalid final: {final} (allowed: 0 <= final <= 1)")
    tf = arr.astype(np.float64)
    warm = tf / warmup_steps if warmup_steps else np.ones_like(tf)
    progress = np.clip((tf - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)
    cosine = final + (1.0 - final) * 0.5 * (1.0 + np.cos(math.pi * progress))
    cosine = np.where(progress >= 1.0, final, cosine)  # exactly final at and after T (cos(pi) is not exactly -1)
    return _out(np.where(tf <= warmup_steps, warm, cosine), t)
