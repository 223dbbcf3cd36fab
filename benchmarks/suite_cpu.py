"""Where the tests' CPU goes: run a command and add up the CPU time of every process it starts, by kind.

    .venv/bin/python benchmarks/suite_cpu.py                          # make test
    .venv/bin/python benchmarks/suite_cpu.py -- make test-fast
    .venv/bin/python benchmarks/suite_cpu.py --top 10 -- .venv/bin/python -m pytest -p no:xdist tests/browser

``make test`` is CPU-bound on 2 cores, and much of its CPU is not spent in pytest's own processes: chromium's
renderers, the Jupyter server and its kernels, nbval's kernels, the site builder, chromium printing handouts. pytest's
``--durations`` gives wall time per test, which a busy machine stretches; this gives CPU time per kind of process.

Linux only (it reads /proc). Every second it reads the CPU time of every process on the machine, keeps the largest
value seen per process (a process's last second before it exits is lost: the table is a lower bound), subtracts what
the processes running before the command had used, and groups them by command line (:func:`kind`). It also prints
the wall time and the machine's idle share over the run (other work on the machine counts as busy).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")

#: Command-line fragments -> kind, first match wins.
KINDS = (
    ("--type=renderer", "chromium: renderers"),
    ("--type=gpu-process", "chromium: gpu process"),
    ("--type=utility", "chromium: utility"),
    ("chromium", "chromium: main (and printing handouts)"),
    ("ipykernel", "kernels (nbval, the lab, nbgrader)"),
    ("jupyter-lab", "jupyter server"),
    ("jupyter lab", "jupyter server"),
    ("jupyter-trust", "jupyter trust (make lab)"),
    ("pytest", "pytest (controller and workers)"),
    ("exec(eval(sys.stdin", "pytest (controller and workers)"),  # an xdist worker, as execnet starts it
    ("notebooks/_site", "site builder (_site)"),
    ("playwright", "playwright driver (node)"),
    ("ruff", "ruff"),
    ("zero_demo", "zero_demo ranks"),
    ("fake_rank", "zero_demo ranks"),
)


def kind(cmdline: str) -> str:
    """The kind of a process, from its command line (:data:`KINDS`), else its program's name."""
    for fragment, name in KINDS:
        if fragment in cmdline:
            return name
    program = cmdline.split(" ", 1)[0]
    return f"other: {Path(program).name or '?'}"


def processes() -> dict[tuple[str, str], tuple[float, str]]:
    """(pid, start time) -> (CPU seconds so far, command line), for every process that can be read."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        found[(pid, fields[19])] = ((int(fields[11]) + int(fields[12])) / TICK, cmdline.strip())
    return found


def machine() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (/proc/stat's first line)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def measure(command: list[str], every: float = 1.0) -> tuple[int, dict, list, float, float]:
    """Run ``command``; return its exit status, {kind: (CPU seconds, processes)}, every process's (CPU seconds,
    command line), the wall time and the idle share."""
    before = {key: cpu for key, (cpu, _) in processes().items()}
    seen: dict[tuple[str, str], tuple[float, str]] = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            for key, (cpu, cmdline) in processes().items():
                last_cpu, last_cmdline = seen.get(key, (0.0, ""))
                if cpu >= last_cpu:  # a zombie's command line reads empty: keep the one seen while it ran
                    seen[key] = (cpu, cmdline or last_cmdline)
            done.wait(every)

    busy0, total0 = machine()
    start = time.perf_counter()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    status = subprocess.call(command)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    busy1, total1 = machine()
    table: dict[str, list] = collections.defaultdict(lambda: [0.0, 0])
    each = []
    for key, (cpu, cmdline) in seen.items():
        used = cpu - before.get(key, 0.0)
        if used > 0 and key[0] != str(os.getpid()):
            row = table[kind(cmdline)]
            row[0] += used
            row[1] += 1
            each.append((used, cmdline))
    idle = 1 - (busy1 - busy0) / max(total1 - total0, 1)
    return status, {k: tuple(v) for k, v in table.items()}, sorted(each, reverse=True), wall, idle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", nargs="*", default=["make", "test"], help="what to run (default: make test)")
    parser.add_argument("--top", type=int, default=0, help="also list the TOP processes that used most CPU")
    args = parser.parse_args(argv)
    if not Path("/proc/stat").exists():
        sys.exit("suite_cpu reads /proc: Linux only")
    status, table, each, wall, idle = measure(args.command)
    total = sum(cpu for cpu, _ in table.values())
    print(f"\n{' '.join(args.command)}: exit status {status}, {wall:.0f} s wall, machine idle {idle:.0%}")
    print(f"{'CPU s':>8}  {'share':>5}  {'procs':>5}  kind")
    for name, (cpu, count) in sorted(table.items(), key=lambda item: -item[1][0]):
        if cpu >= 0.5:
            print(f"{cpu:8.1f}  {cpu / total:5.0%}  {count:5d}  {name}")
    print(f"{total:8.1f}  total (a lower bound: each process's last second before it exits is not seen)")
    for cpu, cmdline in each[: args.top]:
        print(f"{cpu:8.1f}  {cmdline[:150]}")
    return status


if __name__ == "__main__":
    sys.exit(main())
