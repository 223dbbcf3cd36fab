r"""The seeded least-squares problem of lessons 02 and 04, where mini-batch gradient noise comes from.

:func:`least_squares` makes a :class:`LeastSquares`: the loss :math:`f(\theta) = \frac{1}{2n}\lVert X\theta -
y\rVert^2` of ``n`` examples, each example's own gradient, the gradient over any mini-batch of rows, and the draw
of a mini-batch. How big the noise of such a draw is, and where a run settles under it, is
:mod:`lessonlib.course.gradient_noise` (which notebooks import ``least_squares`` from).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lessonlib.optim._checks import as_ints, check_int, check_real, check_reals, check_seed


@dataclass(frozen=True)
class LeastSquares:
    r"""The loss :math:`f(\theta) = \frac{1}{2n}\lVert X\theta - y\rVert^2` of ``n`` examples and ``d`` features.

    Row :math:`i` alone has the gradient :math:`g_i = x_i\,(x_i^\top\theta - y_i)`; the full gradient is their
    mean, a mini-batch gradient the mean over the rows drawn.
    """

    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        """``n``, the number of examples (rows of X)."""
        return self.X.shape[0]

    @property
    def d(self) -> int:
        r"""``d``, the number of features (the length of :math:`\theta`)."""
        return self.X.shape[1]

    @property
    def minimizer(self) -> np.ndarray:
        r""":math:`\theta^\star`, where the full gradient is zero (least squares, solved directly)."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    @property
    def curvatures(self) -> np.ndarray:
        r"""The eigenvalues of the Hessian :math:`X^\top X / n`, smallest first."""
        return np.linalg.eigvalsh(self.X.T @ self.X / self.n)

    def _theta(self, theta) -> np.ndarray:
        theta = check_reals("theta", theta, low=-np.inf)
        if theta.shape != (self.d,):
            raise ValueError(f"theta must have shape ({self.d},), got {theta.shape}")
        return theta

    def _rows(self, rows) -> np.ndarray:
        """``rows`` as a 1-D integer array of row indices, each in ``0 .. n - 1``, at least one."""
        what = f"a list or 1-D array of row indices (ints from 0 to {self.n - 1})"
        idx = as_ints("rows", rows, what=what)
        if idx.ndim != 1:
            raise TypeError(f"rows must be {what}, got shape {idx.shape}")
        if idx.size == 0:
            raise ValueError("rows is empty: a mini-batch needs at least one row")
        if idx.min() < 0 or idx.max() >= self.n:
            raise ValueError(f"Invalid rows: {idx.min()}..{idx.max()} (allowed: 0 <= rows < n = {self.n})")
        return idx

    def loss(self, theta) -> float:
        r""":math:`f(\theta)`, over all rows.

        Args:
            theta: :math:`\theta`, shape ``(d,)``.
        """
        return self._loss(self._theta(theta))

    def _loss(self, theta: np.ndarray) -> float:
        """:meth:`loss` at a checked ``theta`` (a run's own float64 array: a check a step costs more than the loss)."""
        r = self.X @ theta - self.y
        return float(0.5 * np.mean(r**2))

    def example_grads(self, theta) -> np.ndarray:
        r"""Every row's own gradient :math:`g_i`, shape ``(N, d)``.

        Args:
            theta: :math:`\theta`, shape ``(d,)``.
        """
        r = self.X @ self._theta(theta) - self.y
        return self.X * r[:, None]

    def grad(self, theta, rows=None) -> np.ndarray:
        r"""The gradient over ``rows`` (all rows if None): :math:`\frac1B\sum_{i \in \text{rows}} g_i`.

        Args:
            theta: :math:`\theta`, shape ``(d,)``.
            rows: the indices of the mini-batch, or None for the full gradient :math:`g`.
        """
        return self._grad(self._theta(theta), None if rows is None else self._rows(rows))

    def _grad(self, theta: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
        """:meth:`grad` at a checked ``theta`` over checked row indices (or all rows): what a run calls each step."""
        X, y = (self.X, self.y) if idx is None else (self.X[idx], self.y[idx])
        return X.T @ (X @ theta - y) / len(y)

    def batch(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """``batch_size`` distinct row indices, drawn uniformly without replacement.

        Args:
            batch_size: :math:`B`, from 1 to ``n``.
            rng: the generator the rows are drawn from.
        """
        batch_size = check_int("batch_size", batch_size, low=1, high=self.n)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a np.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        return self._batch(batch_size, rng)

    def _batch(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """:meth:`batch` with its arguments checked: the draw itself."""
        return rng.choice(self.n, size=batch_size, replace=False)


#: The most entries :func:`least_squares`'s X may hold (800 MB of float64).
MAX_ENTRIES = 10**8


def least_squares(n: int = 512, d: int = 5, *, seed: int = 0, noise: float = 0.5, scales=None) -> LeastSquares:
    r"""A seeded problem: :math:`y = X\theta_{\text{true}} + \text{noise}\cdot\xi`, with :math:`\xi \sim N(0, 1)`.

    Feature :math:`j` is Gaussian with standard deviation ``scales[j]`` (by default ``d`` values spread from 1
    down to 0.2), so the curvatures of :math:`f` differ: the problem is mildly ill-conditioned, like a real one.

    Args:
        n: :math:`n`, the number of examples (rows of X) (at least 2).
        d: the number of features (at least 1).
        seed: seeds the data; the same seed gives the same problem.
        noise: the standard deviation of the label noise (>= 0).
        scales: the standard deviation of each feature (``d`` positive numbers), or None.

    >>> p = least_squares()
    >>> p.n, p.d, f"{p.curvatures.max() / p.curvatures.min():.1f}"
    (512, 5, '25.3')
    """
    n, d = check_int("n", n, low=2, high=MAX_ENTRIES), check_int("d", d, low=1, high=MAX_ENTRIES)
    if n * d > MAX_ENTRIES:
        raise ValueError(f"Invalid n, d: {n}, {d} (allowed: n * d <= {MAX_ENTRIES:.0e}, the entries of X)")
    seed = check_seed(seed)
    noise = check_real("noise", noise)
    scales = np.geomspace(1.0, 0.2, d) if scales is None else check_reals("scales", scales, low=0.0, strict_low=True)
    if scales.shape != (d,):
        raise ValueError(f"scales must hold d = {d} values, got shape {scales.shape}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * scales
    theta_true = rng.standard_normal(d)
    y = X @ theta_true + noise * rng.standard_normal(n)
    return LeastSquares(X, y)
