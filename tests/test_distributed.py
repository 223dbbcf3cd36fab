"""lessonlib.course.zero_demo: ZeRO stage 1 on two gloo processes, bounded in time, and no process left behind.

The real run is lesson 09's, which nbval runs (two processes importing torch, 10 to 30 s on two busy cores: not
run twice); the failure paths use stand-in rank scripts that start in milliseconds.
"""

from __future__ import annotations

import os
import re
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from lessonlib.course import zero_demo

with warnings.catch_warnings():  # np.matrix is on its way out; a learner may still pass one
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    MATRIX_SEED = np.matrix([[0]])  # numpy 2.4's default_rng(MATRIX_SEED) kills the interpreter


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, dead but not yet reaped by its parent, does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True  # no /proc (macOS): os.kill found it
    return state != "Z"


def gone(pids: list[int], within: float = 5.0) -> bool:
    """Whether every process in ``pids`` has died within ``within`` seconds (SIGKILL takes a moment to land)."""
    deadline = time.time() + within
    while any(alive(pid) for pid in pids) and time.time() < deadline:
        time.sleep(0.05)
    return not any(alive(pid) for pid in pids)


LESSON_09 = Path(__file__).resolve().parents[1] / "notebooks" / "09-adam-at-scale.ipynb"


def zero_run_printed() -> str:
    """What lesson 09's ZeRO-1 cell printed, as stored: nbval checks a fresh run prints the same."""
    import nbformat

    cells = [c for c in nbformat.read(LESSON_09, as_version=4).cells if "zero_demo.run(2" in c.get("source", "")]
    assert len(cells) == 1, f"{len(cells)} cells of lesson 09 run zero_demo.run(2)"
    assert "NBVAL" not in cells[0].source and not cells[0].metadata.get("tags"), "nbval must compare its output"
    return "".join(o.get("text", "") for o in cells[0].outputs if o.output_type == "stream")


def test_lesson_09s_zero_run_printed_what_zero1_promises():
    """The two-process run is lesson 09's: nbval runs it and compares what it prints with what is stored, so it is not
    run a second time here. What is stored must be what ZeRO-1 promises (a lesson re-executed with a regression would
    store the regression): the state split by the sorted-greedy partition, each rank's weights bit for bit plain
    AdamW's, and the run within float32's own rounding of one process on whole batches (not equal to it)."""
    # 8 -> 64 -> 64 -> 64 -> 1: weights 512, 4096, 4096, 64 and biases 64, 64, 64, 1 = 8,961 parameters
    sizes = [p.numel() for p in zero_demo.make_model().parameters()]
    assert sum(sizes) == 8 * 64 + 64 + 64 * 64 + 64 + 64 * 64 + 64 + 64 + 1 == 8961
    # sorted-greedy by hand: 4096 -> rank 0, 4096 -> rank 1, 512 -> rank 0 (4096 < 4608 afterwards: the rest
    # go to rank 1): rank 0 owns 4608 parameters in 2 tensors, rank 1 owns 4353 in 6
    assert zero_demo.expected_shares(sizes, 2) == [4608, 4353]
    printed = zero_run_printed()
    assert printed.startswith(f"2 ranks, {zero_demo.STEPS} steps of AdamW and of ZeRO-1")
    # plain AdamW on every rank: m and v of every parameter (8 bytes in float32) and a float32 step per tensor
    assert f"every rank keeps {8 * 8961 + 4 * 8:,} bytes of state" in printed
    for rank, (params, tensors) in enumerate([(4608, 2), (4353, 6)]):
        line = f"rank {rank} with ZeRO-1: {tensors} tensors, {params:,} parameters, {8 * params + 4 * tensors:,} bytes"
        assert line in printed, line
    assert re.search(r"largest \|theta_AdamW - theta_ZeRO\| on any rank after \d+ steps: 0\.0e\+00\n", printed)
    deviation = float(re.search(r"whole batches: ([\d.e+-]+) of the largest weight", printed).group(1))
    rounding = float(re.search(r"float32 against float64\): ([\d.e+-]+);", printed).group(1))
    assert 0 < deviation <= rounding
    with pytest.raises(ValueError, match="dtype"):
        zero_demo.train_one_process(dtype=torch.float16)


