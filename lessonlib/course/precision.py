r"""Lesson 09: what 16-bit and 8-bit numbers do to Adam, as functions that tests can check.

- **torch's three implementations in 16 bits**: :func:`torch_adam`, steps of ``torch.optim.Adam``
  (for-loop, foreach or fused) on a parameter of any float dtype, and :func:`relative_disagreement`,
  how far two of them end apart, in machine epsilons of that dtype;
- **rounding**: :func:`spacing` (the spacing between a number and the next one in a dtype);
  :func:`stochastic_round`, float32 to bfloat16 rounding up or down at random so that the mean is
  exact; :func:`repeated_updates`, the same small update applied many times to a bfloat16
  parameter, to a float32 master copy, and with stochastic rounding;
- **loss scaling**: :func:`clip_with_scaler`, what ``clip_grad_norm_`` sees and what the optimizer
  receives, with ``GradScaler``'s ``unscale_`` before clipping or without it;
- **8-bit states**: :func:`blockwise_quantize` and :func:`blockwise_dequantize`, block-wise absmax
  quantization to int8 (Dettmers et al. 2022, with a linear code in place of their dynamic one:
  the bytes are the same).

>>> float(spacing(1.0, torch.bfloat16)), float(spacing(1.0, torch.float16))
(0.0078125, 0.0009765625)
>>> x, generator = torch.full((100_000,), 1.001), torch.Generator().manual_seed(0)
>>> float(x.to(torch.bfloat16)[0]), round(float(stochastic_round(x, generator=generator).float().mean()), 4)
(1.0, 1.001)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from lessonlib.course.memory import QUANT_BLOCK
from lessonlib.course.parity import IMPLEMENTATIONS
from lessonlib.optim._checks import (
    MAX_RUN_STEPS,
    brief,
    check_bool,
    check_int,
    check_name,
    check_operand,
    check_real,
    check_reals,
    check_seed,
)

#: The dtypes :func:`spacing` knows.
TORCH_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

#: The most elements a tensor here may hold (a block, a run's copies): beyond it a call would only fill memory.
MAX_ELEMENTS = 2**31


def _check_dtype(dtype) -> torch.dtype:
    """One of :data:`TORCH_FLOAT_DTYPES`: a TypeError for anything but a ``torch.dtype``, a ValueError for others."""
    if not isinstance(dtype, torch.dtype):
        allowed = ", ".join(map(str, TORCH_FLOAT_DTYPES))
        raise TypeError(f"dtype must be a torch.dtype, one of {allowed}; got {brief(dtype, 60)}")
    if dtype not in TORCH_FLOAT_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype} (allowed: {', '.join(map(str, TORCH_FLOAT_DTYPES))})")
    return dtype


def _check_tensor(name: str, x, dtype: torch.dtype) -> torch.Tensor:
    """A torch tensor of ``dtype``, refused by name otherwise (a TypeError)."""
    if not isinstance(x, torch.Tensor) or x.dtype != dtype:
        raise TypeError(
            f"{name} must be a {str(dtype).removeprefix('torch.')} tensor, got {getattr(x, 'dtype', type(x).__name__)}"
        )
    return x


def spacing(x, dtype: torch.dtype) -> torch.Tensor:
    """The spacing between ``x`` (rounded to ``dtype``) and the next larger number of ``dtype``, in float64.

    A number added to ``x`` and rounded to nearest is lost (the sum rounds back to ``x``) when it is
    smaller than half this spacing.

    Args:
        x: a number or a tensor.
        dtype: one of :data:`TORCH_FLOAT_DTYPES`.
    """
    dtype = _check_dtype(dtype)
    if not isinstance(x, torch.Tensor):  # a finite number or array of them, within float's range, read as float64
        x = check_reals("x", x, low=-math.inf)  # (torch reads neither a Fraction nor an int past int64)
    x = torch.as_tensor(x).detach().to(dtype)
    return (torch.nextafter(x, torch.full_like(x, math.inf)) - x).double()


class AdamState(NamedTuple):
    """A parameter and Adam's two averages after some steps, as float64 numpy arrays (nan and inf kept)."""

    theta: np.ndarray
    m: np.ndarray
    v: np.ndarray


