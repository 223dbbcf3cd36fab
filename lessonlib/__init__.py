"""lessonlib: the math of the Adam lessons, once, on numpy arrays, and the helpers the notebooks share.

Two layers and the exercises, imported explicitly:

- :mod:`lessonlib.optim`, the math (everything it defines is also here, as ``ll.Adam``
  and so on): the EMA, SGD with momentum, RMSprop, Adam, AdamW (and AMSGrad), weight
  decay, schedules, exact arithmetic, and the one in-place kernel per optimizer.
  It imports nothing from the layer below.
- :mod:`lessonlib.course`, what the notebooks share: ``setup`` (seeds and figure style)
  here, and the submodules a notebook imports by name, one topic each (``objectives``,
  ``runs``, ``tuning``, ``heavy_ball``, ``memory``, ``timing``, ``parity`` and the rest:
  CONTRIBUTING.md lists them).
- :mod:`lessonlib.exercises`, the checks behind every exercise.

The optimizers follow ``torch.optim``: same argument names, defaults and semantics;
parameters are numpy arrays updated in place. :data:`KERNEL` says whether their
steps run compiled (``"numba"``) or as the textbook numpy form (``"numpy"``).
"""

from lessonlib import course, optim
from lessonlib.optim import *  # noqa: F403  (the math, at the top level: ll.Adam, ll.adam_step, ...)
from lessonlib.optim import __all__ as _math

__version__ = "0.2.0"

__all__ = ["course", "optim", *_math]
