r"""Test functions for the lessons: a loss :math:`f(\theta)` and its gradient :math:`g = \nabla f(\theta)` in 2-D.

Three objectives, each an :class:`Objective` with ``value(theta)`` and ``grad(theta, rng=None)``:

- :func:`quadratic`: the ill-conditioned bowl :math:`f(\theta) = \tfrac12 (a\,\theta_1^2 + b\,\theta_2^2)`,
  steep in one direction and flat in the other (condition number :math:`b/a`);
- :func:`rosenbrock`: the curved valley :math:`f(\theta) = (1 - \theta_1)^2 + 100\,(\theta_2 - \theta_1^2)^2`;
- :func:`noisy`: any objective whose gradient comes with zero-mean Gaussian noise,
  :math:`g = \nabla f(\theta) + \sigma\,\xi,\ \xi \sim \mathcal N(0, I)`, as a mini-batch gradient does.

>>> import numpy as np
>>> bowl = quadratic()
>>> float(bowl.value(np.array([1.0, 1.0]))), bowl.grad(np.array([1.0, 1.0]))
(10.5, array([ 1., 20.]))
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from lessonlib.optim._checks import as_reals, brief, check_real, is_tensor


@dataclass(frozen=True)
class Objective:
    r"""A 2-D loss with its gradient, its minimiser, a start point and a box to draw it in.

    ``value(theta)`` is :math:`f(\theta)`; ``grad(theta, rng)`` is the gradient the
    optimizer sees (noisy objectives draw their noise from ``rng``). Both accept
    an array whose *first* axis holds :math:`(\theta_1, \theta_2)`, so ``value``
    also evaluates a whole grid at once for contour plots.
    """

    name: str
    formula: str  # the loss in LaTeX, for figure titles
    f: object = field(repr=False)
    df: object = field(repr=False)
    minimum: tuple[float, float]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    noise: float = 0.0
    log_levels: bool = False  # draw contours on a log scale (for very steep valleys)

    def value(self, theta):
        r"""The loss :math:`f(\theta)` (noise-free: the quantity we want to make small).

        Args:
            theta: :math:`(\theta_1, \theta_2)`, or an array whose first axis holds them (a grid).
        """
        return self.f(_point(theta))

    def grad(self, theta, rng: np.random.Generator | None = None):
        r"""The gradient the optimizer is given; with ``noise > 0`` it needs ``rng``.

        Args:
            theta: :math:`(\theta_1, \theta_2)`, or an array whose first axis holds them.
            rng: a ``np.random.Generator`` the noise is drawn from (not a seed); only a noisy objective uses it.
        """
        theta = _point(theta)
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a np.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        if self.noise and rng is None:
            raise ValueError(f"{self.name} has noisy gradients: pass rng (a np.random.Generator)")
        g = self.df(theta)
        if self.noise:
            g = g + self.noise * rng.standard_normal(g.shape)
        return g


def _point(theta) -> np.ndarray:
    """``theta`` as a float64 array whose first axis has length 2: a point, or a grid of points."""
    arr = as_reals("theta", theta)  # a diverged run's point may hold inf or nan: its loss is inf or nan
    if arr.ndim == 0 or arr.shape[0] != 2:
        raise ValueError(f"theta must have (theta_1, theta_2) along its first axis, got shape {arr.shape}")
    return arr


def _positive(name: str, value) -> float:
    """A finite real number > 0, as a Python float; the error names ``name``."""
    value = check_real(name, value)
    if value == 0.0:
        raise ValueError(f"Invalid {name}: 0.0 (allowed: 0 < {name})")
    return value


def _coef(c: float) -> str:
    """A coefficient for a LaTeX formula: nothing for 1, else the number and a thin space."""
    return "" if c == 1 else f"{c:g}\\,"


def quadratic(a: float = 1.0, b: float = 20.0) -> Objective:
    r"""The ill-conditioned bowl :math:`f(\theta) = \tfrac12 (a\,\theta_1^2 + b\,\theta_2^2)`.

    Its gradient is :math:`g = (a\,\theta_1,\ b\,\theta_2)`, its minimum 0 at the
    origin. Gradient descent with learning rate :math:`\alpha` multiplies
    :math:`\theta_i` by :math:`1 - \alpha\,c_i` each step (:math:`c = a` or :math:`b`): it
    is stable only for :math:`\alpha < 2/b`, and then crawls along
    :math:`\theta_1` at the rate :math:`1 - \alpha a`.

    Args:
        a: the curvature along :math:`\theta_1`, > 0.
        b: the curvature along :math:`\theta_2`, > 0.

    >>> import numpy as np
    >>> q = quadratic(a=1.0, b=20.0)
    >>> float(q.value(np.array([2.0, 0.5]))), q.grad(np.array([2.0, 0.5]))
    (4.5, array([ 2., 10.]))
    """
    a, b = _positive("a", a), _positive("b", b)
    return Objective(
        name="quadratic",
        formula=rf"$f(\theta)=\frac{{1}}{{2}}({_coef(a)}\theta_1^2+{_coef(b)}\theta_2^2)$",
        f=lambda th: 0.5 * (a * th[0] ** 2 + b * th[1] ** 2),
        df=lambda th: np.array([a * th[0], b * th[1]]),
        minimum=(0.0, 0.0),
        start=(-4.0, 1.25),
        xlim=(-4.5, 1.5),
        ylim=(-1.5, 1.5),
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Objective:
    r"""Rosenbrock's valley :math:`f(\theta) = (a - \theta_1)^2 + b\,(\theta_2 - \theta_1^2)^2`.

    Gradient: :math:`g_1 = -2(a - \theta_1) - 4b\,\theta_1(\theta_2 - \theta_1^2)`,
    :math:`g_2 = 2b\,(\theta_2 - \theta_1^2)`; minimum 0 at :math:`(a, a^2)`, at the
    end of a long, narrow, curved valley.

    >>> import numpy as np
    >>> r = rosenbrock()
    >>> float(r.value(np.array([1.0, 1.0]))), np.abs(r.grad(np.array([1.0, 1.0])))
    (0.0, array([0., 0.]))
    >>> r.grad(np.array([0.0, 0.0]))
    array([-2.,  0.])

    Args:
        a: the first coordinate of the minimum, a real number.
        b: the valley's steepness, > 0.
    """
    a, b = check_real("a", a, low=-math.inf), _positive("b", b)
    return Objective(
        name="Rosenbrock",
        formula=rf"$f(\theta)=({a:g}-\theta_1)^2+{b:g}\,(\theta_2-\theta_1^2)^2$",
        f=lambda th: (a - th[0]) ** 2 + b * (th[1] - th[0] ** 2) ** 2,
        df=lambda th: np.array([-2 * (a - th[0]) - 4 * b * th[0] * (th[1] - th[0] ** 2), 2 * b * (th[1] - th[0] ** 2)]),
        minimum=(a, a * a),
        start=(-1.5, 2.0),
        xlim=(-2.0, 2.0),
        ylim=(-1.0, 3.0),
        log_levels=True,
    )


def noisy(base: Objective | None = None, sigma: float = 2.0) -> Objective:
    r"""``base`` (default: an isotropic bowl) with gradients :math:`g = \nabla f(\theta) + \sigma\,\xi`.

    The noise :math:`\xi \sim \mathcal N(0, I)` has mean zero, so on average the
    gradient is right, but any single one may point the wrong way, as a
    mini-batch gradient does. ``value`` stays the noise-free loss.

    >>> import numpy as np
    >>> obj = noisy(sigma=0.5)
    >>> grads = np.array([obj.grad(np.array([1.0, -2.0]), np.random.default_rng(s)) for s in range(2000)])
    >>> np.round(grads.mean(axis=0), 1), np.round(grads.std(axis=0), 1)   # mean: the true gradient
    (array([ 1., -2.]), array([0.5, 0.5]))
    """
    sigma = check_real("sigma", sigma)
    if base is not None and not isinstance(base, Objective):
        raise TypeError(f"base must be an Objective, got {type(base).__name__}")
    if base is None:  # an isotropic bowl: every direction alike, so only the noise is hard
        base = dataclasses.replace(
            quadratic(a=1.0, b=1.0), name="bowl", start=(-3.0, 2.0), xlim=(-3.5, 1.5), ylim=(-1.5, 2.5)
        )
    return dataclasses.replace(
        base, name=f"noisy {base.name}", formula=base.formula + rf", noise $\sigma={sigma:g}$", noise=sigma
    )


def rotated(base: Objective | None = None, degrees: float = 45.0) -> Objective:
    r"""``base`` (default: :func:`quadratic`) turned by ``degrees``: :math:`f_R(\theta) = f(R^\top\theta)`.

    The landscape is the same, but its steep and flat directions no longer lie along the axes, so an optimizer
    that scales each coordinate separately (RMSprop, Adam) no longer lines up with them. The gradient is
    :math:`R\,\nabla f(R^\top\theta)`; the minimum and the start turn with the landscape.

    Args:
        base: the objective to turn.
        degrees: the angle, counter-clockwise.

    >>> import numpy as np
    >>> r = rotated(quadratic(), 90.0)   # the steep direction now lies along theta_1
    >>> np.round(r.grad(np.array([1.0, 1.0])), 12).tolist()
    [20.0, 1.0]
    """
    base = quadratic() if base is None else base
    if not isinstance(base, Objective):
        raise TypeError(f"base must be an Objective, got {type(base).__name__}")
    deg = check_real("degrees", degrees, low=-math.inf)
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    rot = np.array([[c, -s], [s, c]])

    def back(th):  # R^T theta, along the first axis (a grid too)
        return np.tensordot(rot.T, th, axes=1)

    corners = np.array([[x, y] for x in base.xlim for y in base.ylim]) @ rot.T
    span = np.array([corners.min(axis=0), corners.max(axis=0)])
    return dataclasses.replace(
        base,
        name=f"{base.name} turned {deg:g} degrees",
        formula=base.formula.rstrip("$") + rf",\ \text{{turned }}{deg:g}^\circ$",
        f=lambda th: base.f(back(th)),
        df=lambda th: np.tensordot(rot, base.df(back(th)), axes=1),
        minimum=tuple(float(x) for x in rot @ np.array(base.minimum)),
        start=tuple(float(x) for x in rot @ np.array(base.start)),
        xlim=(float(span[0, 0]), float(span[1, 0])),
        ylim=(float(span[0, 1]), float(span[1, 1])),
    )


def scaled(scales=(1.0, 30.0)) -> Objective:
    r"""A regression whose two features differ in scale: :math:`f(\theta) = \tfrac12 \sum_i (s_i\,\theta_i - 1)^2`.

    The minimum is :math:`\theta_i^\star = 1/s_i`, the curvatures :math:`s_i^2`: a feature 30 times larger
    gives a direction 900 times steeper and a weight 30 times smaller. Gradient descent must keep
    :math:`\alpha < 2/\max_i s_i^2` and then crawls along the small feature; per-coordinate scaling does not
    care. It starts at the origin.

    Args:
        scales: :math:`(s_1, s_2)`, both > 0.

    >>> import numpy as np
    >>> sc = scaled((1.0, 10.0))
    >>> sc.minimum, float(sc.value(np.zeros(2))), sc.grad(np.zeros(2))
    ((1.0, 0.1), 1.0, array([ -1., -10.]))
    """
    if (
        isinstance(scales, (str, bytes))
        or is_tensor(scales)
        or not hasattr(scales, "__len__")
        or (isinstance(scales, np.ndarray) and scales.ndim != 1)
        or len(scales) != 2
    ):
        raise TypeError(f"scales must be a pair (s_1, s_2), got {brief(scales)}")
    s1, s2 = (check_real(f"scales[{i}]", s, low=0.0) for i, s in enumerate(scales))
    if min(s1, s2) == 0.0:
        raise ValueError(f"Invalid scales: {brief(scales)} (allowed: both > 0)")
    s = np.array([s1, s2])

    def f(th):
        return 0.5 * ((s1 * th[0] - 1) ** 2 + (s2 * th[1] - 1) ** 2)

    lo = np.minimum(-0.25 / s, 0.0)
    return Objective(
        name="badly scaled",
        formula=rf"$f(\theta)=\frac{{1}}{{2}}[({_coef(s1)}\theta_1-1)^2+({_coef(s2)}\theta_2-1)^2]$",
        f=f,
        df=lambda th: np.array([s1 * (s1 * th[0] - 1), s2 * (s2 * th[1] - 1)]),
        minimum=(1 / s1, 1 / s2),
        start=(0.0, 0.0),
        xlim=(float(lo[0]), float(1.5 / s1)),
        ylim=(float(lo[1]), float(1.5 / s2)),
    )


def by_name(name: str) -> Objective:
    """The course's three objectives by name: ``"quadratic"``, ``"Rosenbrock"``, ``"noisy"``.

    >>> by_name("Rosenbrock").minimum
    (1.0, 1.0)
    """
    makers = {"quadratic": quadratic, "rosenbrock": rosenbrock, "noisy": noisy}
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {sorted(makers)}, got {type(name).__name__}")
    if name.lower() not in makers:
        raise ValueError(f"Invalid name: unknown objective {brief(name)} (allowed: {sorted(makers)})")
    return makers[name.lower()]()
