r"""Lessons 09 and 10: a lessonlib optimizer against ``torch.optim``'s three implementations of the same math.

:data:`IMPLEMENTATIONS` names the three (the for-loop, foreach and fused); :func:`parity` runs the same
parameters and gradients through a lessonlib optimizer and each of them, and keeps the deviation at every
step (notebook 10 reads it against float32's and float64's precision; notebook 09 runs the three in 16 bits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lessonlib.optim._checks import (
    FLOAT_DTYPES,
    MAX_RUN_STEPS,
    brief,
    check_function,
    check_int,
    check_made,
    check_name,
    check_names,
    check_seed,
)

#: The keyword arguments that select each of ``torch.optim.Adam``'s implementations of the same math.
IMPLEMENTATIONS: dict[str, dict[str, bool]] = {
    "for-loop": {"foreach": False, "fused": False},  # one small operation per tensor per line of the math
    "foreach": {"foreach": True, "fused": False},  # each line applied to the whole list of tensors at once
    "fused": {"fused": True},  # the whole update in one kernel per group of tensors
}

#: The shapes of the parameters the parity check uses: a small network's matrices and vectors, and a scalar.
PARITY_SHAPES = ((16, 8), (16,), (4, 16), (4,), ())

#: The most numbers the parameters of :func:`parity` may hold together.
MAX_PARITY_NUMBERS = 2**24


def _check_device(device, name: str = "device") -> torch.device:
    """A torch device that exists here: a ``torch.device`` or its name (``"cpu"``, ``"cuda:0"``, ``"meta"``).

    Refused with a TypeError: anything else (torch would read an int as an accelerator's index); with a
    ValueError: a name torch does not know, or a CUDA device this machine does not have.
    """
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"{name} must be a torch.device or its name such as 'cpu' or 'cuda', got {type(device).__name__}"
        )
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError) as e:
        raise ValueError(
            f"Invalid {name}: {brief(device)} (allowed: a device name such as 'cpu' or 'cuda:0'; {e})"
        ) from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (parsed.index or 0) >= count:
            raise ValueError(f"Invalid {name}: {brief(device)} (this machine has {count} CUDA device(s))")
    return parsed


def _check_shapes(shapes) -> tuple:
    """A non-empty list of shapes, each a tuple of sizes >= 0, all holding at most MAX_PARITY_NUMBERS numbers."""
    if not isinstance(shapes, (list, tuple)):
        raise TypeError(f"shapes must be a list or tuple of shapes (tuples of ints), got {type(shapes).__name__}")
    if not shapes:
        raise ValueError("shapes is empty: give at least one parameter's shape")
    checked = []
    for i, shape in enumerate(shapes):
        if not isinstance(shape, (list, tuple)):
            raise TypeError(f"shapes[{i}] must be a tuple of ints, got {type(shape).__name__}")
        checked.append(
            tuple(check_int(f"shapes[{i}][{j}]", n, low=0, high=MAX_PARITY_NUMBERS) for j, n in enumerate(shape))
        )
    if sum(int(np.prod(s, dtype=object)) for s in checked) > MAX_PARITY_NUMBERS:
        raise ValueError(f"Invalid shapes: {shapes} hold more than {MAX_PARITY_NUMBERS} numbers together")
    return tuple(checked)


@dataclass(frozen=True)
class Parity:
    r"""Deviations, step by step, between a lessonlib optimizer and ``torch.optim``.

    ``deviation[impl][t-1]`` is :math:`\max |\theta_\text{lessonlib} - \theta_\text{impl}|` after step
    :math:`t`, over every element of every parameter; ``disagreement[impl][t-1]`` the same between
    ``impl`` and the for-loop implementation; ``scale`` the largest :math:`|\theta|` seen in the run.
    """

    deviation: dict[str, np.ndarray]
    disagreement: dict[str, np.ndarray]
    scale: float

    def relative(self, impl: str) -> float:
        r"""Largest deviation of the run from lessonlib, relative to the largest :math:`|\theta|`.

        Args:
            impl: one of the implementations the run compared (keys of :attr:`deviation`).
        """
        impl = check_name("impl", impl, tuple(self.deviation))
        return float(self.deviation[impl].max()) / self.scale

    def relative_disagreement(self, impl: str) -> float:
        r"""Largest difference of the run between ``impl`` and the for-loop, relative to :attr:`scale`.

        Args:
            impl: one of the implementations compared with the for-loop (keys of :attr:`disagreement`).
        """
        impl = check_name("impl", impl, tuple(self.disagreement))
        return float(self.disagreement[impl].max()) / self.scale


def parity(
    ll_optimizer,
    torch_optimizer,
    *,
    dtype=np.float64,
    device="cpu",
    steps: int = 200,
    shapes=PARITY_SHAPES,
    implementations=tuple(IMPLEMENTATIONS),
    seed: int = 0,
    **hyper,
) -> Parity:
    """Run the same starting point and gradients through ``ll_optimizer`` and ``torch_optimizer``.

    Both sides start from the same arrays and receive the same gradients, drawn
    from ``np.random.default_rng(seed)`` in ``dtype``; the torch parameters live
    on ``device``, once per entry of ``implementations`` (keys of
    :data:`IMPLEMENTATIONS`). ``hyper`` goes to both optimizers. Each side
    computes in ``dtype``.

    >>> import lessonlib as ll
    >>> r = parity(ll.Adam, torch.optim.Adam, steps=20, lr=0.01)
    >>> all(r.relative(impl) < 1e-12 for impl in IMPLEMENTATIONS)
    True

    Args:
        ll_optimizer: a lessonlib optimizer class (``ll.Adam``), called as ``ll_optimizer(params, **hyper)``.
        torch_optimizer: the ``torch.optim`` class to compare with (``torch.optim.Adam``).
        dtype: ``np.float32`` or ``np.float64``.
        device: where the torch parameters live, a ``torch.device`` or its name (``"cpu"``, ``"cuda:0"``).
        steps: how many steps, 1 to :data:`MAX_RUN_STEPS`.
        shapes: the parameters' shapes, at most :data:`MAX_PARITY_NUMBERS` numbers in all.
        implementations: which of :data:`IMPLEMENTATIONS` to run.
        seed: the seed of the start and the gradients.
        hyper: the hyperparameters, given to both optimizers.
    """
    check_function("ll_optimizer", ll_optimizer)
    check_function("torch_optimizer", torch_optimizer)
    try:
        np_dtype = None if dtype is None else np.dtype(dtype)
    except (TypeError, ValueError):
        np_dtype = None
    if np_dtype is None:
        raise TypeError(f"dtype must be np.float32 or np.float64, got {type(dtype).__name__}: {brief(dtype, 60)}")
    if np_dtype not in FLOAT_DTYPES:
        raise ValueError(f"Invalid dtype: {np_dtype} (allowed: float32 or float64)")
    dtype = np_dtype
    device = _check_device(device)
    steps, seed = check_int("steps", steps, low=1, high=MAX_RUN_STEPS), check_seed(seed)
    shapes = _check_shapes(shapes)
    implementations = check_names("implementations", implementations, IMPLEMENTATIONS)
    rng = np.random.default_rng(seed)
    start = [np.asarray(rng.normal(size=s), dtype=dtype) for s in shapes]
    ours = [x.copy() for x in start]
    opt = ll_optimizer(ours, **hyper)
    theirs = {impl: [torch.tensor(x, device=device) for x in start] for impl in implementations}
    opts = {impl: torch_optimizer(ps, **hyper, **IMPLEMENTATIONS[impl]) for impl, ps in theirs.items()}
    for name, made in (("ll_optimizer", opt), *(("torch_optimizer", o) for o in opts.values())):
        check_made(name, made)
    deviation = {impl: np.zeros(steps) for impl in implementations}
    disagreement = {impl: np.zeros(steps) for impl in implementations}
    scale = 0.0
    for t in range(steps):
        grads = [np.asarray(rng.normal(size=s), dtype=dtype) for s in shapes]
        opt.step(grads)
        values = {}
        for impl, ps in theirs.items():
            for p, g in zip(ps, grads):
                p.grad = torch.from_numpy(g).to(device)
            opts[impl].step()
            values[impl] = [p.detach().cpu().numpy() for p in ps]
        reference = values.get("for-loop")
        for impl, vals in values.items():
            deviation[impl][t] = max(_max_abs_diff(a, b) for a, b in zip(ours, vals))
            if reference is not None:
                disagreement[impl][t] = max(_max_abs_diff(a, b) for a, b in zip(reference, vals))
        scale = max(scale, *(float(np.max(np.abs(a))) for a in ours))
    return Parity(deviation, disagreement if "for-loop" in implementations else {}, scale)


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)), initial=0.0))
