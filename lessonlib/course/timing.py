r"""Lesson 08: how long one Adam step takes, against what memory and arithmetic allow, on a CPU or a GPU.

- **conditions**: :func:`synchronize` (wait for the GPU), :func:`flush_caches` (start from cold caches,
  as in training) and the size of the last-level cache, where Linux reports it;
- **the device's limits**: :func:`memory_bandwidth`, the course's one memory-bandwidth probe (notebook
  08 and ``make bench`` use it), and :func:`matmul_flops`, a matrix product's rate as a stand-in for
  peak arithmetic;
- **the step**: one Adam step built several ways on the same arrays (:func:`adam_steppers`, with
  :func:`textbook_stepper`, the form the lessons write: both from :mod:`lessonlib.course.steppers`, imported
  here with the names of the implementations), and timed side by side (:func:`time_adam_steps`).

A warm, repeated operation is timed by ``torch.utils.benchmark.Timer``; a call from cold caches, or one of
several implementations taking turns, by :func:`call_seconds`, one call at a time.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.benchmark import Timer

from lessonlib.course.memory import adam_step_traffic
from lessonlib.course.parity import _check_device
from lessonlib.course.steppers import (  # noqa: F401  (the step this module times: notebook 08 builds it from here)
    STEP_IMPLEMENTATIONS,
    TORCH_STEP_IMPLEMENTATIONS,
    adam_steppers,
    textbook_stepper,
)
from lessonlib.optim._checks import brief, check_int, check_real
from lessonlib.optim._compile import kernel


def synchronize(device) -> None:
    """Wait for the GPU to finish its queued work (a no-op on the CPU): GPU calls return before they run.

    Args:
        device: a ``torch.device`` or its name (``"cpu"``, ``"cuda"``); a CUDA device must exist here.
    """
    device = _check_device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


#: Bytes :func:`flush_caches` reads: more than the last-level cache of a CPU, which holds tens of MiB and
#: on large servers hundreds (480 MiB on one machine the course was measured on, 32 MiB on another;
#: :func:`last_level_cache_bytes` reads this machine's), so that what a timing touches next comes from
#: main memory. So it is in training: between two optimizer steps the forward and backward passes
#: stream through other memory.
FLUSH_BYTES = 2**30

_FLUSH_BUFFERS: dict[str, torch.Tensor] = {}


def flush_caches(device="cpu") -> int:
    """Read :data:`FLUSH_BYTES` of memory on ``device``, so that the caches hold none of what a timing uses next.

    The buffer is made at the first call on each device and kept (allocating it takes longer than
    reading it). Returns the bytes read.

    >>> flush_caches("cpu") == FLUSH_BYTES
    True

    Args:
        device: where to read (``"cpu"`` or a GPU such as ``"cuda"``).
    """
    key = str(_check_device(device))
    if key not in _FLUSH_BUFFERS:
        _FLUSH_BUFFERS[key] = torch.ones(FLUSH_BYTES // 4, device=device)
    buffer = _FLUSH_BUFFERS[key]
    buffer.sum()
    synchronize(device)
    return buffer.nbytes


def last_level_cache_bytes(root: str | os.PathLike = "/sys/devices/system/cpu/cpu0/cache") -> int | None:
    """The size of the first CPU core's last-level cache in bytes, as Linux reports it; None where it does not.

    Linux describes each cache a core uses in a folder ``index0``, ``index1``, ... under ``root``, with its
    ``level`` and its ``size`` (such as ``32768K``); the cache of the highest level is the last-level one.
    On other systems, or where the folder cannot be read, the answer is None. On a server whose cores
    sit on several chiplets, this is the cache of the core's own chiplet, the one a single thread fills.

    Args:
        root: the folder that describes the caches (a test may pass another one).
    """
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"Invalid root: {brief(root)} (allowed: a path, as a str or a pathlib.Path)")
    sizes = {}
    try:
        for entry in Path(root).glob("index*"):
            level = (entry / "level").read_text().strip()
            match = re.fullmatch(r"(\d+)\s*([KMG]?)", (entry / "size").read_text().strip())
            if level.isdigit() and match:
                scale = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[match.group(2)]
                sizes[int(level)] = max(sizes.get(int(level), 0), int(match.group(1)) * scale)
    except OSError:
        return None
    return sizes[max(sizes)] if sizes else None


def call_seconds(
    fn: Callable[[], object], *, device="cpu", cold: bool = True, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Seconds one call of ``fn()`` takes, from cold caches when ``cold`` (:func:`flush_caches` first, not timed).

    On a GPU the call is bracketed by :func:`synchronize`, so the time is that of the work, not of
    queueing it. One call, timed by a loop of its own rather than ``torch.utils.benchmark.Timer``:
    Timer times blocks of back-to-back calls (each call finds the previous one's data in the cache)
    and can leave nothing out of a block's time, neither a flush nor a step of another implementation
    in between, which is what :func:`memory_bandwidth` and :func:`time_adam_steps` need.

    Args:
        fn: the work to time, a function of no arguments.
        device: where ``fn`` runs.
        cold: flush the caches first.
        clock: the clock, in seconds (a test may pass a fake one).
    """
    if cold:
        flush_caches(device)
    synchronize(device)
    start = clock()
    fn()
    synchronize(device)
    return clock() - start


