"""Checks for notebook 08 (what an Adam step costs): memory and the bandwidth limit.

Each expected value is computed by the library function the notebook teaches, never typed in.

>>> check_adam_state_gb(12.0)
✓ Adam's m and v for 1.5e9 parameters, in GB = 12 is right.
"""

from __future__ import annotations

from lessonlib.exercises import Result, check_value

# Exercise 1: a model of this many parameters, trained in float32.
STATE_PARAMS = 1.5e9
# Exercise 2: a float32 model of this many parameters, on a device with this memory bandwidth (bytes / s).
STEP_PARAMS, BANDWIDTH = 1e9, 4e12


def check_adam_state_gb(answer) -> Result:
    """Exercise 1: the memory of Adam's m and v, in GB (1e9 bytes), for STATE_PARAMS float32 parameters."""
    from lessonlib.course import pytorch as torch_helpers

    return check_value(
        "Adam's m and v for 1.5e9 parameters, in GB",
        answer,
        expected=torch_helpers.adam_state_bytes(STATE_PARAMS, itemsize=4) / 1e9,
        rtol=1e-3,
        hint="Count only the optimizer's state: two tensors (m and v) per parameter, 4 bytes per float32 number; "
        "the weights and the gradients are not part of it.",
    )


def check_fastest_step_ms(answer) -> Result:
    """Exercise 2: the least time, in ms, one Adam step can take for STEP_PARAMS float32 parameters at BANDWIDTH."""
    from lessonlib.course import pytorch as torch_helpers

    return check_value(
        "the fastest step, in ms",
        answer,
        expected=torch_helpers.adam_step_traffic(STEP_PARAMS) / BANDWIDTH * 1e3,
        rtol=1e-3,
        hint="A step must read theta, g, m and v and write theta, m and v: seven float32 numbers of 4 bytes per "
        "parameter. Divide those bytes by the bandwidth, and turn seconds into milliseconds.",
    )