def torch_adam(
    grad, *, dtype: torch.dtype, implementation: str, steps: int = 1, lr: float = 1e-3, theta0: float = 0.0
) -> AdamState:
    r"""``steps`` steps of ``torch.optim.Adam`` with the same gradient each step, on a parameter of ``dtype``.

    The parameter starts at ``theta0`` in every element; the gradient ``grad`` (a list of numbers) is
    rounded to ``dtype`` once. ``implementation`` picks one of torch's three (:data:`IMPLEMENTATIONS`):
    the for-loop and foreach compute every line in ``dtype``; fused computes a step in float32 and
    stores :math:`\theta, m, v` back in ``dtype``. In float32 and float64 that changes a result only by
    rounding; in float16, whose smallest number is :math:`2^{-24} \approx 6 \times 10^{-8}`, it changes
    it altogether (notebook 09).

    >>> torch_adam([1.0, 1e-3, 1e-4, 0.0], dtype=torch.float16, implementation="for-loop", theta0=1.0).theta
    array([0.99902344,       -inf,       -inf,        nan])
    >>> torch_adam([1.0, 1e-3, 1e-4, 0.0], dtype=torch.float16, implementation="fused", theta0=1.0).theta
    array([0.99902344, 0.99902344, 0.99902344, 1.        ])

    Args:
        grad: :math:`g`, the gradient of every step, one number per element.
        dtype: the parameter's dtype, one of :data:`TORCH_FLOAT_DTYPES`.
        implementation: ``"for-loop"``, ``"foreach"`` or ``"fused"``.
        steps: how many steps, 1 to 10**7.
        lr: :math:`\alpha` (the other hyperparameters are torch's defaults).
        theta0: :math:`\theta_0`, every element's start.
    """
    dtype, implementation = _check_dtype(dtype), check_name("implementation", implementation, IMPLEMENTATIONS)
    steps, lr = check_int("steps", steps, low=1, high=MAX_RUN_STEPS), check_real("lr", lr)
    theta0, top = check_real("theta0", theta0, low=-math.inf), torch.finfo(dtype).max
    if abs(theta0) > top:
        raise ValueError(f"Invalid theta0: {theta0} (allowed: |theta0| <= {top:g}, the largest {dtype} holds)")
    g = torch.as_tensor(check_reals("grad", grad, low=-math.inf)).to(dtype)
    if g.ndim != 1 or g.numel() == 0:
        raise ValueError(f"grad must be a non-empty list of numbers, got shape {tuple(g.shape)}")
    theta = nn.Parameter(torch.full(g.shape, theta0, dtype=dtype))
    opt = torch.optim.Adam([theta], lr=lr, **IMPLEMENTATIONS[implementation])
    for _ in range(steps):
        theta.grad = g.clone()
        opt.step()
    state = opt.state[theta]
    as_numpy = lambda x: x.detach().double().numpy()  # noqa: E731
    return AdamState(as_numpy(theta), as_numpy(state["exp_avg"]), as_numpy(state["exp_avg_sq"]))


def relative_disagreement(a: np.ndarray, b: np.ndarray, dtype: torch.dtype) -> float:
    r"""How far two results are apart, in machine epsilons of ``dtype``: :math:`\max|a - b| / \max|b| / \varepsilon`.

    Infinite where one holds inf or nan and the other does not at the same place (or they hold
    different infinities): no rounding explains that. Two nans, or the same infinity, in the same place
    agree; those places are left out of the maximum.

    >>> relative_disagreement(np.array([1.0, 2.0 + 2**-22]), np.array([1.0, 2.0]), torch.float32)
    1.0
    >>> relative_disagreement(np.array([np.inf]), np.array([1.0]), torch.float32)
    inf

    Args:
        a: one result, as an array.
        b: the other, the reference (its largest finite :math:`|b|` sets the scale).
        dtype: whose machine epsilon :math:`\varepsilon` is the unit.
    """
    a, b, dtype = _result("a", a), _result("b", b), _check_dtype(dtype)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    same = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
    finite = np.isfinite(a) & np.isfinite(b)
    if not np.all(same | finite):
        return math.inf
    scale = float(np.max(np.abs(b[finite]), initial=0.0))
    diff = float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))
    if diff == 0.0:
        return 0.0
    return diff / scale / torch.finfo(dtype).eps if scale > 0 else math.inf


def _result(name: str, x) -> np.ndarray:
    """A result to compare, as a float64 array: a plain numpy array of reals (nan and inf kept) or finite numbers."""
    if not isinstance(x, np.ndarray):
        x = check_reals(name, x, low=-math.inf)  # a number or a list: finite; a tensor refused by name
    return np.asarray(check_operand(name, x), dtype=np.float64)  # no matrix, masked array or non-real dtype