def fake_rank(tmp_path: Path, body: str) -> str:
    """A stand-in for zero_demo.py: records its pid (and its child's), then runs ``body``."""
    script = tmp_path / "fake_rank.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, subprocess, sys, time
        rank = int(os.environ["RANK"])
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        with open({str(tmp_path)!r} + f"/pids-{{rank}}.tmp", "w") as f:
            f.write(f"{{os.getpid()}} {{child.pid}}")
        os.replace({str(tmp_path)!r} + f"/pids-{{rank}}.tmp", {str(tmp_path)!r} + f"/pids-{{rank}}")  # all or nothing
        """)
        + textwrap.dedent(body)
    )
    return str(script)


def recorded_pids(tmp_path: Path, world_size: int) -> list[int]:
    deadline = time.time() + 10
    while not all((tmp_path / f"pids-{r}").exists() for r in range(world_size)) and time.time() < deadline:
        time.sleep(0.05)
    missing = [r for r in range(world_size) if not (tmp_path / f"pids-{r}").exists()]
    assert not missing, f"ranks {missing} were killed before they recorded their pids: the machine is too slow"
    return [int(x) for r in range(world_size) for x in (tmp_path / f"pids-{r}").read_text().split()]


def test_a_failing_rank_stops_the_run_and_every_process_is_killed(tmp_path, monkeypatch):
    # rank 1 fails at once; rank 0 hangs, as a rank waiting for it in a collective would
    script = fake_rank(tmp_path, """
        time.sleep(0.5)
        if rank == 1:
            print("rank 1 gives up", flush=True)
            sys.exit(3)
        time.sleep(120)
    """)  # fmt: skip
    monkeypatch.setattr(zero_demo, "__file__", script)
    with pytest.raises(RuntimeError, match=r"(?s)failed.*rank 1 \(exit code 3\).*rank 1 gives up"):
        zero_demo.run(2, timeout=30)  # a RuntimeError, not the TimeoutError of waiting 30 s for rank 0
    pids = recorded_pids(tmp_path, 2)
    assert len(pids) == 4 and gone(pids)  # both ranks and the child each one started


@pytest.mark.slow
def test_a_run_past_its_timeout_is_killed(tmp_path, monkeypatch):
    script = fake_rank(tmp_path, "time.sleep(120)\n")
    monkeypatch.setattr(zero_demo, "__file__", script)
    start = time.perf_counter()
    # 5 s: long enough for both to start and record their pids (a stand-in rank starts in about 0.1 s, ten times
    # that on a loaded machine); the worker waits it out idle
    with pytest.raises(TimeoutError, match="within 5 s"):
        zero_demo.run(2, timeout=5)
    assert time.perf_counter() - start < 100  # killed at its timeout, long before the ranks' 120 s sleep ends
    pids = recorded_pids(tmp_path, 2)
    assert len(pids) == 4 and gone(pids)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"world_size": 0}, "world_size"),
        ({"world_size": True}, "world_size must be an int"),
        ({"world_size": 2.0}, "world_size must be an int"),
        ({"steps": 0}, "steps"),
        ({"batch": 63}, "batch"),
        ({"backend": "mpi"}, "backend"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_run_refuses_bad_arguments_before_starting_anything(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        zero_demo.run(**kwargs)


@pytest.mark.skipif(torch.cuda.device_count() >= 2, reason="this machine has the GPUs nccl needs")
def test_nccl_needs_one_gpu_per_rank():
    with pytest.raises(ValueError, match="CUDA devices"):
        zero_demo.run(2, backend="nccl")


def test_helpers_of_the_demonstration():
    assert zero_demo.expected_shares([5, 4, 3, 3], 2) == [8, 7]  # 5 -> r0, 4 -> r1, 3 -> r1, 3 -> r0
    assert zero_demo.expected_shares([1, 1, 1], 4) == [1, 1, 1, 0]
    with pytest.raises(ValueError, match="world_size"):
        zero_demo.expected_shares([1], 0)
    x, y = zero_demo.make_data(steps=3, batch=4)
    assert x.shape == (3, 4, 8) and y.shape == (3, 4, 1)
    assert torch.equal(zero_demo.make_data(steps=3, batch=4)[0], x)  # seeded: every rank draws the same batches
    model = zero_demo.make_model()
    opt = torch.optim.AdamW(model.parameters())
    model(x[0]).sum().backward()
    opt.step()
    assert zero_demo.state_bytes(opt) == 8 * 8961 + 4 * 8
    with pytest.raises(TypeError, match="seed must be an int"):
        zero_demo.make_model(seed=MATRIX_SEED)  # checked before torch.manual_seed sees it
    with pytest.raises(ValueError, match="0 <= seed"):
        zero_demo.make_data(seed=-1)
    with pytest.raises(ValueError, match="reference"):
        zero_demo.ZeroRun("gloo", 2, 1, [], [torch.zeros(1)], 0.0).deviation_from([])
