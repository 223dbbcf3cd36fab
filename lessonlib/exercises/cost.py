"""Checks for notebook 08 (what an Adam step costs): bytes moved, the bandwidth limit, flops against bytes.

Each expected value is computed by the library function the notebook teaches, never typed in. Each
exercise asks for three significant digits and accepts one unit in the last of them
(:func:`lessonlib.exercises.check_digits`), so an answer worked out by hand passes.

>>> check_fastest_step_ms(7.0)
✓ the fastest step, in ms = 7 is right.
>>> check_arithmetic_ms(0.233)
✓ the arithmetic of one step, in ms = 0.233 is right.
>>> check_checked_step_bytes(56)  # doctest: +ELLIPSIS
✗ bytes per parameter of ll.Adam.step in float64 = 56 is not right (relative error 1.2e-01). Close: ...
"""

from __future__ import annotations

import numpy as np

from lessonlib.exercises import DIGITS, Result, check_digits, digits_tolerance

# Exercise 1: a float32 model of this many parameters, on a device with this memory bandwidth (bytes / s).
STEP_PARAMS, BANDWIDTH = 1e9, 4e12
# Exercise 2: the dtype of the parameters of ll.Adam.step (with its default check of the gradients).
CHECKED_ITEMSIZE = 8
# Exercise 3: the same model on a GPU that does this many float32 operations per second at most.
PEAK_FLOPS = 60e12


def _torch_helpers():
    from lessonlib.course import pytorch  # torch is imported only when a check of this lesson runs

    return pytorch


def _with_slips(name: str, answer, expected: float, slips: dict, hint: str, digits: int = DIGITS) -> Result:
    """check_digits, with the hint of the slip the answer matches (``slips``: value -> hint) where one does.

    An answer matches a slip when it is that value to ``digits`` significant digits (one unit in the last).
    """
    result = check_digits(name, answer, expected, hint=hint, digits=digits)
    if result.ok is False and np.ndim(answer) == 0:
        for value, slip_hint in slips.items():
            try:
                if abs(float(answer) - value) <= digits_tolerance(value, digits) * (1 + 1e-9):
                    return check_digits(name, answer, expected, hint=slip_hint, digits=digits)
            except (TypeError, ValueError):
                break
    return result


def check_fastest_step_ms(answer) -> Result:
    """Exercise 1: the least time, in ms, one Adam step can take for STEP_PARAMS float32 parameters at BANDWIDTH."""
    return check_digits(
        "the fastest step, in ms",
        answer,
        expected=_torch_helpers().adam_step_traffic(STEP_PARAMS) / BANDWIDTH * 1e3,
        hint="A step must read theta, g, m and v and write theta, m and v: seven float32 numbers of 4 bytes per "
        "parameter. Divide those bytes by the bandwidth, and turn seconds into milliseconds.",
    )


def check_checked_step_bytes(answer) -> Result:
    """Exercise 2: bytes per parameter ``ll.Adam.step`` (gradients checked first) moves in float64, g out of cache."""
    th = _torch_helpers()
    expected = th.adam_step_traffic(1, itemsize=CHECKED_ITEMSIZE, check_finite=True)
    return _with_slips(
        "bytes per parameter of ll.Adam.step in float64",
        answer,
        expected,
        slips={
            th.adam_step_traffic(1, itemsize=CHECKED_ITEMSIZE): "Close: that is the kernel alone. By default "
            "ll.Adam.step first reads every gradient once more, to look for nan and inf.",
            th.adam_step_traffic(1, itemsize=4, check_finite=True): "Right count of passes, but a float64 number "
            "takes 8 bytes, not 4.",
        },
        hint="Count the passes over memory: the kernel reads theta, g, m, v and writes theta, m, v; the default "
        "check reads g once before that. Multiply by the bytes of one float64 number.",
    )


def check_arithmetic_ms(answer) -> Result:
    """Exercise 3: how long the arithmetic of one float32 Adam step of STEP_PARAMS takes at PEAK_FLOPS, in ms."""
    th = _torch_helpers()
    return _with_slips(
        "the arithmetic of one step, in ms",
        answer,
        th.adam_step_flops(STEP_PARAMS) / PEAK_FLOPS * 1e3,
        slips={
            th.adam_step_traffic(STEP_PARAMS) / PEAK_FLOPS * 1e3: "That divides the step's bytes by the "
            "operations per second; count its floating-point operations instead (the notebook's table).",
        },
        hint="Count the floating-point operations of one element of the step (the notebook's table adds them "
        "up), multiply by the number of parameters, divide by the operations per second, and turn seconds "
        "into milliseconds.",
    )
