"""What the optimizers' quick state test saves: a step with it against a step that checks every state in full.

    .venv/bin/python benchmarks/state_check.py          # about 10 s

Before every step, ``Optimizer._check_states`` makes sure no state was edited or replaced by hand. A state holding
the arrays it last checked passes a quick test (the same objects, writeable, of the parameter's shape and dtype, an
int ``t`` in range); anything else is checked in full (``check_state``: keys, types, shapes, dtypes, writeable,
no memory shared with a parameter or another state array). This script times ``ll.Adam.step`` both ways, the full
check forced by forgetting what was checked (``opt._known``), in one process, interleaved round by round, and
prints the medians and their ratio: the lessons step small parameters thousands of times, where the quick test
matters; at a million elements the step itself dominates.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import lessonlib as ll

CASES = {  # name: (parameter shapes, steps per timed call)
    "2 parameters of 50 (the lessons' loops)": ([(50,), (50,)], 2000),
    "1 parameter of 2": ([(2,)], 2000),
    "100 parameters of 10": ([(10,)] * 100, 100),
    "1 parameter of 10^6": ([(1_000_000,)], 10),
}


def per_step(opt, grads, steps: int, full: bool) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        if full:
            opt._known = [None] * len(opt.params)  # as after a hand edit: every state checked in full
        opt.step(grads)
    return (time.perf_counter() - start) / steps


def main(rounds: int = 7) -> None:
    rng = np.random.default_rng(0)
    print(f"{'parameters':42s} {'quick test':>12s} {'full check':>12s} {'full / quick':>13s}")
    for name, (shapes, steps) in CASES.items():
        params = [rng.standard_normal(s) for s in shapes]
        grads = [1e-3 * rng.standard_normal(s) for s in shapes]
        opt = ll.Adam(params)
        opt.step(grads)  # compiled, state made
        times = {False: [], True: []}
        for _ in range(rounds):
            for full in (False, True) if rng.random() < 0.5 else (True, False):
                times[full].append(per_step(opt, grads, steps, full))
        quick, full = statistics.median(times[False]), statistics.median(times[True])
        print(f"{name:42s} {quick * 1e6:9.1f} us {full * 1e6:9.1f} us {full / quick:12.2f}x")


if __name__ == "__main__":
    main()
