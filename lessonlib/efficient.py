r"""The efficient Adam step: the same update as :func:`lessonlib.adam_step`, computed in place.

The textbook form builds :math:`\hat m_t` and :math:`\hat v_t` as new arrays.
Section 2 of the Adam paper points out that the two bias corrections are
scalars, so they can be folded into the step size and into :math:`\epsilon`:

.. math::

    \alpha_t = \alpha\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}, \qquad
    \hat\epsilon_t = \epsilon\,\sqrt{1-\beta_2^t}, \qquad
    \theta_t = \theta_{t-1} - \alpha_t\,\frac{m_t}{\sqrt{v_t} + \hat\epsilon_t}

This is the *same* update: multiply the textbook
:math:`\alpha\,\hat m_t / (\sqrt{\hat v_t} + \epsilon)` above and below by
:math:`\sqrt{1-\beta_2^t}`. (Keras instead keeps :math:`\hat\epsilon` fixed,
which is a slightly different optimizer.)

Here every operation writes into an existing array (``out=`` or ``*=``), and the
work is done in cache-sized chunks: a chunk of :math:`\theta, g, m, v` and the
scratch stay in the CPU cache while all the operations run over it, so main
memory is read and written about once per array per step instead of once per
operation. The only extra memory is one scratch buffer of a few ``CHUNK`` rows,
allocated once.

>>> import numpy as np
>>> from lessonlib.adam import adam_step
>>> theta, m, v = np.array([1.0, 2.0]), np.zeros(2), np.zeros(2)
>>> ref = adam_step(theta, np.array([0.5, -0.3]), m, v, 1)
>>> adam_inplace(theta, np.array([0.5, -0.3]), m, v, 1)
>>> bool(np.allclose(theta, ref.theta, rtol=1e-15) and np.allclose(m, ref.m, rtol=1e-15))
True
"""

from __future__ import annotations

import math

import numpy as np

from lessonlib.ema import bias_correction

#: Elements per chunk. A chunk of theta, g, m, v and the scratch (1.3 MiB in float32, 2.6 MiB in
#: float64) stays in the cache between the dozen operations of a step; benchmarks/adam_step.py
#: found 64K as fast as any size from 16K to 128K at N = 1e7 and faster at N = 1e5 (AMD EPYC,
#: 1 MiB L2 per core, 32 MiB L3).
CHUNK = 1 << 16


def adam_coefficients(lr: float, beta1: float, beta2: float, eps: float, t: int) -> tuple[float, float]:
    r"""The step size :math:`\alpha_t` and :math:`\hat\epsilon_t` with both bias corrections folded in.

    Python floats, so a float32 array stays float32.

    >>> step, eps_hat = adam_coefficients(0.001, 0.9, 0.999, 1e-8, t=1)
    >>> round(step, 12), round(eps_hat / 1e-8, 12)   # sqrt(0.001)/0.1 * lr, and eps * sqrt(0.001)
    (0.000316227766, 0.031622776602)
    """
    root_bc2 = math.sqrt(bias_correction(beta2, t))
    return lr * root_bc2 / bias_correction(beta1, t), eps * root_bc2


