"""The digits experiment (lessonlib.course.digits): the data, the batched grid against torch.optim's own classes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from lessonlib.course import digits
from lessonlib.course.digits import Digits, Grid, load, train_grid

with warnings.catch_warnings():  # np.matrix is on its way out; a learner may still pass one
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    MATRIX_SEED = np.matrix([[0]])  # numpy 2.4's default_rng(MATRIX_SEED) kills the interpreter

SMALL = {"epochs": 3, "batch_size": 64, "hidden": 8}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread, as notebook 06 runs: the same sums in the same order, and no contention between threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    return load(300, seed=0)


# ------------------------------------------------------------------------------------------------ the data


def load_digits(**kw):
    """scikit-learn's reader, imported when a test needs it: its import takes about 1.6 s of CPU, and every xdist
    worker collects this file (one runs it)."""
    from sklearn.datasets import load_digits

    return load_digits(**kw)


def test_read_digits_gives_what_load_digits_gives():
    X, y = load_digits(return_X_y=True)
    X2, y2 = digits.read_digits()
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert X2.dtype == X.dtype and X2.shape == (1797, 64)


def test_load_splits_every_image_once_and_scales_with_the_training_images_only():
    X, y = load_digits(return_X_y=True)
    d = load(600, seed=3)
    assert d.X_train.shape == (600, 64) and d.X_test.shape == (1197, 64)
    assert d.X_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    # every label once: the two halves together have the whole set's counts
    counts = np.bincount(np.concatenate([d.y_train.numpy(), d.y_test.numpy()]), minlength=10)
    assert counts.tolist() == np.bincount(y).tolist()
    # each pixel centred on the training images, one scale for all: the training pixels have std 1
    assert np.abs(d.X_train.numpy().mean(axis=0)).max() < 1e-5
    assert math.isclose(float(d.X_train.std(unbiased=False)), 1.0, rel_tol=1e-5)
    assert abs(float(d.X_test.mean())) > 1e-4  # the held-out images did not set the scaling
    # a pixel maps back to its raw value: x = (z * s + mu) * 16
    order = np.random.default_rng(3).permutation(len(y))
    raw = X[order[:600]]
    z = d.X_train.numpy().astype(np.float64)
    s = (raw / 16 - (raw / 16).mean(axis=0)).std()
    np.testing.assert_allclose((z * s + (raw / 16).mean(axis=0)) * 16, raw, atol=1e-4)


def test_load_is_deterministic_for_a_seed():
    a, b, c = load(500, seed=7), load(500, seed=7), load(500, seed=8)
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.y_train, c.y_train)


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"n_train": 1}, ValueError, "2 <= n_train"),
        ({"n_train": 1797}, ValueError, "n_train <= 1796"),
        ({"n_train": 600.0}, TypeError, "n_train must be an int"),
        ({"n_train": True}, TypeError, "n_train must be an int"),
        ({"seed": -1}, ValueError, "0 <= seed"),
        ({"seed": MATRIX_SEED}, TypeError, "seed must be an int"),  # numpy 2.4's default_rng crashes on it
        ({"seed": "0"}, TypeError, "seed must be an int"),
    ],
)
def test_load_refuses_bad_input(kwargs, error, text):
    with pytest.raises(error, match=text):
        load(**kwargs)


# ------------------------------------------------------------------------------------------------ the grid


def reference(optimizer, data, *, lr, weight_decay, epochs, batch_size, hidden, seed=0, momentum=0.9):
    """One network, the torch.optim class itself (torch.optim.AdamW for AdamW), the same start and batches."""
    generator = torch.Generator().manual_seed(seed)
    params = [w.clone().requires_grad_() for w in digits._initial_weights(hidden, generator)]
    if optimizer == "SGD":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    elif optimizer == "Adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    n, test_loss = len(data.y_train), []
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, batch_size):
            batch = order[first : first + batch_size]
            loss = torch.nn.functional.cross_entropy(digits.forward(params, data.X_train[batch]), data.y_train[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            test_loss.append(float(torch.nn.functional.cross_entropy(digits.forward(params, data.X_test), data.y_test)))
    return np.array(test_loss)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "AdamW"])
def test_every_grid_point_follows_the_torch_optim_class(optimizer, data):
    lrs, wds = (3e-3, 3e-2), (0.0, 1e-2, 0.3)
    grid = train_grid(optimizer, data, lrs=lrs, weight_decays=wds, **SMALL)
    for i, lr in enumerate(lrs):
        for j, wd in enumerate(wds):
            ref = reference(optimizer, data, lr=lr, weight_decay=wd, **SMALL)
            np.testing.assert_allclose(grid.test_loss[i, j, 1:], ref, rtol=2e-5, err_msg=f"{optimizer} {lr} {wd}")
    # and the weight decay did something the check can see
    assert np.abs(grid.test_loss[:, 2, -1] - grid.test_loss[:, 0, -1]).min() > 1e-3


def test_l2_and_decoupled_coincide_at_zero_weight_decay(data):
    adam = train_grid("Adam", data, lrs=(1e-3, 1e-2), weight_decays=0.0, **SMALL)
    adamw = train_grid("AdamW", data, lrs=(1e-3, 1e-2), weight_decays=0.0, **SMALL)
    for what in digits.MEASURES:
        assert np.array_equal(getattr(adam, what), getattr(adamw, what)), what
    decayed = train_grid("AdamW", data, lrs=(1e-3, 1e-2), weight_decays=0.5, **SMALL)
    assert not np.array_equal(adam.test_loss, decayed.test_loss)


def test_deterministic_for_a_seed_and_the_seed_matters(data):
    a = train_grid("AdamW", data, lrs=1e-2, weight_decays=0.1, seed=1, **SMALL)
    b = train_grid("AdamW", data, lrs=1e-2, weight_decays=0.1, seed=1, **SMALL)
    c = train_grid("AdamW", data, lrs=1e-2, weight_decays=0.1, seed=2, **SMALL)
    assert np.array_equal(a.test_loss, b.test_loss) and np.array_equal(a.train_error, b.train_error)
    assert not np.array_equal(a.test_loss, c.test_loss)


def test_a_network_does_not_depend_on_its_neighbours_in_the_grid(data):
    alone = train_grid("Adam", data, lrs=1e-2, weight_decays=1e-3, **SMALL)
    among = train_grid("Adam", data, lrs=(1e-3, 1e-2, 1e-1), weight_decays=(0.0, 1e-3), **SMALL)
    np.testing.assert_allclose(among.test_loss[1, 1], alone.test_loss[0, 0], rtol=1e-5)


def test_float64_starts_from_the_same_draw_and_agrees_to_rounding_over_a_short_run(data):
    single = train_grid("AdamW", data, lrs=(1e-3, 1e-2), weight_decays=(0.0, 0.1), **SMALL)
    double = train_grid("AdamW", data, lrs=(1e-3, 1e-2), weight_decays=(0.0, 0.1), dtype=torch.float64, **SMALL)
    np.testing.assert_allclose(double.test_loss[..., 0], single.test_loss[..., 0], rtol=1e-6)  # the same start
    np.testing.assert_allclose(double.test_loss, single.test_loss, rtol=1e-4)
    assert not np.array_equal(double.test_loss[..., -1], single.test_loss[..., -1])


def test_curves_false_records_the_start_and_the_end_of_the_same_run(data):
    full = train_grid("SGD", data, lrs=(0.01, 0.1), weight_decays=(0.0, 1e-3), **SMALL)
    ends = train_grid("SGD", data, lrs=(0.01, 0.1), weight_decays=(0.0, 1e-3), curves=False, **SMALL)
    assert full.epochs == (0, 1, 2, 3) and ends.epochs == (0, 3)
    for what in digits.MEASURES:
        assert np.array_equal(getattr(full, what)[..., [0, -1]], getattr(ends, what)), what


def test_curves_at_chosen_epochs_and_the_grid_until_one_of_them_is_the_shorter_run(data):
    kwargs = {"lrs": (0.01, 0.1), "weight_decays": (0.0, 1e-3)} | SMALL  # 3 epochs
    some = train_grid("AdamW", data, **kwargs, curves=(2, 1, 2))
    assert some.epochs == (0, 1, 2, 3)
    assert train_grid("AdamW", data, **kwargs, curves=[2]).epochs == (0, 2, 3)
    assert train_grid("AdamW", data, **kwargs, curves=np.array([3])).epochs == (0, 3)
    assert train_grid("AdamW", data, **kwargs, curves=()).epochs == (0, 3)
    for epochs in (1, 2, 3):
        short = train_grid("AdamW", data, **(kwargs | {"epochs": epochs}), curves=False)
        early = some.until(epochs)
        assert early.epochs == tuple(range(epochs + 1)) and early.steps_per_epoch == short.steps_per_epoch
        for what in digits.MEASURES:
            assert np.array_equal(getattr(early, what)[..., [0, -1]], getattr(short, what)), (epochs, what)
        assert np.array_equal(early.final(), short.final()) and early.best() == short.best()
    for epoch, error in ((0, ValueError), (4, ValueError), (True, TypeError), (1.0, TypeError)):
        with pytest.raises(error, match="epoch"):
            some.until(epoch)
    with pytest.raises(ValueError, match="one of \\(2, 3\\)"):
        train_grid("AdamW", data, **kwargs, curves=[2]).until(1)


def test_sgd_with_momentum_turns_l2_into_a_decay_of_about_lr_lambda_over_1_minus_mu():
    """The module's docstring: with no gradient, torch's SGD(momentum) + L2 removes about lr lambda / (1 - mu)."""
    lr, wd, mu = 0.1, 0.01, 0.9
    theta = torch.ones(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=lr, momentum=mu, weight_decay=wd)
    path = [1.0]
    for _ in range(400):
        theta.grad = torch.zeros(1, dtype=torch.float64)
        opt.step()
        path.append(float(theta.detach()))
    rate = 1 - path[-1] / path[-2]  # the fraction removed per step, once the buffer has filled
    # exactly 1 - z, z the larger root of z^2 - (1 + mu - lr wd) z + mu = 0: the heavy ball on a curvature wd
    b = 1 + mu - lr * wd
    assert math.isclose(rate, 1 - (b + math.sqrt(b * b - 4 * mu)) / 2, rel_tol=1e-6)
    assert math.isclose(rate, lr * wd / (1 - mu), rel_tol=0.15) and rate > 5 * lr * wd


# ---- what notebook 06 (section 7) says of its maps when the seed and the length of the run change

MAP_LRS, MAP_WDS = tuple(np.logspace(-2.5, -0.5, 5)), (0.0, *np.logspace(-4, 0, 9))  # notebook 06's grids
NOTEBOOK_BEST = {"Adam": (1, 3), "AdamW": (3, 8)}  # its best cells (lr 0.01, lambda 0.001; lr 0.1, lambda 0.32)
NEAR_032 = {7, 8, 9}  # lambda = 0.1, 0.32, 1: within one step of the grid of 0.32


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_maps_hold_for_other_seeds_and_lengths(seed):
    """Notebook 06, section 7, last paragraph: seeds 0 to 2, 10, 20 and 40 epochs (one run of 40 per seed)."""
    data = load(600, seed=seed)
    runs = {
        name: train_grid(name, data, lrs=MAP_LRS, weight_decays=MAP_WDS, epochs=40, seed=seed, curves=(10, 20))
        for name in ("Adam", "AdamW")
    }
    gain_at_001 = {}
    for epochs in (10, 20, 40):
        l2, decoupled = runs["Adam"].until(epochs), runs["AdamW"].until(epochs)
        # L2: the best lambda grows with alpha; AdamW: within a step of 0.32 from alpha = 0.032 up
        best_l2, best_w = l2.best_weight_decay(), decoupled.best_weight_decay()
        assert np.all(np.diff(best_l2) >= 0) and best_l2[-1] > best_l2[1], (epochs, best_l2)
        assert set(best_w[2:].tolist()) <= NEAR_032, (epochs, best_w)
        # the best cells move by at most one step along lambda; along alpha one for AdamW, two for Adam + L2
        for name, grid, along_lr in (("Adam", l2, 2), ("AdamW", decoupled, 1)):
            (i, j), (i0, j0) = grid.best(), NOTEBOOK_BEST[name]
            assert abs(i - i0) <= along_lr and abs(j - j0) <= 1, (name, epochs, (i, j))
        # tau of AdamW's best cell, and of each column's best lambda
        tau, (i, j) = decoupled.timescale(), decoupled.best()
        tau_best = tau[np.arange(len(MAP_LRS)), best_w]
        assert tau_best[1] > epochs  # alpha = 0.01: longer than the run
        if epochs == 10:
            assert tau[i, j] > epochs
        else:
            assert 1 <= tau[i, j] <= epochs and np.all((tau_best[2:] >= 1) & (tau_best[2:] <= epochs))
        # columns alpha <= 0.032: where tau is over ten runs, within 10 % of the column without decay
        loss = decoupled.final()
        far = (tau > 10 * epochs) & (np.array(MAP_LRS) < 0.05)[:, None]
        assert np.all(np.abs(loss / loss[:, :1] - 1)[far] < 0.1), epochs
        gain_at_001[epochs] = 1 - loss[1].min() / loss[1, 0]
    assert gain_at_001[40] > gain_at_001[20] > 0  # alpha = 0.01: decay gains more after 40 epochs than after 20


def test_the_start_is_chance_and_training_learns(data):
    g = train_grid("Adam", data, lrs=1e-2, epochs=10, batch_size=50, hidden=16)
    assert g.train_loss.shape == (1, 1, 11) and g.steps_per_epoch == 6
    assert 2.0 < g.test_loss[0, 0, 0] < 2.6  # about ln 10 = 2.3 for a network that knows nothing yet
    assert g.test_error[0, 0, 0] > 0.7
    assert g.final("test_error")[0, 0] < 0.1  # ten epochs on 300 images: above 90 % right on the held-out ones
    assert g.final("train_loss")[0, 0] < g.final("test_loss")[0, 0]


def test_diverged_runs_are_marked_and_never_chosen(data):
    g = train_grid("SGD", data, lrs=(0.03, 30.0), weight_decays=(0.0, 1e-3), **SMALL)
    assert g.diverged.tolist() == [[False, False], [True, True]]
    assert np.isinf(g.final()[1]).all() and g.best()[0] == 0
    assert g.best_weight_decay().shape == (2,)
    text = g.table()
    assert "held-out loss after 3 epochs" in text.splitlines()[0]
    body = "\n".join(text.splitlines()[2:])
    assert body.count("div") == 2 and body.count("*") == 1


def test_grids_accept_numpy_values(data):
    g = train_grid("SGD", data, lrs=np.logspace(-2, -1, 2), weight_decays=np.float64(1e-3), epochs=np.int64(1))
    assert g.lrs == (0.01, 0.1) and g.weight_decays == (0.001,) and g.epochs == (0, 1)
    assert all(type(v) is float for v in g.lrs + g.weight_decays)


def test_best_and_table_read_the_grid():
    loss = np.array([[[2.3, 0.5], [2.3, 0.4]], [[2.3, 0.3], [2.3, 0.35]], [[2.3, 0.2], [2.3, np.nan]]])
    g = Grid("AdamW", (0.01, 0.1, 1.0), (0.0, 1.0), (0, 5), 6, loss, loss, loss, loss)
    assert g.diverged.tolist() == [[False, False], [False, False], [False, True]]
    assert g.best() == (2, 0) and g.best_weight_decay().tolist() == [1, 0, 0]
    lines = g.table().splitlines()
    assert lines[1].split() == ["weight_decay", "\\", "lr", "0.01", "0.1", "1"]
    assert lines[2].split() == ["0", "0.500", "0.300", "*0.200"] and lines[3].split() == ["1", "0.400", "0.350", "div"]
    # tau = 1 / (lr * lambda) steps, over 6 steps per epoch
    np.testing.assert_allclose(g.timescale()[:, 1], [100 / 6, 10 / 6, 1 / 6])
    assert np.isinf(g.timescale()[:, 0]).all()
    with pytest.raises(ValueError, match="what"):
        g.final("loss")


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"optimizer": "adamw"}, ValueError, "optimizer"),
        ({"data": (1, 2, 3, 4)}, TypeError, "data must be the Digits"),
        ({"lrs": -1e-3}, ValueError, "lr"),
        ({"lrs": ()}, ValueError, "at least one"),
        ({"lrs": "0.1"}, TypeError, "lr must be"),
        ({"lrs": np.array(0.1)}, TypeError, "lr must be"),
        ({"lrs": np.ones((2, 2))}, TypeError, "lr must be"),
        ({"lrs": None}, TypeError, "lr must be"),
        ({"weight_decays": (0.0, float("nan"))}, ValueError, "weight_decay"),
        ({"weight_decays": (0.0, -0.1)}, ValueError, "weight_decay"),
        ({"epochs": 0}, ValueError, "1 <= epochs"),
        ({"batch_size": 10.0}, TypeError, "batch_size must be an int"),
        ({"hidden": 0}, ValueError, "1 <= hidden"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"seed": -2}, ValueError, "0 <= seed"),
        ({"curves": 1}, TypeError, "curves"),
        ({"curves": "1"}, TypeError, "curves"),
        ({"curves": np.array(1)}, TypeError, "curves"),
        ({"curves": (1.0,)}, TypeError, "curves must be an int"),
        ({"curves": (True,)}, TypeError, "curves must be an int"),
        ({"curves": (0,)}, ValueError, "1 <= curves"),
        ({"curves": (2,)}, ValueError, "epochs 1 to epochs = 1"),
        ({"dtype": torch.float16}, ValueError, "dtype"),
        ({"optimizer": "AdamW", "lrs": 0.5, "weight_decays": 2.0}, ValueError, "lr \\* weight_decay"),
    ],
)
def test_train_grid_refuses_bad_input(kwargs, error, text, data):
    args = {"optimizer": "Adam", "data": data, "lrs": 1e-3, "epochs": 1} | kwargs
    with pytest.raises(error, match=text):
        train_grid(args.pop("optimizer"), args.pop("data"), **args)


def test_timescale_is_the_window_of_the_decay_as_an_ema():
    # a weight left to decoupled decay alone keeps (1 - lr * wd)^t: after tau steps, about 1/e of it
    tau = digits.timescale(0.01, 0.5)
    assert math.isclose(tau, 200.0)
    assert math.isclose((1 - 0.01 * 0.5) ** tau, math.exp(-1), rel_tol=3e-3)
    assert math.isclose(digits.timescale(0.01, 0.5, steps_per_epoch=8), 25.0)
    assert digits.timescale(0.0, 0.5) == math.inf and digits.timescale(0.1, 0.0) == math.inf
    for kwargs, error in [
        ({"lr": -0.1}, ValueError),
        ({"weight_decay": float("inf")}, ValueError),
        ({"steps_per_epoch": 0}, ValueError),
        ({"steps_per_epoch": 1.5}, TypeError),
        ({"lr": "0.1"}, TypeError),
    ]:
        with pytest.raises(error, match=next(iter(kwargs))):
            digits.timescale(**({"lr": 0.1, "weight_decay": 0.1} | kwargs))


def test_digits_is_a_frozen_record(data):
    assert isinstance(data, Digits)
    with pytest.raises(AttributeError):
        data.X_train = None
