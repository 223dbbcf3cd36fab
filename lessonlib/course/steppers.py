r"""Lesson 08's Adam step built several ways on the same arrays, for :mod:`lessonlib.course.timing` to time.

:func:`adam_steppers` builds one float32 Adam step per implementation (:data:`STEP_IMPLEMENTATIONS`: the
textbook numpy form, lessonlib's compiled kernel with and without its look for nan and inf, and
``torch.optim.Adam``'s three), each on its own copy of the same parameters; :func:`textbook_stepper` is the form
the lessons write. Notebook 08 and ``make bench`` reach them through :mod:`lessonlib.course.timing`, which times
them side by side (:func:`lessonlib.course.timing.time_adam_steps`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lessonlib.course.parity import IMPLEMENTATIONS, _check_device
from lessonlib.optim._arrays import check_grads, check_params, root
from lessonlib.optim._checks import check_int, check_names, check_seed
from lessonlib.optim.adam import Adam, adam_step

#: The implementations of one Adam step that notebook 08 times, side by side, on the same arrays.
STEP_IMPLEMENTATIONS = (
    "textbook numpy",
    "lessonlib kernel",
    "lessonlib kernel, check_finite=False",
    "torch for-loop",
    "torch foreach",
    "torch fused",
)

#: The ones that run on a GPU too: torch's three (:data:`IMPLEMENTATIONS`).
TORCH_STEP_IMPLEMENTATIONS = tuple(f"torch {impl}" for impl in IMPLEMENTATIONS)

#: The most parameters :func:`adam_steppers` builds a step for (each implementation holds its own copies).
MAX_STEP_PARAMS = 2**34


@dataclass(frozen=True)
class Stepper:
    """One implementation's Adam step, ``step()``, and ``read()``: its parameters, as one float32 numpy array."""

    step: Callable[[], object]
    read: Callable[[], np.ndarray]


def adam_steppers(
    n: int,
    *,
    tensors: int = 1,
    device="cpu",
    seed: int = 0,
    implementations: Sequence[str] = STEP_IMPLEMENTATIONS,
) -> dict[str, Stepper]:
    r"""One float32 Adam step over ``n`` parameters in ``tensors`` tensors, several ways: name -> a :class:`Stepper`.

    Every implementation starts from its own copy of the same parameters and gradient (drawn from
    ``np.random.default_rng(seed)``, then cut into ``tensors`` nearly equal pieces) and steps with the
    default hyperparameters (lr = 1e-3):

    - ``"textbook numpy"``: :func:`lessonlib.adam_step` on whole arrays, the form the lessons show
      (each line a pass over memory, with new arrays for :math:`m, v, \hat m, \hat v` and the update),
      written back into the parameter;
    - ``"lessonlib kernel"``: ``lessonlib.Adam.step``, the compiled loop, in place, after its default
      look for nan and inf in every gradient (one more read of :math:`g`);
      ``"lessonlib kernel, check_finite=False"``: the loop alone;
    - ``"torch for-loop"``, ``"torch foreach"`` and ``"torch fused"``: ``torch.optim.Adam`` with those
      flags (:data:`IMPLEMENTATIONS`); on the CPU the tensors share memory with numpy arrays.

    The gradient stays the same from step to step: timing needs no new numbers.

    Args:
        n: the number of parameters (>= ``tensors``, <= :data:`MAX_STEP_PARAMS`).
        tensors: how many tensors they are cut into (>= 1).
        device: where torch's tensors live; the numpy and lessonlib forms need ``"cpu"``.
        seed: the seed of the data.
        implementations: which of :data:`STEP_IMPLEMENTATIONS` to build.
    """
    n, seed = check_int("n", n, low=1, high=MAX_STEP_PARAMS), check_seed(seed)
    tensors = check_int("tensors", tensors, low=1, high=n)
    implementations = check_names("implementations", implementations, STEP_IMPLEMENTATIONS)
    device = _check_device(device)
    numpy_only = [impl for impl in implementations if not impl.startswith("torch ")]
    if device.type != "cpu" and numpy_only:
        raise ValueError(f"{numpy_only} run on the CPU only; on {device} time {list(TORCH_STEP_IMPLEMENTATIONS)}")
    rng = np.random.default_rng(seed)
    theta0 = rng.standard_normal(n).astype(np.float32)
    grads = np.array_split(rng.standard_normal(n).astype(np.float32), tensors)
    steppers = {}
    for impl in implementations:
        theta = theta0.copy()
        params = np.array_split(theta, tensors)  # views of theta, one per tensor
        read = theta.copy
        if impl == "textbook numpy":
            step = textbook_stepper(params, grads)
        elif impl.startswith("lessonlib kernel"):
            opt, check = Adam(params), not impl.endswith("check_finite=False")
            step = lambda opt=opt, check=check: opt.step(grads, check_finite=check)  # noqa: E731
        else:
            ps = [torch.from_numpy(p).to(device) for p in params]  # on the CPU: the same memory as theta
            for p, g in zip(ps, grads):
                p.grad = torch.from_numpy(g.copy()).to(device)
            step = torch.optim.Adam(ps, **IMPLEMENTATIONS[impl.removeprefix("torch ")]).step
            if device.type != "cpu":
                read = lambda ps=ps: torch.cat([p.detach().flatten() for p in ps]).cpu().numpy()  # noqa: E731
        steppers[impl] = Stepper(step, read)
    return steppers


def textbook_stepper(params: list[np.ndarray], grads: list[np.ndarray], **hyper) -> Callable[[], None]:
    r"""Adam's step as the lessons write it: :func:`lessonlib.adam_step` on whole arrays, written back into ``params``.

    Each line is a pass over memory, with new arrays for :math:`m, v, \hat m, \hat v` and the update: the
    form every faster implementation is measured against (notebook 08, ``make bench``). The gradients
    stay the same from step to step.

    Args:
        params: the parameters, numpy arrays updated in place.
        grads: one gradient per parameter.
        hyper: :func:`lessonlib.adam_step`'s hyperparameters (``lr``, ``beta1``, ``beta2``, ``eps``); its defaults.
    """
    params = check_params(params)  # a list of distinct float numpy arrays, each written in place
    grads = check_grads(grads, params, {id(root(p)) for p in params})  # one finite gradient of each parameter's shape
    states = [{"m": np.zeros_like(p), "v": np.zeros_like(p)} for p in params]
    t = 0

    def step():
        nonlocal t
        t += 1
        for p, g, state in zip(params, grads, states):
            s = adam_step(p, g, state["m"], state["v"], t, **hyper)
            p[...], state["m"], state["v"] = s.theta, s.m, s.v

    return step
