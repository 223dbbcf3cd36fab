"""Checks for notebook 08 (what an Adam step costs): bytes moved, the bandwidth limit, flops against bytes.

Each expected value is computed by the library function the notebook teaches, never typed in. Each
exercise asks for three significant digits and accepts one unit in the last of them
(:func:`lessonlib.exercises.check_digits`), so an answer worked out by hand passes. A wrong answer that matches a
known slip (to the same digits) gets a hint that names the slip, without the formula.

>>> check_fastest_step_ms(7.0)
✓ the fastest step, in ms = 7 is right.
>>> check_arithmetic_ms(0.233)
✓ the arithmetic of one step, in ms = 0.233 is right.
>>> check_checked_step_bytes(56)  # doctest: +ELLIPSIS
✗ bytes per parameter of ll.Adam.step in float64 = 56 is not right (relative error 1.2e-01). Close: ...
"""

from __future__ import annotations

from lessonlib.course import memory
from lessonlib.exercises import Result, check_digits

# Exercise 1: a float32 model of this many parameters, on a device with this memory bandwidth (bytes / s).
STEP_PARAMS, BANDWIDTH = 1e9, 4e12
# Exercise 2: the dtype of the parameters of ll.Adam.step (with its default check of the gradients).
CHECKED_ITEMSIZE = 8
# Exercise 3: the same model on a GPU that does this many float32 operations per second at most.
PEAK_FLOPS = 60e12


def check_fastest_step_ms(answer) -> Result:
    """Exercise 1: the least time, in ms, one Adam step can take for STEP_PARAMS float32 parameters at BANDWIDTH."""
    ms = memory.adam_step_traffic(STEP_PARAMS) / BANDWIDTH * 1e3
    reads = memory.adam_step_traffic(STEP_PARAMS) * 4 / 7  # theta, g, m, v read; nothing written back
    return check_digits(
        "the fastest step, in ms",
        answer,
        expected=ms,
        hint="Count again the bytes one step must move per parameter (the notebook's first section), and give the "
        "time in milliseconds.",
        slips={
            ms / 1e3: "That is in seconds; the question asks for milliseconds.",
            reads / BANDWIDTH * 1e3: "That counts only what the step reads; it also writes some arrays back.",
            memory.adam_step_traffic(STEP_PARAMS, check_finite=True) / BANDWIDTH * 1e3: "That includes ll.Adam.step's "
            "check of the gradients; the least any step can move is without it.",
            ms / 4: "That counts numbers, not bytes: a float32 number takes 4 bytes.",
            ms * 2: "That is float64; the model is float32.",
        },
    )


def check_checked_step_bytes(answer) -> Result:
    """Exercise 2: bytes per parameter ``ll.Adam.step`` (gradients checked first) moves in float64, g out of cache."""
    return check_digits(
        "bytes per parameter of ll.Adam.step in float64",
        answer,
        expected=memory.adam_step_traffic(1, itemsize=CHECKED_ITEMSIZE, check_finite=True),
        slips={
            memory.adam_step_traffic(1, itemsize=CHECKED_ITEMSIZE): "Close: that is the kernel alone. By default "
            "ll.Adam.step first reads every gradient once more, to look for nan and inf.",
            memory.adam_step_traffic(1, itemsize=4, check_finite=True): "Right count of passes, but a float64 number "
            "takes 8 bytes, not 4.",
        },
        hint="Count the passes over memory, the check's included, and the bytes of one float64 number (the "
        "notebook's first section).",
    )


def check_arithmetic_ms(answer) -> Result:
    """Exercise 3: how long the arithmetic of one float32 Adam step of STEP_PARAMS takes at PEAK_FLOPS, in ms."""
    ms = memory.adam_step_flops(STEP_PARAMS) / PEAK_FLOPS * 1e3
    return check_digits(
        "the arithmetic of one step, in ms",
        answer,
        ms,
        slips={
            memory.adam_step_traffic(STEP_PARAMS) / PEAK_FLOPS * 1e3: "That divides the step's bytes by the "
            "operations per second; count its floating-point operations instead (the notebook's table).",
            memory.adam_step_flops(STEP_PARAMS, check_finite=True) / PEAK_FLOPS * 1e3: "That adds the operations of "
            "ll.Adam.step's check; the question is about the step's own arithmetic.",
            ms / 1e3: "That is in seconds; the question asks for milliseconds.",
        },
        hint="Count again the floating-point operations of one element of the step (the notebook's table adds "
        "them up), for the whole model, and give the time in milliseconds.",
    )
