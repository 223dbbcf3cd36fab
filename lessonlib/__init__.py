"""lessonlib: the math of the Adam lessons, once, on numpy arrays.

One module per concept, in the order of the lessons:

- :mod:`lessonlib.ema`      01  the exponential moving average and its bias correction
- :mod:`lessonlib.rmsprop`  02  RMSprop (an EMA of squared gradients)
- :mod:`lessonlib.adam`     03  Adam (both EMAs plus bias correction)
- :mod:`lessonlib.adamw`    05  AdamW (decoupled weight decay)

and beside them: :mod:`lessonlib.sgd` (the baseline), :mod:`lessonlib.optimizer`
(the stateful shell), :mod:`lessonlib.efficient` (the in-place step the
classes run), :mod:`lessonlib.exact` and :mod:`lessonlib.worked_example` (the
lesson's example to the last digit), :mod:`lessonlib.weight_decay` and
:mod:`lessonlib.schedules` (lesson 05), :mod:`lessonlib.torch_helpers`
(lesson 06), the figures, widgets and test functions the notebooks share, and
:mod:`lessonlib.exercises` (the checks behind every exercise).

The optimizers follow ``torch.optim``: same argument names, defaults and
semantics; parameters are numpy arrays updated in place.
"""

from lessonlib import course, exact
from lessonlib.adam import Adam, AdamStep, adam_step, adam_trace
from lessonlib.adamw import AdamW, adamw_step, decay
from lessonlib.ema import EMA, bias_correction, debias, effective_window, ema_update
from lessonlib.optimizer import Optimizer
from lessonlib.rmsprop import RMSprop, RMSpropStep, rmsprop_step
from lessonlib.sgd import SGD, sgd_step

__version__ = "0.1.0"


def __getattr__(name: str):
    """Import a submodule on first use, so that ``ll.plotting`` works without importing matplotlib up front."""
    import importlib

    try:
        return importlib.import_module(f"lessonlib.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"lessonlib.{name}":
            raise
        raise AttributeError(f"module 'lessonlib' has no attribute {name!r}") from None


__all__ = [
    "EMA",
    "course",
    "exact",
    "SGD",
    "Adam",
    "AdamStep",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "RMSpropStep",
    "adam_step",
    "adam_trace",
    "adamw_step",
    "bias_correction",
    "debias",
    "decay",
    "effective_window",
    "ema_update",
    "rmsprop_step",
    "sgd_step",
]
