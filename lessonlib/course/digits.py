r"""Real data, offline: a small network on scikit-learn's 8 x 8 digits, trained with ``torch.optim``.

The data set is the one :func:`sklearn.datasets.load_digits` reads from inside the scikit-learn wheel
(1797 images of 8 x 8 pixels, values 0 to 16, ten classes); nothing is downloaded. :func:`read_digits` reads
that same file without importing scikit-learn, which would load scipy and take about a second. :func:`load` shuffles
it with a seed, keeps ``n_train`` images for training and the rest as the held-out set, and scales the
pixels. The model is a multilayer perceptron 64 -> ``hidden`` -> 10 with a ReLU, on the CPU, trained on
the mean cross-entropy in shuffled mini-batches.

:func:`train_grid` trains one network per point of a grid of learning rate :math:`\alpha` x weight decay
:math:`\lambda` *at once*: the grid's networks are stacked into one batched network (``torch.matmul``
over leading grid axes), every one of them starting from the same weights and seeing the same
mini-batches, so the settings differ in nothing else. Three optimizers, by name (:data:`OPTIMIZERS`):

- ``"SGD"``: ``torch.optim.SGD(lr, momentum=0.9, weight_decay=λ)``: :math:`\lambda\theta` is added to the
  gradient (L2) and so goes into the momentum buffer :math:`b_t = \mu b_{t-1} + g_t + \lambda\theta_{t-1}`;
  with the gradient left aside, once the buffer has filled it shrinks the weights by about
  :math:`\alpha\lambda/(1-\mu)` per step, not the :math:`\alpha\lambda` of plain gradient descent (and it is
  not SGDW's decoupled decay);
- ``"Adam"``: ``torch.optim.Adam(lr, weight_decay=λ)``: L2, :math:`\lambda\theta` added to the gradient
  before :math:`m` and :math:`v` see it;
- ``"AdamW"``: ``torch.optim.AdamW(lr, weight_decay=λ)``: :math:`\theta \leftarrow (1-\alpha\lambda)\theta`,
  then the Adam step on the gradient alone.

One ``torch.optim.SGD`` or ``torch.optim.Adam`` holds the whole grid, one parameter group per learning
rate. The weight decay, which differs between the networks of a group, is applied before that
optimizer's step exactly where those classes apply theirs: added to the gradient, or the parameter
multiplied by :math:`1-\alpha\lambda`. ``tests/test_digits.py`` checks grid points against the classes
themselves (``torch.optim.AdamW`` and the others) on a network of its own.

>>> d = load()
>>> tuple(d.X_train.shape), tuple(d.X_test.shape), d.y_train.dtype
((600, 64), (1197, 64), torch.int64)
"""

from __future__ import annotations

import importlib.util
import math
import numbers
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from lessonlib.optim._checks import MAX_STEPS, brief, check_beta, check_int, check_real, check_seed

#: The optimizers :func:`train_grid` knows, and what ``weight_decay`` means for each.
OPTIMIZERS = {
    "SGD": "torch.optim.SGD(momentum=0.9): weight_decay is L2, added to the gradient",
    "Adam": "torch.optim.Adam: weight_decay is L2, added to the gradient before m and v see it",
    "AdamW": "torch.optim.AdamW: weight_decay is decoupled, theta *= 1 - lr * weight_decay before the step",
}

#: The images have 8 x 8 pixels, each 0 (white) to 16 (black), and show the digits 0 to 9.
N_PIXELS, N_CLASSES, PIXEL_MAX = 64, 10, 16.0

#: What a :class:`Grid` records, after each recorded epoch.
MEASURES = ("train_loss", "test_loss", "train_error", "test_error")


