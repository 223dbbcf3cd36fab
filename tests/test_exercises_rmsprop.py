"""lessonlib.exercises.rmsprop (lesson 03): right answers pass, wrong ones get their hint, `...` is unanswered."""

from __future__ import annotations

import math

import pytest

import lessonlib as ll
from lessonlib.course import objectives, runs, tuning
from lessonlib.exercises import rmsprop
from tests.checks import assert_verdicts

CASES = [
    # (check, right answer, wrong answer, words the hint must contain)
    (rmsprop.check_first_step, 0.1, 0.01, "no bias correction"),
    (rmsprop.check_first_step, 0.1, 0.03, "plain gradient step"),
    (rmsprop.check_first_step, 0.1, 0.5, "small share of g_1^2"),
    (rmsprop.check_eps_share, 1 / 1.1, 10.0, "leaves eps out"),
    (rmsprop.check_eps_share, 1 / 1.1, 1e-4, "inside the root"),
    (rmsprop.check_eps_share, 1 / 1.1, 2.0, "Compare sqrt(v_1) with eps"),
    (rmsprop.check_decay_for_first_step, 0.75, 0.5, "square root"),
    (rmsprop.check_decay_for_first_step, 0.75, 0.25, "1 - rho"),
    (rmsprop.check_decay_for_first_step, 0.75, 0.9, "set it to 2"),
]


@pytest.mark.parametrize("check, right, wrong, hint", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_check(check, right, wrong, hint):
    assert_verdicts(check, right, wrong, hint)


def test_rmsprop_answers_are_the_math():
    # first step = lr * g / sqrt((1 - alpha) g^2) = lr / sqrt(1 - alpha), whatever g
    for g in (3.0, -0.2, 1e4):
        step = ll.rmsprop_step(0.0, g, 0.0, 1, lr=0.01, alpha=0.99, eps=0.0).update
        assert abs(step) == pytest.approx(0.1, rel=1e-12)
        assert rmsprop.check_first_step(abs(step))
    # g = 1e-8: sqrt(v_1) = 1e-9, so step / lr = 1e-8 / (1e-9 + 1e-8) = 1 / 1.1
    assert rmsprop.check_eps_share(1e-8 / (1e-9 + 1e-8))
    # the question asks for three significant digits: 0.909 passes, and 0.91 (one unit off in the third digit, as
    # rounding along the way can give); 0.9 and 0.908 (two digits, two units off) and the eps-free answer do not
    assert rmsprop.check_eps_share(0.909) and rmsprop.check_eps_share(0.9091) and rmsprop.check_eps_share(0.91)
    assert not rmsprop.check_eps_share(0.9) and not rmsprop.check_eps_share(0.907)
    assert not rmsprop.check_eps_share(1.0)
    assert "rho" in rmsprop.check_decay_for_first_step(0.75).message
    # alpha = 0.75 gives lr / sqrt(0.25) = 2 lr
    assert ll.rmsprop_step(0.0, 5.0, 0.0, 1, lr=0.01, alpha=0.75, eps=0.0).update == pytest.approx(0.02)


@pytest.mark.parametrize(
    "check, exact",
    [
        (rmsprop.check_first_step, 0.01 / 0.1),
        (rmsprop.check_eps_share, 1 / 1.1),
        (rmsprop.check_decay_for_first_step, 0.75),
    ],
    ids=lambda c: getattr(c, "__name__", ""),
)
def test_rmsprop_checks_take_three_significant_digits(check, exact):
    # every rounding of the exact answer to three or more significant digits passes; two units off in the third does not
    for digits in (3, 4, 6, 17):
        assert check(float(f"{exact:.{digits}g}")).ok is True
    unit = 10.0 ** (math.floor(math.log10(exact)) - 2)
    assert check(exact + unit).ok is True and check(exact - unit).ok is True
    assert check(exact + 2 * unit).ok is False and check(exact - 2 * unit).ok is False


def test_rankings_check_knows_the_slips():
    untuned, tuned = rmsprop.rankings()
    ok = rmsprop.check_rankings(untuned, tuned)
    assert ok.ok is True and ok.message.startswith("✓")
    # names in any case, as tuples
    assert rmsprop.check_rankings(tuple(n.upper() for n in untuned), [n.lower() for n in tuned])
    slips = [
        ((tuned, tuned), "same order twice"),
        ((untuned[::-1], tuned[::-1]), "upside down"),
        ((tuned, tuned[::-1]), "Sort each set"),
        ((untuned[1:] + untuned[:1], tuned), "The tuned order is right"),
        ((untuned, [tuned[1], tuned[0], tuned[2]]), "The untuned order is right"),
    ]
    for (u, t), words in slips:
        bad = rmsprop.check_rankings(u, t)
        assert bad.ok is False and bad.message.startswith("✗") and words in bad.message, (u, t, bad.message)
    for malformed in ("SGD", ["SGD", "momentum"], ["SGD", "SGD", "RMSprop"], ["SGD", "momentum", "Adam"], [1, 2, 3]):
        bad = rmsprop.check_rankings(malformed, tuned)
        assert bad.ok is False and "three names" in bad.message
    for pending in ((..., ...), (untuned, ...), (..., tuned)):
        assert (
            rmsprop.check_rankings(*pending).ok is None
            and "not answered yet" in rmsprop.check_rankings(*pending).message
        )


def test_rankings_are_the_runs_and_tuning_turns_them_round():
    bowl = objectives.quadratic(a=1.0, b=20.0)
    shared = {"SGD": {"lr": 0.01}, "momentum": {"lr": 0.01, "momentum": 0.9}, "RMSprop": {"lr": 0.01}}
    loss = {name: runs.run(name, bowl, steps=60, **hyper).final_loss for name, hyper in shared.items()}
    untuned, tuned = rmsprop.rankings()
    assert untuned == sorted(loss, key=loss.get)
    # the tuned order does not hang on the grid: a coarser, wider one gives the same
    lrs = tuning.lr_grid(0.01, 1.0, per_decade=4)
    grids = {"SGD": {"lr": lrs}, "momentum": {"lr": lrs, "momentum": [0.0, 0.3, 0.6, 0.9]}, "RMSprop": {"lr": lrs}}
    score = {name: tuning.sweep(name, bowl, grid, steps=60).best.score for name, grid in grids.items()}
    assert tuned == sorted(score, key=score.get)
    assert untuned != tuned  # the point of the exercise: tuning changes the ranking
    # no two losses are close (the exercise says so): each at least 1.5 times the one ranked above it
    for ranked, value in ((untuned, loss), (tuned, score)):
        assert all(value[b] > 1.5 * value[a] for a, b in zip(ranked, ranked[1:]))
