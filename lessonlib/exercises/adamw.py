"""Checks for notebook 06 (schedules and AdamW: L2 regularisation against decoupled weight decay).

Each hint names a likely slip (``slips``: the value it gives -> what to tell the learner) without handing over the
formula; exercise 5 asks for three significant figures and accepts them (:func:`lessonlib.exercises.check_digits`).

>>> check_shrink_factor(1 - 3e-4 * 0.1)
✓ shrink factor per step = 0.99997 is right.
>>> check_torch_weight_decay(...)
… torch weight_decay: not answered yet. Replace the ... with your answer and run the cell again.
"""

from __future__ import annotations

import math

import numpy as np

from lessonlib.course.digits import timescale
from lessonlib.exercises import Result, check_digits, check_value
from lessonlib.optim.weight_decay import decay, decay_rates, half_life, torch_weight_decay

# Exercise 1: torch.optim.AdamW(lr=3e-4, weight_decay=0.1); the factor that multiplies theta each step, gradient aside
SHRINK_LR, SHRINK_WD = 3e-4, 0.1
# Exercise 2: the paper's lambda_LH (per step, at eta_t = 1) and the base rate alpha
PAPER_WD, PAPER_ALPHA = 5e-5, 1e-3
# Exercise 3: two parameters' gradient RMS under Adam + L2
RMS_BIG, RMS_SMALL = 4.0, 0.02
# Exercise 5: torch.optim.AdamW(lr=0.1, weight_decay=0.3) on 600 images in mini-batches of 100; tau in epochs
TAU_LR, TAU_WD, TAU_STEPS_PER_EPOCH = 0.1, 0.3, 6


def check_shrink_factor(answer) -> Result:
    """Exercise 1: ``torch.optim.AdamW(lr=3e-4, weight_decay=0.1)`` multiplies theta by what, each step, exactly?"""
    return check_value(
        "shrink factor per step",
        answer,
        expected=decay(1.0, SHRINK_LR, SHRINK_WD),  # theta = 1 after one decay: the factor itself
        rtol=1e-9,
        hint="Not the factor one AdamW decay step leaves: section 3's table shows it at lr = 1e-3.",
        slips={
            1 - SHRINK_WD: "That leaves the learning rate out: PyTorch scales the decay by the learning rate.",
            SHRINK_LR
            * SHRINK_WD: "That is the fraction removed per step; the question asks for the factor that is kept.",
            1 - SHRINK_LR: "That uses the learning rate alone; weight_decay belongs in the decay too.",
        },
    )


def check_torch_weight_decay(answer) -> Result:
    """Exercise 2: the exact ``weight_decay`` of ``AdamW(lr=1e-3)`` equal to the paper's lambda_LH = 5e-5."""
    return check_value(
        "torch weight_decay",
        answer,
        expected=torch_weight_decay(PAPER_WD, PAPER_ALPHA),
        rtol=1e-9,
        hint="The two conventions remove a weight at different rates per unit of their setting: section 2 says "
        "what each one is multiplied by; make the fractions removed per step equal.",
        slips={
            PAPER_WD * PAPER_ALPHA: "That multiplies lambda_LH by the learning rate; PyTorch already multiplies its "
            "weight_decay by lr, so the conversion goes the other way.",
            PAPER_WD: "The same number is not the same decay: PyTorch multiplies its weight_decay by lr.",
        },
    )


def check_l2_decay_ratio(answer) -> Result:
    """Exercise 3: under Adam + L2, how many times faster is the RMS-0.02 parameter decayed than the RMS-4 one?

    The answer is a whole number, and the check wants it exactly.
    """
    rates = decay_rates(1.0, 1.0, v_hat=np.array([RMS_BIG, RMS_SMALL]) ** 2, eps=0.0)
    ratio = float(rates.l2[1] / rates.l2[0])
    return check_value(
        "decay ratio under L2",
        answer,
        expected=ratio,
        rtol=1e-6,
        hint="Under L2 the penalty's gradient goes through Adam's division (section 1): compare what divides each "
        "parameter's decay.",
        slips={
            ratio**2: "v_hat is the mean square; the division is by its square root, the RMS.",
            1 / ratio: "Upside down: the parameter with the *smaller* gradients is decayed faster.",
            1.0: "That would be AdamW, whose decay ignores the gradients; this is Adam + L2.",
        },
    )


def check_timescale(answer) -> Result:
    """Exercise 5: tau = 1/(lr * weight_decay) of ``AdamW(lr=0.1, weight_decay=0.3)``, in epochs of 6 steps.

    The question asks for three significant figures: 5.56 (and 5.55, one unit off) pass, 5.5556 too.
    """
    steps = timescale(TAU_LR, TAU_WD)
    in_epochs = timescale(TAU_LR, TAU_WD, TAU_STEPS_PER_EPOCH)
    half_life_note = "That is the half-life; the window of the average is 1 / (lr * weight_decay), with no ln 2."
    upside_down = "Upside down: a weak decay (small lr * weight_decay) means a long window."
    return check_digits(
        "tau in epochs",
        answer,
        expected=in_epochs,
        hint="tau = 1 / (lr * weight_decay) counts steps; an epoch is 600 / 100 steps.",
        digits=3,
        slips={
            steps: "That is tau in steps; the question asks for epochs (divide by the steps per epoch).",
            steps * TAU_STEPS_PER_EPOCH: "The steps per epoch go the other way: an epoch is several steps.",
            half_life(TAU_LR, TAU_WD) / TAU_STEPS_PER_EPOCH: half_life_note,
            math.log(2) * in_epochs: half_life_note,
            timescale(1.0, TAU_WD, TAU_STEPS_PER_EPOCH): "PyTorch multiplies the decay by the learning rate: the "
            "fraction removed per step is lr * weight_decay.",
            1 / in_epochs: upside_down,
            1 / (steps * TAU_STEPS_PER_EPOCH): upside_down,
        },
    )
