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
operation. The only extra memory is one scratch buffer of ``CHUNK`` elements.

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

#: Elements per chunk: 32K float64 is 256 KiB per array, so a chunk of theta, g, m, v
#: and the scratch (about 1.3 MiB) fits in a typical L2 cache. benchmarks/ measures it.
CHUNK = 1 << 15


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
    """Chunk-sized scratch buffers, one pair per dtype, allocated once and reused every step."""

    def __init__(self, chunk: int = CHUNK):
        self.chunk = chunk
        self._buffers: dict[np.dtype, np.ndarray] = {}

    def get(self, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        if dtype not in self._buffers:
            self._buffers[dtype] = np.empty((2, self.chunk), dtype=dtype)
        return self._buffers[dtype]


_DEFAULT_SCRATCH = Scratch()


def _flat(a: np.ndarray) -> np.ndarray:
    """A 1-D view of a C-contiguous array (never a copy)."""
    return a.reshape(-1)


def _chunks(p, *others):
    """Yield aligned 1-D chunks of ``p`` and ``others``; arrays that are not C-contiguous go whole."""
    arrays = (p, *others)
    if not all(a.flags.c_contiguous for a in arrays):
        yield arrays
        return
    flat = [_flat(a) for a in arrays]
    n = flat[0].size
    for lo in range(0, n, CHUNK):
        yield tuple(a[lo : lo + CHUNK] for a in flat)


def _scratch_for(chunk: np.ndarray, scratch: Scratch) -> tuple[np.ndarray, np.ndarray]:
    if chunk.ndim == 1 and chunk.size <= scratch.chunk:
        buf = scratch.get(chunk.dtype)
        return buf[0, : chunk.size], buf[1, : chunk.size]
    return np.empty_like(chunk), np.empty_like(chunk)  # only for arrays that are not C-contiguous


def adam_inplace(
    theta, g, m, v, t, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False, scratch=None
) -> None:
    r"""One Adam (``decoupled=False``) or AdamW (``decoupled=True``) step, in place on ``theta``, ``m``, ``v``.

    ``t`` is the new step number (1-based). With ``decoupled=False`` a non-zero
    ``weight_decay`` is the L2 term added to ``g``; with ``decoupled=True`` it
    shrinks ``theta`` by :math:`1 - \alpha\lambda` first. ``g`` is never written.
    """
    step_size, eps_hat = adam_coefficients(lr, beta1, beta2, eps, t)
    keep1, keep2 = 1 - beta1, 1 - beta2
    shrink = 1 - lr * weight_decay if decoupled else 1.0
    l2 = 0.0 if decoupled else weight_decay
    scratch = scratch or _DEFAULT_SCRATCH
    for p_, g_, m_, v_ in _chunks(theta, g, m, v):
        s, s2 = _scratch_for(p_, scratch)
        if shrink != 1.0:
            p_ *= shrink  # AdamW: theta (1 - lr lambda), before the Adam step
        if l2:
            np.multiply(p_, l2, out=s2)  # Adam + L2: g + lambda theta
            s2 += g_
            g_ = s2
        m_ *= beta1  # m = beta1 m + (1 - beta1) g
        np.multiply(g_, keep1, out=s)
        m_ += s
        v_ *= beta2  # v = beta2 v + (1 - beta2) g^2
        np.multiply(g_, g_, out=s)
        s *= keep2
        v_ += s
        np.sqrt(v_, out=s)  # theta -= alpha_t m / (sqrt(v) + eps_hat)
        s += eps_hat
        np.divide(m_, s, out=s)
        s *= step_size
        p_ -= s


def rmsprop_inplace(theta, g, v, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, scratch=None) -> None:
    r"""One RMSprop step in place (the update of :func:`lessonlib.rmsprop_step`).

    :math:`v = \rho v + (1-\rho) g^2`, then :math:`\theta \leftarrow \theta - \alpha g / (\sqrt v + \epsilon)`.
    """
    scratch = scratch or _DEFAULT_SCRATCH
    for p_, g_, v_ in _chunks(theta, g, v):
        s, s2 = _scratch_for(p_, scratch)
        if weight_decay:
            np.multiply(p_, weight_decay, out=s2)
            s2 += g_
            g_ = s2
        v_ *= alpha
        np.multiply(g_, g_, out=s)
        s *= 1 - alpha
        v_ += s
        np.sqrt(v_, out=s)
        s += eps
        np.divide(g_, s, out=s)
        s *= lr
        p_ -= s