@dataclass(frozen=True)
class Digits:
    """The split data: scaled pixels (float32, one row per image) and labels (int64, 0 to 9)."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor


def read_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 images (pixel values 0 to 16, one row of 64 per image) and their labels, as ``load_digits`` gives them.

    Read from the file :func:`sklearn.datasets.load_digits` reads, ``sklearn/datasets/data/digits.csv.gz``
    inside the installed package, without importing scikit-learn; where that file is not found, from
    ``load_digits(return_X_y=True)`` itself. ``tests/test_digits.py`` checks that the two agree.

    Returns:
        ``(X, y)``: float64 ``(1797, 64)`` and int ``(1797,)``.

    >>> X, y = read_digits()
    >>> X.shape, int(X.max()), sorted(set(y.tolist())) == list(range(10))
    ((1797, 64), 16, True)
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the digits come with scikit-learn: pip install scikit-learn (the course extra has it)")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():  # pragma: no cover - a scikit-learn that keeps its data elsewhere
        from sklearn.datasets import load_digits

        return load_digits(return_X_y=True)
    data = np.loadtxt(path, delimiter=",")
    return data[:, :-1], data[:, -1].astype(int)


def load(n_train: int = 600, *, seed: int = 0) -> Digits:
    r"""The 8 x 8 digits, shuffled with ``seed`` and split: ``n_train`` images to train on, the rest held out.

    Each pixel :math:`x_j` (0 to 16) becomes :math:`(x_j/16 - \mu_j)/s`: :math:`\mu_j` the mean of pixel
    :math:`j` over the training images, :math:`s` the standard deviation of all training pixels together
    (one scale for every pixel, so that a pixel which is almost always blank stays small instead of being
    blown up). Only the training images set :math:`\mu` and :math:`s`. Deterministic for a seed.

    Args:
        n_train: how many images to train on, 2 to 1796; the others form the held-out set.
        seed: the seed of the shuffle (numpy's ``default_rng``), an int >= 0.

    >>> d = load(1000, seed=1)
    >>> len(d.y_train), len(d.y_test), abs(round(float(d.X_train.mean()), 6)), round(float(d.X_train.std()), 2)
    (1000, 797, 0.0, 1.0)
    """
    n_train, seed = check_int("n_train", n_train, low=2), check_seed(seed)
    X, y = read_digits()
    if n_train >= len(y):
        raise ValueError(f"Invalid n_train: {n_train} (allowed: 2 <= n_train <= {len(y) - 1}, one image held out)")
    order = np.random.default_rng(seed).permutation(len(y))
    train, test = order[:n_train], order[n_train:]
    x = X / PIXEL_MAX
    mean = x[train].mean(axis=0)
    scale = float((x[train] - mean).std())
    z = torch.tensor((x - mean) / scale, dtype=torch.float32)
    labels = torch.tensor(y, dtype=torch.int64)
    return Digits(z[train], labels[train], z[test], labels[test])


@dataclass(frozen=True)
class Grid:
    r"""What :func:`train_grid` measured, indexed ``[i_lr, i_wd, k]``: after epoch ``epochs[k]`` (0: the start).

    ``train_loss`` and ``test_loss`` are the mean cross-entropy on the whole training and held-out set,
    ``train_error`` and ``test_error`` the fraction of images classified wrongly. A network *diverged* when
    its training loss stopped being finite or ended above where it started; it is never chosen.
    """

    optimizer: str
    lrs: tuple
    weight_decays: tuple
    epochs: tuple
    steps_per_epoch: int
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray

    @property
    def diverged(self) -> np.ndarray:
        """``[i_lr, i_wd]``: True for a network whose training loss went non-finite or ended above its start."""
        loss = self.train_loss
        return ~np.isfinite(loss).all(axis=-1) | ~(loss[..., -1] <= loss[..., 0])

    def final(self, what: str = "test_loss") -> np.ndarray:
        """``what`` after the last epoch, ``[i_lr, i_wd]``; ``inf`` where the network diverged.

        Args:
            what: one of :data:`MEASURES`, the held-out loss by default.
        """
        if what not in MEASURES:
            raise ValueError(f"Invalid what: {brief(what)} (allowed: {', '.join(MEASURES)})")
        return np.where(self.diverged, np.inf, getattr(self, what)[..., -1])

    def best(self, what: str = "test_loss") -> tuple[int, int]:
        """The rule: the grid point ``(i_lr, i_wd)`` with the lowest ``what`` after the last epoch (first on a tie).

        Args:
            what: one of :data:`MEASURES`, the held-out loss by default.
        """
        i_lr, i_wd = divmod(int(np.argmin(self.final(what))), len(self.weight_decays))
        return i_lr, i_wd

    def best_weight_decay(self, what: str = "test_loss") -> np.ndarray:
        """For each learning rate, the index of the weight decay with the lowest ``what`` (first on a tie).

        Args:
            what: one of :data:`MEASURES`, the held-out loss by default.
        """
        return np.argmin(self.final(what), axis=1)

    def until(self, epoch: int) -> Grid:
        """The grid as it stood after ``epoch`` epochs: what a run of ``epoch`` epochs gives (the rates are constant).

        Args:
            epoch: a recorded epoch, one of :attr:`epochs` other than 0 (see ``curves`` in :func:`train_grid`).

        >>> g = Grid("AdamW", (0.1,), (0.0,), (0, 1, 2), 6, *np.arange(12.0, 0, -1).reshape(4, 1, 1, 3))
        >>> h = g.until(1)
        >>> h.epochs, h.test_loss.tolist(), h.final().tolist()
        ((0, 1), [[[9.0, 8.0]]], [[8.0]])
        """
        if check_int("epoch", epoch) not in self.epochs[1:]:
            raise ValueError(f"Invalid epoch: {brief(epoch)} (allowed: a recorded epoch, one of {self.epochs[1:]})")
        k = self.epochs.index(epoch) + 1
        return replace(self, epochs=self.epochs[:k], **{what: getattr(self, what)[..., :k] for what in MEASURES})

    def timescale(self) -> np.ndarray:
        r"""``[i_lr, i_wd]``: :func:`timescale` of each grid point, in epochs (``inf`` where :math:`\lambda = 0`)."""
        return np.array([[timescale(lr, wd, self.steps_per_epoch) for wd in self.weight_decays] for lr in self.lrs])

    def table(self, what: str = "test_loss") -> str:
        """The grid as text: learning rates across, weight decays down, ``*`` at the best, ``div`` if diverged.

        Args:
            what: one of :data:`MEASURES`, the held-out loss by default.
        """
        values, best = self.final(what), self.best(what)
        lines = [
            f"{self.optimizer}: {what.replace('_', ' ').replace('test', 'held-out')} after {self.epochs[-1]} epochs;"
            " * best, div = diverged",
            "weight_decay \\ lr" + "".join(f"{lr:>9.2g}" for lr in self.lrs),
        ]
        for j, wd in enumerate(self.weight_decays):
            cells = []
            for i in range(len(self.lrs)):
                text = "div" if not np.isfinite(values[i, j]) else f"{values[i, j]:.3f}"
                cells.append(f"{('*' if (i, j) == best else '') + text:>9s}")
            lines.append(f"{wd:>17.2g}" + "".join(cells))
        return "\n".join(lines)


def timescale(lr, weight_decay, steps_per_epoch=1) -> float:
    r"""The window of decoupled weight decay, :math:`\tau = 1/(\alpha\lambda)` steps, in epochs.

    AdamW multiplies every weight by :math:`1-\alpha\lambda` each step, so a weight is an exponential moving
    average of its updates with :math:`\beta = 1-\alpha\lambda`, whose window is
    :math:`1/(1-\beta) = 1/(\alpha\lambda)` steps (notebook 01). Wang & Aitchison (2024) read AdamW's two
    settings this way, and measure :math:`\tau` in epochs. For L2 under Adam the product means no such time.

    Args:
        lr: :math:`\alpha \ge 0`, PyTorch's learning rate.
        weight_decay: :math:`\lambda \ge 0`, PyTorch's (``torch.optim.AdamW``) weight decay.
        steps_per_epoch: steps in one pass over the training set, 1 to 2**62 (1: :math:`\tau` in steps).

    Returns:
        :math:`\tau` in epochs; ``inf`` when :math:`\alpha\lambda = 0` (nothing decays).

    >>> round(timescale(1e-3, 0.01))                # PyTorch's AdamW defaults: a window of 100,000 steps
    100000
    >>> round(timescale(0.1, 0.3, steps_per_epoch=6), 2)
    5.56
    """
    rate = check_real("lr", lr) * check_real("weight_decay", weight_decay)
    steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, low=1, high=MAX_STEPS)
    return math.inf if rate == 0 else 1.0 / (rate * steps_per_epoch)


def _initial_weights(hidden: int, generator: torch.Generator) -> list[torch.Tensor]:
    """``torch.nn.Linear``'s default start: weights and biases uniform in +-1/sqrt(fan_in); W stored (in, out)."""
    out = []
    for fan_in, fan_out in ((N_PIXELS, hidden), (hidden, N_CLASSES)):
        bound = 1.0 / math.sqrt(fan_in)
        out.append((torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * bound)
        out.append((torch.rand(fan_out, generator=generator) * 2 - 1) * bound)
    return out


def forward(params, X: torch.Tensor) -> torch.Tensor:
    """The logits of the network, or of many stacked networks.

    Args:
        params: ``(W1, b1, W2, b2)``, shapes ``(..., 64, hidden)``, ``(..., hidden)``, ``(..., hidden, 10)``,
            ``(..., 10)``, where ``...`` are the same leading grid axes (none for one network).
        X: images, ``(n, 64)``.

    Returns:
        The logits, ``(..., n, 10)``.

    >>> W1, b1, W2, b2 = torch.ones(64, 2), torch.zeros(2), torch.ones(2, 10), torch.arange(10.0)
    >>> forward((W1, b1, W2, b2), torch.ones(1, 64))[0, :3].tolist()
    [128.0, 129.0, 130.0]
    """
    W1, b1, W2, b2 = params
    grid = W1.shape[:-2]
    # the first layer of every network in one product: X @ [W1 of network 1 | W1 of network 2 | ...]
    z = (X @ W1.movedim(-2, 0).reshape(N_PIXELS, -1)).view(len(X), *grid, -1).movedim(0, -2)
    h = torch.relu(z + b1.unsqueeze(-2))
    return h @ W2 + b2.unsqueeze(-2)


def _losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean cross-entropy of each stacked network: logits ``(..., n, 10)``, labels ``(n,)`` -> ``(...)``."""
    flat = torch.nn.functional.cross_entropy(
        logits.reshape(-1, N_CLASSES), y.expand(logits.shape[:-1]).reshape(-1), reduction="none"
    )
    return flat.view(logits.shape[:-1]).mean(-1)


def _sequence(name: str, values, expected: str) -> tuple:
    """``values`` as a tuple, or a TypeError naming ``name`` (a string or a dict is not a sequence of values here)."""
    try:
        if isinstance(values, (str, bytes, dict)):
            raise TypeError
        return tuple(values)
    except TypeError:
        raise TypeError(f"{name} must be {expected}, got {type(values).__name__}") from None


def _check_values(name: str, values) -> tuple:
    if isinstance(values, numbers.Real):
        values = (values,)
    values = _sequence(name, values, "a number or a sequence of numbers")
    values = tuple(check_real(name, v) for v in values)
    if not values:
        raise ValueError(f"{name} must hold at least one value")
    return values


def _check_curves(curves, epochs: int) -> tuple:
    """The epochs :func:`train_grid` records, from its ``curves``: True, False or the epochs to record."""
    if isinstance(curves, (bool, np.bool_)):
        return tuple(range(epochs + 1)) if curves else (0, epochs)
    chosen = _sequence("curves", curves, "True, False or a sequence of epochs")
    chosen = {check_int("curves", k, low=1) for k in chosen}
    if chosen and max(chosen) > epochs:
        raise ValueError(f"Invalid curves: {max(chosen)} (allowed: epochs 1 to epochs = {epochs})")
    return (0, *sorted(chosen | {epochs}))


def train_grid(
    optimizer: str,
    data: Digits,
    *,
    lrs,
    weight_decays=0.0,
    epochs: int = 20,
    batch_size: int = 100,
    hidden: int = 32,
    momentum: float = 0.9,
    seed: int = 0,
    curves=True,
    dtype: torch.dtype = torch.float32,
) -> Grid:
    r"""Train one network per ``(lr, weight_decay)`` with ``optimizer``, all at once, and record how they do.

    Every network starts from the same weights (``torch.nn.Linear``'s default initialisation, drawn
    with ``seed``) and sees the same shuffled mini-batches (``ceil(n_train / batch_size)`` steps per
    epoch); the loss is the mean cross-entropy of the batch, and every weight and bias is decayed, as
    ``optimizer(model.parameters(), ...)`` does. The loss and error on the whole training and held-out
    sets are recorded at the start and after every epoch (or after the epochs ``curves`` names, and the last).
    Deterministic for a seed and a number of torch threads (``torch.set_num_threads``).

    Args:
        optimizer: ``"SGD"`` (with momentum :math:`\mu`), ``"Adam"`` or ``"AdamW"``, see :data:`OPTIMIZERS`.
        data: the split data set, from :func:`load`.
        lrs: the learning rates :math:`\alpha \ge 0`, one or several.
        weight_decays: the weight decays :math:`\lambda \ge 0`, one or several (L2 for SGD and Adam,
            decoupled for AdamW, with :math:`\alpha\lambda < 1`).
        epochs: passes over the training set, >= 1.
        batch_size: images per step, >= 1.
        hidden: units in the hidden layer, >= 1.
        momentum: SGD's :math:`\mu`, ``0 <= momentum < 1``; Adam and AdamW use torch's defaults instead
            (:math:`\beta_1 = 0.9`, :math:`\beta_2 = 0.999`, :math:`\epsilon = 10^{-8}`).
        seed: seeds the initial weights and the order of the mini-batches, an int >= 0.
        curves: record after every epoch (True); only at the start and after the last (False, faster); or at
            the start, after the epochs given (a sequence of ints from 1 to ``epochs``) and after the last.
        dtype: ``torch.float32`` or ``torch.float64``, the precision of the weights and of every sum; the start
            is the same float32 draw either way.

    Returns:
        A :class:`Grid`.

    >>> g = train_grid("AdamW", load(), lrs=(1e-3, 1e-2), weight_decays=(0.0, 1.0), epochs=2)
    >>> g.train_loss.shape, g.epochs, g.steps_per_epoch, f"tau = {g.timescale()[1, 1]:.1f} epochs"
    ((2, 2, 3), (0, 1, 2), 6, 'tau = 16.7 epochs')
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"Invalid optimizer: {brief(optimizer)} (allowed: {', '.join(OPTIMIZERS)})")
    if not isinstance(data, Digits):
        raise TypeError(f"data must be the Digits that load() returns, got {type(data).__name__}")
    lrs, wds = _check_values("lr", lrs), _check_values("weight_decay", weight_decays)
    epochs, batch_size = check_int("epochs", epochs, low=1), check_int("batch_size", batch_size, low=1)
    hidden, seed = check_int("hidden", hidden, low=1), check_seed(seed)
    momentum, recorded = check_beta("momentum", momentum), _check_curves(curves, epochs)
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"Invalid dtype: {brief(dtype)} (allowed: torch.float32, torch.float64)")
    if optimizer == "AdamW" and max(lrs) * max(wds) >= 1:
        raise ValueError(f"Invalid lr * weight_decay: {max(lrs) * max(wds)} (allowed: < 1; at 1 a step zeroes theta)")

    generator = torch.Generator().manual_seed(seed)
    start = [w.to(dtype) for w in _initial_weights(hidden, generator)]
    # One parameter group per learning rate; each tensor has the weight decays on its first axis.
    groups = [[w.expand(len(wds), *w.shape).clone().requires_grad_() for w in start] for _ in lrs]
    # Per network: lambda, added to the gradient, or AdamW's factor 1 - lr * lambda (in double, as torch forms it).
    decay = [[1 - lr * wd for wd in wds] if optimizer == "AdamW" else list(wds) for lr in lrs]
    decay = [[torch.tensor(d, dtype=dtype).view(-1, *[1] * w.dim()) for w in start] for d in decay]
    param_groups = [{"params": g, "lr": lr} for g, lr in zip(groups, lrs)]
    if optimizer == "SGD":
        opt = torch.optim.SGD(param_groups, lr=lrs[0], momentum=momentum, foreach=False)
    else:
        opt = torch.optim.Adam(param_groups, lr=lrs[0], foreach=False)

    X, y, n = data.X_train.to(dtype), data.y_train, len(data.y_train)
    X_test = data.X_test.to(dtype)
    measured = {k: np.empty((len(lrs), len(wds), len(recorded))) for k in MEASURES}

    def record(k):
        with torch.no_grad():
            params = [torch.stack(ts) for ts in zip(*groups)]  # (lr, weight decay, ...)
            for split, Xs, ys in (("train", X, y), ("test", X_test, data.y_test)):
                logits = forward(params, Xs)
                measured[f"{split}_loss"][..., k] = _losses(logits, ys).numpy()
                measured[f"{split}_error"][..., k] = (logits.argmax(-1) != ys).double().mean(-1).numpy()

    record(0)
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, batch_size):
            batch = order[first : first + batch_size]
            params = [torch.stack(ts) for ts in zip(*groups)]
            # each network's own mean loss, summed over the grid: the gradient of each is that of its own loss
            loss = _losses(forward(params, X[batch]), y[batch]).sum()
            opt.zero_grad(set_to_none=False)
            loss.backward()
            with torch.no_grad():
                for group, factors in zip(groups, decay):
                    for p, d in zip(group, factors):
                        if optimizer == "AdamW":
                            p.mul_(d)  # torch.optim.AdamW: param.mul_(1 - lr * weight_decay), then the Adam step
                        else:
                            p.grad.addcmul_(p, d)  # torch.optim.Adam/SGD: grad = grad.add(param, alpha=weight_decay)
            opt.step()
        if epoch in recorded:
            record(recorded.index(epoch))
    return Grid(optimizer, lrs, wds, recorded, -(-n // batch_size), **measured)