def stochastic_round(x: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Round float32 ``x`` to bfloat16 up or down at random, with the probabilities that make the mean exact.

    A bfloat16 number is the top 16 bits of a float32 one, so cutting off the low 16 bits rounds
    towards zero. Adding a random integer from 0 to :math:`2^{16} - 1` to those bits first carries
    into the kept bits with probability equal to how far :math:`|x|` lies between its two
    neighbours: an ``x`` 30% of the way from :math:`a` to :math:`b` becomes :math:`b` 30% of the
    time, and on average exactly ``x``. (A number within one bfloat16 spacing of the largest
    float32 may round to infinity; nan stays nan.)

    Args:
        x: a float32 tensor.
        generator: a ``torch.Generator`` for the random bits (the global one if None).
    """
    if not isinstance(x, torch.Tensor) or x.dtype != torch.float32:
        raise TypeError(f"x must be a float32 tensor, got {getattr(x, 'dtype', type(x).__name__)}")
    bits = x.contiguous().view(torch.int32)
    noise = torch.randint(0, 1 << 16, x.shape, dtype=torch.int32, generator=generator, device=x.device)
    return ((bits + noise) & -(1 << 16)).view(torch.float32).to(torch.bfloat16)  # exact: low bits are zero


#: The three ways :func:`repeated_updates` keeps the parameter.
UPDATE_MODES = ("bfloat16", "float32 master", "stochastic rounding")


def repeated_updates(
    theta0: float, update: float, steps: int, *, copies: int = 1, seed: int = 0
) -> dict[str, np.ndarray]:
    r"""Apply :math:`\theta \leftarrow \theta - \Delta_t` ``steps`` times; return every :math:`\theta_t` per mode.

    Each value is an array of shape ``(steps + 1,)``, except stochastic rounding's, of shape
    ``(steps + 1, copies)``: ``copies`` independent runs, with independent random bits.

    - ``"bfloat16"``: the parameter is stored in bfloat16 and each result rounded to nearest;
    - ``"float32 master"``: a float32 copy is updated, and the bfloat16 weights the model would use are
      rounded from it (the values returned are those bfloat16 weights);
    - ``"stochastic rounding"``: stored in bfloat16, each result rounded with :func:`stochastic_round`.

    Args:
        theta0: :math:`\theta_0`.
        update: :math:`\Delta_t = \theta_{t-1} - \theta_t` (:math:`\alpha` times the optimizer's step), the same
            every step.
        steps: :math:`T`, 1 to 10**7.
        copies: runs of stochastic rounding, >= 1 and at most :data:`MAX_ELEMENTS` numbers in all.
        seed: the seed of the random bits of stochastic rounding.
    """
    theta0, update = check_real("theta0", theta0, low=-math.inf), check_real("update", update, low=-math.inf)
    steps = check_int("steps", steps, low=1, high=MAX_RUN_STEPS)
    copies, seed = check_int("copies", copies, low=1, high=MAX_ELEMENTS // (steps + 1)), check_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    bf16 = torch.tensor([theta0], dtype=torch.bfloat16)
    master = torch.tensor([theta0], dtype=torch.float32)
    sr = bf16.repeat(copies)
    out = {mode: np.empty(steps + 1) for mode in UPDATE_MODES[:2]} | {UPDATE_MODES[2]: np.empty((steps + 1, copies))}
    for t in range(steps + 1):
        if t:
            bf16 = bf16 - update  # bfloat16 minus a Python float: computed, then rounded to nearest bfloat16
            master = master - update
            sr = stochastic_round(sr.float() - update, generator=generator)
        out["bfloat16"][t] = float(bf16)
        out["float32 master"][t] = float(master.to(torch.bfloat16))
        out["stochastic rounding"][t] = sr.double().numpy()
    return out


@dataclass(frozen=True)
class Clipping:
    """What one step with ``GradScaler`` and ``clip_grad_norm_`` did (norms are 2-norms of all gradients together)."""

    seen: float  # the norm clip_grad_norm_ measured (and returned)
    stepped: float  # the norm of the gradient the optimizer stepped with
    true: float  # the norm of the gradient of the loss itself, unscaled and unclipped
    scale: float  # the loss scale


def clip_with_scaler(unscale_first: bool, *, max_norm: float = 1.0, scale: float = 2.0**16, seed: int = 0) -> Clipping:
    """One AdamW step of a small linear model with ``torch.amp.GradScaler`` and gradient clipping, on the CPU.

    The loss is multiplied by ``scale`` before ``backward`` (``scaler.scale(loss)``), so every
    gradient is ``scale`` times too large until ``scaler.unscale_(optimizer)`` divides it back.
    ``unscale_first=True`` is the documented order (``unscale_``, then ``clip_grad_norm_``, then
    ``scaler.step``); ``False`` clips the scaled gradients, and ``scaler.step`` unscales them after.

    Args:
        unscale_first: call ``scaler.unscale_`` before clipping.
        max_norm: the clipping threshold.
        scale: the loss scale (GradScaler's ``init_scale``; its default is :math:`2^{16}`).
        seed: the data.
    """
    unscale_first = check_bool("unscale_first", unscale_first)
    max_norm, scale = check_real("max_norm", max_norm, low=-math.inf), check_real("scale", scale, low=-math.inf)
    if max_norm <= 0 or scale <= 0:
        raise ValueError(f"Invalid max_norm={max_norm}, scale={scale} (allowed: both > 0)")
    largest = torch.finfo(torch.float32).max  # GradScaler keeps its scale in a float32 tensor
    if scale > largest:
        raise ValueError(f"Invalid scale: {scale} (allowed: at most float32's largest, {largest:.3g})")
    generator = torch.Generator().manual_seed(check_seed(seed))
    model = nn.Linear(4, 1)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    x, y = torch.randn(16, 4, generator=generator), torch.randn(16, 1, generator=generator)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu", init_scale=scale)
    loss = nn.functional.mse_loss(model(x), y)
    true = float(
        torch.linalg.vector_norm(
            torch.cat([g.flatten() for g in torch.autograd.grad(loss, model.parameters(), retain_graph=True)])
        )
    )
    scaler.scale(loss).backward()
    if unscale_first:
        scaler.unscale_(opt)
    seen = float(nn.utils.clip_grad_norm_(model.parameters(), max_norm))
    scaler.step(opt)  # unscales first if unscale_ was not called; then opt.step()
    scaler.update()
    stepped = float(torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.parameters()])))
    return Clipping(seen=seen, stepped=stepped, true=true, scale=scale)


def blockwise_quantize(x: torch.Tensor, block_size: int = QUANT_BLOCK) -> tuple[torch.Tensor, torch.Tensor]:
    r"""8-bit block-wise quantization of a float32 tensor: (int8 codes, one float32 scale per block).

    ``x`` is cut into blocks of ``block_size`` elements (the last may be shorter); each block is
    divided by its largest :math:`|x|` (its scale, kept in float32) and each element rounded to one of
    the 255 levels :math:`k/127`, :math:`k = -127 \dots 127`. Storage: one byte per element plus four
    per block. Dettmers et al. (2022) map to a non-linear "dynamic" code instead of these even
    levels, more precise for small values; it takes the same bytes.

    Args:
        x: a float32 tensor (flattened).
        block_size: elements per block, 1 to :data:`MAX_ELEMENTS`.
    """
    x = _check_tensor("x", x, torch.float32)
    block_size = check_int("block_size", block_size, low=1, high=MAX_ELEMENTS)
    flat = x.detach().flatten()
    width = min(block_size, max(flat.numel(), 1))  # a block longer than x: one block, padded no further
    pad = -flat.numel() % width
    blocks = torch.cat([flat, flat.new_zeros(pad)]).view(-1, width)
    scales = blocks.abs().amax(dim=1)
    safe = torch.where(scales > 0, scales, torch.ones_like(scales))  # an all-zero block: codes 0
    codes = torch.round(blocks / safe[:, None] * 127).to(torch.int8).flatten()[: flat.numel()]
    return codes, scales


def blockwise_dequantize(codes: torch.Tensor, scales: torch.Tensor, block_size: int = QUANT_BLOCK) -> torch.Tensor:
    """The float32 values :func:`blockwise_quantize` stored: code / 127 times its block's scale (flattened).

    Args:
        codes: the int8 codes.
        scales: the float32 scale of each block.
        block_size: as when quantizing.
    """
    codes, scales = _check_tensor("codes", codes, torch.int8), _check_tensor("scales", scales, torch.float32)
    block_size = check_int("block_size", block_size, low=1, high=MAX_ELEMENTS)
    if scales.numel() != -(-codes.numel() // block_size):
        raise ValueError(
            f"scales has {scales.numel()} blocks; {codes.numel()} codes in blocks of block_size = {block_size} "
            f"make {-(-codes.numel() // block_size)}"
        )
    block = torch.arange(codes.numel()) // block_size
    return codes.float() / 127 * scales[block]