def _adam_traffic_loop(a, b, c, d):
    """Read four arrays and write three, as an Adam step does (theta, m, v and g), with almost no arithmetic."""
    for i in range(a.size):
        a[i] += d[i]
        b[i] += d[i]
        c[i] += d[i]


_adam_traffic = kernel(_adam_traffic_loop)  # compiled like lessonlib's optimizer kernels; None without numba


@dataclass(frozen=True)
class Bandwidth:
    """What :func:`memory_bandwidth` measured: bytes per second of each streaming kernel, from cold caches."""

    kernels: dict[str, float]
    device: str

    @property
    def best(self) -> float:
        """The fastest kernel's bytes per second: the memory bandwidth a step is measured against."""
        return max(self.kernels.values())

    @classmethod
    def fastest_of(cls, probes: Sequence[Bandwidth]) -> Bandwidth:
        """Each kernel's fastest rate over several probes of one device (a probe another program slowed loses)."""
        kernels = {name: max(p.kernels[name] for p in probes) for name in probes[0].kernels}
        return cls(kernels, probes[0].device)


def memory_bandwidth(
    device="cpu", *, nbytes: int = 2**26, repeat: int = 5, clock: Callable[[], float] = time.perf_counter
) -> Bandwidth:
    """The memory bandwidth of ``device``: the bytes per second of simple streaming kernels, from cold caches.

    The course's one bandwidth probe (notebook 08 and ``make bench`` use it). Each kernel runs on
    float32 tensors of ``nbytes`` bytes, starts from cold caches (:func:`flush_caches`: without that, a
    last-level cache of tens to hundreds of MiB serves part of the data and the "bandwidth" comes out as the
    cache's), and is counted by the bytes it must move, each array read or written once:

    - ``x.sum()``: read 1; ``y.copy_(x)``: read 1, write 1 (most CPUs also read a line before they
      write it, which this count misses, so a copy comes out slow);
    - ``x += y``: read 2, write 1; ``x += y * z``: read 3, write 1 (in place: every line written was
      just read, as in an optimizer step);
    - on the CPU where numba is installed, a compiled loop that reads 4 arrays and writes 3: an Adam
      step's traffic with almost none of its arithmetic.

    :attr:`Bandwidth.best` is the fastest: a step that reaches it moves its bytes as fast as this
    device streams memory on one thread (set ``torch.set_num_threads(1)`` first, as notebook 08 does).

    Args:
        device: where the tensors live.
        nbytes: bytes of each tensor, 4 to 2**40; the caches are flushed anyway, so a few tens of MiB suffice.
        repeat: timed calls per kernel, each after one untimed call (their median is used).
        clock: the clock, in seconds (a test may pass a fake one).
    """
    device = _check_device(device)
    n, repeat = check_int("nbytes", nbytes, low=4, high=2**40) // 4, check_int("repeat", repeat, low=1)
    x, y, z, w = (torch.ones(n, device=device) for _ in range(4))
    size = 4 * n
    kernels = {
        "x.sum() (read 1)": (lambda: x.sum(), size),
        "y.copy_(x) (read 1, write 1)": (lambda: y.copy_(x), 2 * size),
        "x += y (read 2, write 1)": (lambda: x.add_(y), 3 * size),
        "x += y * z (read 3, write 1)": (lambda: x.addcmul_(y, z, value=0.0), 4 * size),
    }
    if torch.device(device).type == "cpu" and _adam_traffic is not None:
        arrays = [t.numpy() for t in (x, y, z, w)]
        kernels["x, y, z += w (read 4, write 3)"] = (lambda: _adam_traffic(*arrays), 7 * size)
    rates = {}
    for name, (fn, moved) in kernels.items():
        fn()  # first-touch pages, lazy initialisation: not timed
        rates[name] = moved / statistics.median(call_seconds(fn, device=device, clock=clock) for _ in range(repeat))
    return Bandwidth(rates, str(torch.device(device)))


def matmul_flops(device="cpu", *, n: int = 1024, min_run_time: float = 0.2, clock: Callable[[], float] | None = None):
    """Floating-point operations per second of a float32 matrix product on ``device``: a stand-in for its peak.

    An ``n`` x ``n`` product does :math:`2 n^3` operations on :math:`3 n^2` numbers: enough arithmetic per
    byte that the arithmetic units, not memory, set its pace; tuned libraries reach most of a device's
    peak with it. Use a larger ``n`` on a GPU (8192), whose peak a small product does not reach.
    Timed by ``torch.utils.benchmark.Timer(...).blocked_autorange``: the median of blocks of products run
    back to back for ``min_run_time`` seconds in all, on as many threads as torch uses now, waiting for
    the GPU at the end of each block.

    Args:
        device: where to compute.
        n: the size of the square matrices, 1 to 2**16.
        min_run_time: seconds of products to time, at least.
        clock: the clock, in seconds; None for Timer's own, which waits for the GPU (a test may pass a fake one).
    """
    device = _check_device(device)
    n, min_run_time = check_int("n", n, low=1, high=2**16), check_real("min_run_time", min_run_time)
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.rand(n, n, generator=generator).to(device) for _ in range(2))
    timer = Timer(
        "a @ b", globals={"a": a, "b": b}, num_threads=torch.get_num_threads(), **({"timer": clock} if clock else {})
    )
    return 2 * n**3 / timer.blocked_autorange(min_run_time=min_run_time).median


