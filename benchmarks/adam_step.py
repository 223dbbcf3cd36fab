"""Benchmark one optimizer step: lessonlib against torch.optim, numpy, and the memory-bandwidth limit.

    make bench                       # or: .venv/bin/python benchmarks/adam_step.py [--quick] [--sweep-only]

Everything is measured in this one process, interleaved (each round times every
implementation once, in a shuffled order) and summarised by medians, because the machine is
shared and noisy: ratios measured side by side are what to read, not absolute
times. torch runs on one thread, as numpy and lessonlib's kernels do. Ratios are
to ``torch.optim.Adam(fused=True)``, and to "numpy, 5 lines": the five lines of
the lesson written in plain in-place numpy, the loop a learner would write, which
is the one to beat at the notebooks' size (2 arrays of 50).

An Adam step reads theta, g, m, v and writes theta, m, v: 7 arrays of N
elements. "share of bandwidth" is those 7 N itemsize bytes
(``lessonlib.course.memory.adam_step_traffic``) / time divided by the memory
bandwidth of ``lessonlib.course.timing.memory_bandwidth``, the course's one probe
(the fastest of a read-only sum, a copy, two in-place kernels and, with numba, a
loop that reads 4 arrays and writes 3 as a step does, each from cold caches,
counting only the bytes a kernel must move). At N = 1e6 the arrays of the table's
eleven implementations fit together in a last-level cache of tens to hundreds of MiB, so
shares above 100% are possible there (the table's steps run back to back, warm); only
N = 1e7 is limited by main memory. Notebook 08's sweep, below, times every step from cold caches.

The default step first reads every gradient once more, to refuse nan and inf
before anything changes: 8 passes where the step itself needs 7. The rows
"check_finite=False" skip that look (``opt.step(grads, check_finite=False)``).
The script ends with the first-step latency in fresh processes, with and
without numba's cache of compiled kernels.

Then the sweep that notebook 08 draws (``lessonlib.course.timing.time_adam_steps``): one float32
step of six implementations at sizes from 2**10 to 2**24 parameters, each step from cold caches
(a 1 GiB read first, as between two steps of training), 200 tensors through torch's three
implementations, and a float32 matrix product's rate (the machine's balance is that rate over the
bandwidth). The bandwidth is probed before and after, each kernel's faster run kept
(``Bandwidth.fastest_of``).

Writes benchmarks/results/adam_step.md (the table the README shows),
benchmarks/results/adam_step.png and benchmarks/results/step_cost.json (notebook 08's figure);
``--sweep-only`` writes only the last.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

import lessonlib as ll
from lessonlib.course import memory, timing

RESULTS = Path(__file__).resolve().parent / "results"
HYPER = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}
#: The same, as ll.adam_step names them.
TEXTBOOK_HYPER = {"lr": HYPER["lr"], "beta1": HYPER["betas"][0], "beta2": HYPER["betas"][1], "eps": HYPER["eps"]}


def numpy_stepper(params, grads):
    """The five lines in plain numpy, in place where numpy allows: what a learner would write.

    Not ``course.steppers.textbook_stepper`` (the "textbook" row): that one calls ``ll.adam_step``, the lesson's pure
    function, which returns new arrays every step; this is the in-place loop a learner writes for speed, the
    baseline the step is judged against at the notebooks' size.
    """
    ms, vs, t = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params], [0]
    lr, (beta1, beta2), eps = HYPER["lr"], HYPER["betas"], HYPER["eps"]

    def step():
        t[0] += 1
        bc1, bc2 = 1 - beta1 ** t[0], 1 - beta2 ** t[0]
        for p, g, m, v in zip(params, grads, ms, vs):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= lr * (m / bc1) / (np.sqrt(v / bc2) + eps)

    return step


def kernel_stepper(params, grads):
    """ll.adam_kernel alone, without the checks a step makes first: what the checks cost, by difference.

    lessonlib's public ``ll.adam_kernel`` compiled here as lessonlib compiles it (lessonlib/optim/_compile.py:
    numba, numpy's error model, the fast-math flags arcp and contract), fed by the public ``Adam.kernel_scalars``.
    None where numba is missing (``ll.KERNEL == "numpy"``): then there is no kernel to time alone.
    """
    if ll.KERNEL != "numba":
        return None
    import numba

    compiled = numba.njit(ll.adam_kernel, cache=True, error_model="numpy", fastmath={"arcp", "contract"})
    opt = ll.Adam(params, **HYPER)
    opt.step(grads)  # makes the state
    scalars = opt.kernel_scalars(params[0].dtype, 2)  # the step number is fixed: it changes nothing in the timing
    flat = [
        (p.reshape(-1), g.reshape(-1), s["m"].reshape(-1), s["v"].reshape(-1))
        for p, g, s in zip(params, grads, opt.state)
    ]
    for p, g, m, v in flat:
        compiled(p, g, m, v, v, *scalars)  # compiles

    def step():
        for p, g, m, v in flat:
            compiled(p, g, m, v, v, *scalars)

    return step


def lessonlib_stepper(cls, params, grads, check_finite=True, **extra):
    opt = cls(params, **HYPER, **extra)
    return lambda: opt.step(grads, check_finite=check_finite)


def torch_stepper(params, grads, cls=torch.optim.Adam, **kw):
    tensors = [torch.from_numpy(p) for p in params]
    for tp, g in zip(tensors, grads):
        tp.grad = torch.from_numpy(g)
    opt = cls(tensors, **HYPER, **kw)
    return opt.step


def implementations(shapes, dtype, rng):
    """name -> zero-argument step function, each on its own copy of the same data."""

    def fresh():
        params = [rng.standard_normal(s).astype(dtype) for s in shapes]
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        return params, grads

    steppers = {
        "lessonlib Adam": lessonlib_stepper(ll.Adam, *fresh()),
        "lessonlib AdamW": lessonlib_stepper(ll.AdamW, *fresh(), weight_decay=1e-2),
        "lessonlib Adam amsgrad": lessonlib_stepper(ll.Adam, *fresh(), amsgrad=True),
        "lessonlib Adam, check_finite=False": lessonlib_stepper(ll.Adam, *fresh(), check_finite=False),
        "lessonlib AdamW, check_finite=False": lessonlib_stepper(
            ll.AdamW, *fresh(), check_finite=False, weight_decay=1e-2
        ),
        "ll.adam_kernel alone (no checks)": kernel_stepper(*fresh()),
        "numpy, 5 lines": numpy_stepper(*fresh()),
        "textbook (ll.adam_step)": timing.textbook_stepper(*fresh(), **TEXTBOOK_HYPER),
        "torch foreach": torch_stepper(*fresh(), foreach=True),
        "torch fused": torch_stepper(*fresh(), fused=True),
        "torch AdamW fused": torch_stepper(*fresh(), cls=torch.optim.AdamW, fused=True, weight_decay=1e-2),
    }
    return {name: step for name, step in steppers.items() if step is not None}


def measure(shapes, dtype, rounds, rng, clock=time.perf_counter):
    """The median time of one step of each implementation, timed by hand in interleaved rounds.

    Not ``torch.utils.benchmark.Timer`` (which ``course.timing.matmul_flops`` uses): a Timer repeats one statement
    in a block, and a table of ratios on a shared, noisy machine needs every implementation timed round by round,
    in a new order each round, so that a slow spell of the machine falls on all of them alike.
    """
    impls = implementations(shapes, dtype, rng)
    for step in impls.values():  # warm up: first-touch pages, lazy state, scratch buffers
        step()
    times = {name: [] for name in impls}
    order = list(impls)
    for _ in range(rounds):
        rng.shuffle(order)  # interleaved, in a new order each round: no implementation always runs first
        for name in order:
            step = impls[name]
            t0 = clock()
            step()
            times[name].append(clock() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


#: The sizes of notebook 08's sweep: 2**10 to 2**24 float32 parameters, a factor of 4 apart.
SWEEP_NS = [2**k for k in range(10, 25, 2)]
#: Many small tensors, where torch's for-loop pays per tensor (notebook 08 times these on its device).
MANY_TENSORS, TENSOR_SIZE = 200, 2**14


def sweep(clock, rounds) -> tuple[dict, float]:
    """Notebook 08's recorded measurement: the sweep over N, 200 tensors, and a matrix product's rate.

    The bandwidth is probed before and after the steps, and each kernel's faster run kept: on a shared
    machine another program can slow the probe down for a while, and a probe slowed down makes every
    step look closer to the floor than it is. Returns the record and the bandwidth (bytes per second).
    """
    probes = [timing.memory_bandwidth("cpu", repeat=rounds, clock=clock)]
    sizes = SWEEP_NS if rounds > 3 else SWEEP_NS[:4]
    steps = timing.time_adam_steps(sizes, repeat=rounds, bandwidth=probes[0].best, clock=clock)
    print("sweep: done", flush=True)
    many = timing.time_adam_steps(
        [MANY_TENSORS * TENSOR_SIZE],
        implementations=timing.TORCH_STEP_IMPLEMENTATIONS,
        tensors=MANY_TENSORS,
        repeat=rounds,
        bandwidth=probes[0].best,
        clock=clock,
    )
    probes.append(timing.memory_bandwidth("cpu", repeat=rounds, clock=clock))
    fastest = timing.Bandwidth.fastest_of(probes)
    best = fastest.best
    record = {
        "machine": cpu_name(),
        "date": time.strftime("%Y-%m-%d"),
        "versions": f"numpy {np.__version__}, torch {torch.__version__}, lessonlib kernels: {ll.KERNEL}",
        "clock": clock.__name__,
        "bandwidth": fastest.kernels,
        "matmul_flops": timing.matmul_flops("cpu", clock=clock),
        "sweep": replace(steps, bandwidth=best).to_dict(),
        "many_tensors": replace(many, bandwidth=best).to_dict(),
    }
    return record, best


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one), or what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, no N = 1e7, nothing written (a smoke test)")
    parser.add_argument("--sweep-only", action="store_true", help="only notebook 08's sweep (step_cost.json)")
    parser.add_argument(
        "--clock",
        choices=("wall", "thread"),
        default="wall",
        help="wall: time.perf_counter; thread: time.thread_time, the CPU time of this thread, which leaves out "
        "the time other programs ran on its core (for a busy shared machine; one thread, no GPU)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    rng = np.random.default_rng(0)
    recorded, bandwidth = sweep(clock, rounds=3 if args.quick else 9)
    print(f"measured bandwidth {bandwidth / 1e9:.1f} GB/s", flush=True)
    if args.sweep_only:
        print(json.dumps(recorded, indent=1))
        if not args.quick:
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / "step_cost.json").write_text(json.dumps(recorded, indent=1) + "\n")
            print(f"wrote {RESULTS / 'step_cost.json'}")
        return
    cases = [("2 x 50", [(50,)] * 2), ("1e6", [(10**6,)]), ("1e7", [(10**7,)]), ("200 x 5000", [(5000,)] * 200)]
    if args.quick:
        cases = [c for c in cases if c[0] != "1e7"]
    rows = []
    for dtype in (np.float32, np.float64):
        for label, shapes in cases:
            rounds = 3 if args.quick else {"1e7": 15, "2 x 50": 2001}.get(label, 41)
            med = measure(shapes, dtype, rounds, rng, clock)
            n = sum(int(np.prod(s)) for s in shapes)
            moved = memory.adam_step_traffic(n, np.dtype(dtype).itemsize)  # 7 passes: the floor, as notebook 08
            ref, plain = med["torch fused"], med["numpy, 5 lines"]
            for name, t in med.items():
                rows.append((np.dtype(dtype).name, label, name, t, t / ref, t / plain, moved / t / bandwidth))
            print(f"{np.dtype(dtype).name} N={label}: done", flush=True)
    rows.append(("both", "bandwidth", f"{bandwidth / 1e9:.1f} GB/s", *[float("nan")] * 3, 1.0))
    table = render(rows) + "\n\n" + goals(rows) + "\n\n" + first_step_latency(runs=1 if args.quick else 5)
    print(table)
    if args.quick:  # a smoke test: the committed results stay those of a full run
        print("--quick: nothing written")
        return
    RESULTS.mkdir(exist_ok=True)
    header = (
        f"<!-- written by benchmarks/adam_step.py on {time.strftime('%Y-%m-%d')}; "
        f"{platform.machine()}, numpy {np.__version__}, torch {torch.__version__}, lessonlib kernels: {ll.KERNEL}, "
        f"one thread, clock {clock.__name__} -->\n"
    )
    (RESULTS / "adam_step.md").write_text(header + table + "\n")
    (RESULTS / "step_cost.json").write_text(json.dumps(recorded, indent=1) + "\n")
    figure(rows, RESULTS / "adam_step.png")
    print(f"wrote {RESULTS / 'adam_step.md'}, {RESULTS / 'adam_step.png'} and {RESULTS / 'step_cost.json'}")


def goals(rows) -> str:
    """The targets of the lessonlib 2 issue, each with the worst case this run measured, for the default
    step (every gradient checked for nan and inf first) and for ``step(grads, check_finite=False)``."""
    cell = {(r[0], r[1], r[2]): r for r in rows}
    dtypes = ("float32", "float64")

    def worst(names, labels, col, fn=max, dts=dtypes):  # over the cells this run has (--quick skips N = 1e7)
        got = [cell[d, lab, n][col] for d in dts for lab in labels for n in names if (d, lab, n) in cell]
        return fn(got) if got else float("nan")

    goal_rows = [
        ("Adam / AdamW, N = 1e6 and 1e7: x torch fused", "<= 0.95", lambda ns: worst(ns, ("1e6", "1e7"), 4)),
        ("share of bandwidth at N = 1e7 (lowest)", ">= 0.9", lambda ns: worst(ns, ("1e7",), 6, fn=min)),
        (
            "200 arrays of 5000, float32: x torch fused",
            "<= 1.0",
            lambda ns: worst(ns, ("200 x 5000",), 4, dts=("float32",)),
        ),
        ("2 arrays of 50: x numpy, 5 lines", "<= 1.0", lambda ns: worst(ns, ("2 x 50",), 5)),
    ]
    checked = ("lessonlib Adam", "lessonlib AdamW")
    unchecked = tuple(f"{n}, check_finite=False" for n in checked)
    lines = ["| goal | worst measured, default | worst measured, check_finite=False | target |", "|---|---:|---:|---|"]
    lines += [
        f"| {what} | {value_of(checked):.2f} | {value_of(unchecked):.2f} | {target} |".replace("nan", "not measured")
        for what, target, value_of in goal_rows
    ]
    return "\n".join(lines)


FIRST_STEP = """
import json, time
t0 = time.perf_counter()
import numpy as np
import lessonlib as ll
t1 = time.perf_counter()
params, grads = [np.zeros(50)], [np.ones(50)]
opt = ll.Adam(params, lr=1e-3)
opt.step(grads)
t2 = time.perf_counter()
opt.step(grads)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "second": t3 - t2, "kernel": ll.KERNEL}))
"""


def first_step_latency(runs=3) -> str:
    """``import lessonlib`` and the first and second ``Adam.step`` (float64) in fresh processes: with an empty
    numba cache (every run gets a new ``NUMBA_CACHE_DIR``, so the kernel is compiled) and with a warm one."""
    import os
    import subprocess
    import sys
    import tempfile

    def once(cache_dir):
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, OMP_NUM_THREADS="1")
        out = subprocess.run([sys.executable, "-c", FIRST_STEP], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    cold_runs, warm_runs = [], []
    with tempfile.TemporaryDirectory() as warm:
        once(warm)  # fills the cache
        for _ in range(runs):  # interleaved, as the step timings are
            with tempfile.TemporaryDirectory() as cold:
                cold_runs.append(once(cold))
            warm_runs.append(once(warm))
    lines = [
        f"First-step latency in a fresh process (median of {runs}; lessonlib kernels: {cold_runs[0]['kernel']}):",
        "",
        "| numba cache | import lessonlib | first Adam.step | second Adam.step |",
        "|---|---:|---:|---:|",
    ]
    for name, got in (("no numba cache (first session)", cold_runs), ("numba cache found (later sessions)", warm_runs)):
        med = {k: statistics.median(r[k] for r in got) for k in ("import", "first", "second")}
        lines.append(
            f"| {name} | {med['import'] * 1e3:.0f} ms | {med['first'] * 1e3:.0f} ms | {med['second'] * 1e6:.0f} us |"
        )
    return "\n".join(lines)


def render(rows) -> str:
    lines = [
        "| dtype | N | implementation | time per step | x torch fused | x numpy, 5 lines | share of bandwidth |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for dtype, label, name, t, ratio, plain, share in rows:
        if label == "bandwidth":
            lines.append(f"| {dtype} | | *measured bandwidth* | {name} | | | |")
            continue
        when = f"{t * 1e6:.1f} us" if t < 1e-4 else (f"{t * 1e3:.3f} ms" if t < 1e-2 else f"{t * 1e3:.1f} ms")
        lines.append(f"| {dtype} | {label} | {name} | {when} | {ratio:.2f} | {plain:.2f} | {share * 100:.0f}% |")
    return "\n".join(lines)


def figure(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    ll.course.setup()
    names = [r[2] for r in rows if r[0] == "float32" and r[1] == "1e6"]
    # one hue per family, light and dark within it (the default cycle has 10 colours for 11 bars)
    tab = plt.get_cmap("tab20").colors
    colour = {
        "lessonlib Adam": tab[0],
        "lessonlib AdamW": tab[1],
        "lessonlib Adam amsgrad": tab[4],
        "lessonlib Adam, check_finite=False": tab[2],
        "lessonlib AdamW, check_finite=False": tab[3],
        "ll.adam_kernel alone (no checks)": tab[6],
        "numpy, 5 lines": tab[8],
        "textbook (ll.adam_step)": tab[9],
        "torch foreach": "0.8",
        "torch fused": "0.2",
        "torch AdamW fused": "0.5",
    }
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharey=True)
    for ax, dtype in zip(axes, ("float32", "float64")):
        labels = [r[1] for r in rows if r[0] == dtype and r[2] == names[0]]
        x = np.arange(len(labels))
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            ratios = [r[4] for r in rows if r[0] == dtype and r[2] == name]
            ax.bar(x + i * width, ratios, width, label=name, color=colour.get(name))
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_xticks(x + 0.4 - width / 2, [f"N = {lab}" for lab in labels])
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(FixedLocator([0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50]))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.set_title(dtype)
    axes[0].set_ylabel("time / torch.optim.Adam(fused=True)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=9)
    fig.suptitle("One optimizer step on one thread, relative to torch fused (lower is faster)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
