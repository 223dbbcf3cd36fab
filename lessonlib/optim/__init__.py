"""The math of the course: EMA -> SGD/momentum -> AdaGrad/RMSprop -> Adam -> AdamW, schedules, exact arithmetic.

Imports nothing from :mod:`lessonlib.course`. Each optimizer module holds its textbook
pure step function and the in-place kernel its class runs (see :mod:`lessonlib.optim.optimizer`).
"""

from lessonlib.optim import exact, schedules
from lessonlib.optim.adagrad import AdagradStep, adagrad_step
from lessonlib.optim.adam import Adam, AdamStep, adam_kernel, adam_step, adam_trace, step_bound
from lessonlib.optim.adamw import AdamW, adamw_paper_step, adamw_step
from lessonlib.optim.ema import EMA, debias, effective_window, ema_update, ema_weight_sum
from lessonlib.optim.optimizer import KERNEL, Optimizer
from lessonlib.optim.rmsprop import RMSprop, RMSpropStep, rmsprop_kernel, rmsprop_step
from lessonlib.optim.sgd import SGD, sgd_kernel, sgd_step
from lessonlib.optim.weight_decay import decay, decay_rates, half_life, l2_gradient, torch_weight_decay

__all__ = [
    "KERNEL",
    "EMA",
    "SGD",
    "Adam",
    "AdagradStep",
    "AdamStep",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "RMSpropStep",
    "adagrad_step",
    "adam_kernel",
    "adam_step",
    "adam_trace",
    "adamw_paper_step",
    "adamw_step",
    "debias",
    "decay",
    "decay_rates",
    "effective_window",
    "ema_update",
    "ema_weight_sum",
    "exact",
    "half_life",
    "l2_gradient",
    "rmsprop_kernel",
    "rmsprop_step",
    "schedules",
    "sgd_kernel",
    "sgd_step",
    "step_bound",
    "torch_weight_decay",
]