@dataclass(frozen=True)
class StepTimes:
    """Median seconds per Adam step, ``seconds[impl][i]`` at ``ns[i]`` float32 parameters, and the bandwidth.

    ``tensors`` and ``device`` say how the parameters were held. :meth:`to_dict` and :meth:`from_dict`
    turn it into plain numbers and back (``make bench`` records a run; notebook 08 draws it).
    """

    ns: tuple[int, ...]
    seconds: dict[str, np.ndarray]
    bandwidth: float  # bytes per second, Bandwidth.best
    tensors: int = 1
    device: str = "cpu"

    def share(self, impl: str) -> np.ndarray:
        """How close ``impl`` came to the fastest possible step at each N: the floor (28 bytes per parameter) / time."""
        return self.floor() / self.seconds[impl]

    def floor(self, *, check_finite: bool = False) -> np.ndarray:
        """The least time a step could take at each N: its bytes (:func:`adam_step_traffic`) / the bandwidth."""
        ns = np.asarray(self.ns, dtype=np.float64)
        return adam_step_traffic(ns, check_finite=check_finite) / self.bandwidth

    def to_dict(self) -> dict:
        """Plain numbers and lists (for JSON)."""
        return {
            "ns": list(self.ns),
            "seconds": {impl: [float(t) for t in ts] for impl, ts in self.seconds.items()},
            "bandwidth": self.bandwidth,
            "tensors": self.tensors,
            "device": self.device,
        }

    @classmethod
    def from_dict(cls, d: dict) -> StepTimes:
        """The inverse of :meth:`to_dict`.

        Args:
            d: what :meth:`to_dict` returned (read back from JSON, say).
        """
        seconds = {impl: np.asarray(ts, dtype=np.float64) for impl, ts in d["seconds"].items()}
        return cls(tuple(int(n) for n in d["ns"]), seconds, float(d["bandwidth"]), int(d["tensors"]), d["device"])


def time_adam_steps(
    ns: Sequence[int],
    *,
    implementations: Sequence[str] = STEP_IMPLEMENTATIONS,
    tensors: int = 1,
    device="cpu",
    repeat: int = 5,
    warmup: int = 1,
    bandwidth: float | None = None,
    cold: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> StepTimes:
    """Time one Adam step of each implementation (:func:`adam_steppers`) at each size in ``ns``.

    At each size every implementation gets its own arrays and ``warmup`` untimed steps (compilation,
    first-touch pages); then ``repeat`` rounds time each implementation once, in an order that rotates
    from round to round, each step from cold caches when ``cold`` (:func:`flush_caches`), as in training.
    The median of each implementation's rounds is kept. Ratios measured side by side are what to read;
    absolute times depend on the machine and on what else runs on it.

    Args:
        ns: the sizes, numbers of float32 parameters.
        implementations: which of :data:`STEP_IMPLEMENTATIONS` to time.
        tensors: how many tensors the parameters are cut into (torch's for-loop pays per tensor).
        device: where torch's tensors live.
        repeat: timed rounds (>= 1).
        warmup: untimed steps of each implementation first (>= 0).
        bandwidth: bytes per second to compare with; :func:`memory_bandwidth` ``.best`` if None.
        cold: flush the caches before each timed step.
        clock: the clock, in seconds.
    """
    ns = tuple(check_int("n", n, low=1) for n in ns)
    if not ns:
        raise ValueError("ns is empty: give at least one size")
    repeat, warmup = check_int("repeat", repeat, low=1), check_int("warmup", warmup)
    if bandwidth is None:
        bandwidth = memory_bandwidth(device).best
    seconds = {impl: np.empty(len(ns)) for impl in implementations}
    for i, n in enumerate(ns):
        steppers = adam_steppers(n, tensors=tensors, device=device, implementations=implementations)
        names = list(steppers)
        for stepper in steppers.values():
            for _ in range(warmup):
                stepper.step()
        times = {name: [] for name in names}
        for r in range(repeat):
            for name in names[r % len(names) :] + names[: r % len(names)]:  # no implementation always goes first
                times[name].append(call_seconds(steppers[name].step, device=device, cold=cold, clock=clock))
        for name in names:
            seconds[name][i] = statistics.median(times[name])
        del steppers
    return StepTimes(ns, seconds, float(bandwidth), tensors, str(torch.device(device)))