class Scratch:
    """One chunk-sized scratch buffer per dtype (4 rows of ``CHUNK``), allocated once and reused every step."""

    ROWS = 4  # two for intermediates, two to gather a group of small theta and g

    def __init__(self, chunk: int = CHUNK):
        self.chunk = chunk
        self._buffers: dict[np.dtype, np.ndarray] = {}

    def get(self, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        if dtype not in self._buffers:
            self._buffers[dtype] = np.empty((self.ROWS, self.chunk), dtype=dtype)
        return self._buffers[dtype]


_DEFAULT_SCRATCH = Scratch()


def _chunks(p, *others):
    """Yield aligned pieces of ``p`` and ``others`` of at most ``CHUNK`` elements each (views, never copies)."""
    arrays = (p, *others)
    if all(a.flags.c_contiguous for a in arrays):
        flat = [a.reshape(-1) for a in arrays]  # views, never copies, for C-contiguous arrays
        for lo in range(0, flat[0].size, CHUNK):
            yield tuple(a[lo : lo + CHUNK] for a in flat)
    else:
        yield from _blocks(arrays)


def _blocks(arrays):
    """Pieces along the leading axes, for layouts that cannot be flattened without a copy (a transposed
    or strided parameter): every piece is a view of at most ``CHUNK`` elements."""
    shape = arrays[0].shape
    if arrays[0].size <= CHUNK:
        yield arrays
        return
    inner = int(np.prod(shape[1:], dtype=np.int64))
    if inner <= CHUNK:
        rows = CHUNK // inner
        for lo in range(0, shape[0], rows):
            yield tuple(a[lo : lo + rows] for a in arrays)
    else:
        for i in range(shape[0]):
            yield from _blocks(tuple(a[i] for a in arrays))


def _scratch_for(chunk: np.ndarray, scratch: Scratch) -> tuple[np.ndarray, np.ndarray]:
    """Two scratch views shaped like ``chunk`` (at most ``CHUNK`` elements), from the reused buffer."""
    buf = scratch.get(chunk.dtype)
    n = chunk.size
    return buf[0, :n].reshape(chunk.shape), buf[1, :n].reshape(chunk.shape)


def _adam_kernel(p, g, m, v, s, s2, *, step_size, eps_hat, beta1, beta2, shrink, l2) -> None:
    """The step on one chunk, every operation in place; ``s`` and ``s2`` are scratch."""
    if shrink != 1.0:
        p *= shrink  # AdamW: theta (1 - lr lambda), before the Adam step
    if l2:
        np.multiply(p, l2, out=s2)  # Adam + L2: g + lambda theta
        s2 += g
        g = s2
    m *= beta1  # m = beta1 m + (1 - beta1) g
    np.multiply(g, 1 - beta1, out=s)
    m += s
    v *= beta2  # v = beta2 v + (1 - beta2) g^2, multiplied in torch's order: (1 - beta2) g, then g
    np.multiply(g, 1 - beta2, out=s)
    s *= g
    v += s
    np.sqrt(v, out=s)  # theta -= alpha_t m / (sqrt(v) + eps_hat)
    s += eps_hat
    np.divide(m, s, out=s)
    s *= step_size
    p -= s


def _rmsprop_kernel(p, g, v, s, s2, *, lr, alpha, eps, weight_decay) -> None:
    if weight_decay:
        np.multiply(p, weight_decay, out=s2)
        s2 += g
        g = s2
    v *= alpha
    np.multiply(g, 1 - alpha, out=s)  # (1 - alpha) g g, in torch's order (see _adam_kernel)
    s *= g
    v += s
    np.sqrt(v, out=s)
    s += eps
    np.divide(g, s, out=s)
    s *= lr
    p -= s


def _adam_args(lr, beta1, beta2, eps, t, weight_decay, decoupled) -> dict:
    step_size, eps_hat = adam_coefficients(lr, beta1, beta2, eps, t)
    return {
        "step_size": step_size,
        "eps_hat": eps_hat,
        "beta1": beta1,
        "beta2": beta2,
        "shrink": 1 - lr * weight_decay if decoupled else 1.0,
        "l2": 0.0 if decoupled else weight_decay,
    }


def adam_inplace(
    theta, g, m, v, t, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False, scratch=None
) -> None:
    r"""One Adam (``decoupled=False``) or AdamW (``decoupled=True``) step, in place on ``theta``, ``m``, ``v``.

    ``t`` is the new step number (1-based). With ``decoupled=False`` a non-zero
    ``weight_decay`` is the L2 term added to ``g``; with ``decoupled=True`` it
    shrinks ``theta`` by :math:`1 - \alpha\lambda` first. ``g`` is never written.
    """
    args = _adam_args(lr, beta1, beta2, eps, t, weight_decay, decoupled)
    scratch = scratch or _DEFAULT_SCRATCH
    for p_, g_, m_, v_ in _chunks(theta, g, m, v):
        _adam_kernel(p_, g_, m_, v_, *_scratch_for(p_, scratch), **args)


def rmsprop_inplace(theta, g, v, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, scratch=None) -> None:
    r"""One RMSprop step in place (the update of :func:`lessonlib.rmsprop_step`).

    :math:`v = \rho v + (1-\rho) g^2`, then :math:`\theta \leftarrow \theta - \alpha g / (\sqrt v + \epsilon)`.
    """
    scratch = scratch or _DEFAULT_SCRATCH
    for p_, g_, v_ in _chunks(theta, g, v):
        _rmsprop_kernel(p_, g_, v_, *_scratch_for(p_, scratch), lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)


# -- many small parameters ------------------------------------------------------------------------
#
# A model of many small arrays pays numpy's per-call overhead once per array and operation. So the
# optimizers keep each state (m, v) of all parameters of one dtype in one flat buffer, and step the
# small parameters in groups of up to CHUNK elements: gather their theta and g into the scratch,
# run the kernel once on the group (its m and v are one contiguous slice of the flat buffer), and
# copy theta back. All of it stays in the cache.

#: Parameters with fewer elements than this are stepped in groups.
SMALL = CHUNK // 4


class Group:
    """Consecutive small parameters of one dtype whose states are adjacent in the flat buffers."""

    __slots__ = ("dtype", "members", "lo", "hi")

    def __init__(self, dtype, index, lo, size):
        self.dtype, self.members, self.lo, self.hi = dtype, [index], lo, lo + size


class FlatState:
    """State arrays named ``names`` for every parameter, as views into one zeroed buffer per dtype.

    ``views[i][name]`` has the shape of ``params[i]``; ``plan`` lists, in order, either a
    parameter index (stepped on its own) or a :class:`Group` of small parameters.
    """

    def __init__(self, params, names):
        totals: dict[np.dtype, int] = {}
        offsets = []
        for p in params:
            offsets.append(totals.get(p.dtype, 0))
            totals[p.dtype] = offsets[-1] + p.size
        self.buffers = {d: {name: np.zeros(n, d) for name in names} for d, n in totals.items()}
        self.views = [
            {name: self.buffers[p.dtype][name][off : off + p.size].reshape(p.shape) for name in names}
            for p, off in zip(params, offsets)
        ]
        self.plan: list = []
        current: dict[np.dtype, Group] = {}
        for i, (p, off) in enumerate(zip(params, offsets)):
            if p.size >= SMALL:
                self.plan.append(i)
                continue
            group = current.get(p.dtype)
            # A group is one contiguous slice of the flat buffers: start a new one when this state does
            # not follow the last member's (a large parameter of the same dtype came between) or is full.
            if group is None or group.hi != off or group.hi - group.lo + p.size > CHUNK:
                current[p.dtype] = group = Group(p.dtype, i, off, p.size)
                self.plan.append(group)
            else:
                group.members.append(i)
                group.hi += p.size


def gather(arrays, out: np.ndarray) -> None:
    """Copy ``arrays`` one after another into the 1-D ``out`` (one C call)."""
    np.concatenate([a.reshape(-1) for a in arrays], out=out)


def scatter(flat: np.ndarray, arrays) -> None:
    """Copy consecutive pieces of ``flat`` back into ``arrays`` (in place, whatever their layout)."""
    lo = 0
    for a in arrays:
        np.copyto(a, flat[lo : lo + a.size].reshape(a.shape))
        lo += a.size


def _gathered(params, grads, like: np.ndarray, scratch):
    """Gather a group's theta and g into the scratch; return them and two more scratch rows, shaped like ``like``."""
    n = like.size
    buf = (scratch or _DEFAULT_SCRATCH).get(like.dtype)
    s, s2, p_flat, g_flat = buf[0, :n], buf[1, :n], buf[2, :n], buf[3, :n]
    gather(params, p_flat)
    gather(grads, g_flat)
    return p_flat, g_flat, s, s2


def adam_group(params, grads, m, v, t, *, lr, beta1, beta2, eps, weight_decay, decoupled, scratch=None) -> None:
    """One Adam/AdamW step for a group of small parameters whose ``m`` and ``v`` are the flat slices given."""
    p_flat, g_flat, s, s2 = _gathered(params, grads, m, scratch)
    _adam_kernel(p_flat, g_flat, m, v, s, s2, **_adam_args(lr, beta1, beta2, eps, t, weight_decay, decoupled))
    scatter(p_flat, params)


def rmsprop_group(params, grads, v, *, scratch=None, **hyper) -> None:
    """One RMSprop step for a group of small parameters whose ``v`` is the flat slice given."""
    p_flat, g_flat, s, s2 = _gathered(params, grads, v, scratch)
    _rmsprop_kernel(p_flat, g_flat, v, s, s2, **hyper)
    scatter(p_flat, params)
