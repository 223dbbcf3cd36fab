r"""Lesson 09: Adam's state sharded over two processes with ``torch.distributed`` (ZeRO stage 1).

The same small network is trained on two processes ("ranks") that split every batch in half, as data
parallelism does: each rank computes the gradient of its half, an all-reduce averages the two, and
every rank then holds the gradient of the whole batch. Each rank trains two copies of the network
with those gradients:

- **plain AdamW** (``torch.optim.AdamW``): every rank keeps :math:`m` and :math:`v` for *every*
  parameter, the same numbers twice;
- **ZeRO stage 1** (``torch.distributed.optim.ZeroRedundancyOptimizer`` around AdamW): each
  parameter tensor is owned by one rank, which alone keeps its :math:`m` and :math:`v` and updates
  it; then every rank broadcasts the tensors it owns, so all hold the same weights again.

This file is both a module and a script. As a script it is one rank of the run, reading the
variables ``torchrun`` sets (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), so

    torchrun --nproc-per-node=2 --master-addr=127.0.0.1 --master-port=29500 lessonlib/course/zero_demo.py OUT.json

runs it too. :func:`run` starts the ranks itself (``sys.executable`` on this file, once per rank),
each in a process group of its own that it kills when it returns, fails or runs out of time. It
keeps them on the loopback interface: they meet through a file in a temporary folder (torch's
``FileStore``), not through torchrun's TCP store, which listens on every interface whatever
``MASTER_ADDR`` says; and gloo is told to use the loopback device, so that its connections bind to
127.0.0.1. The script imports torch alone, not ``lessonlib``, so that each rank starts as fast as
torch allows: the public functions import lessonlib's argument checks when they are called, and a rank
builds its model and data with the unchecked ``_model`` and ``_data`` (its arguments are the defaults).

>>> [p.numel() for p in make_model().parameters()]
[512, 64, 4096, 64, 4096, 64, 64, 1]
>>> expected_shares([512, 64, 4096, 64, 4096, 64, 64, 1], 2)
[4608, 4353]
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

#: The network: 8 inputs, two hidden layers of 64, one output (8,961 parameters in 8 tensors).
WIDTHS = (8, 64, 64, 64, 1)
#: The run's defaults: steps, the whole batch (split between the ranks), AdamW's hyperparameters.
STEPS, BATCH, HYPER = 30, 64, {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2}
#: How long the ranks may take in all, in seconds, before :func:`run` kills them.
TIMEOUT = 60.0
#: The most rows of data :func:`make_data` draws (``steps * batch``), and the most ranks :func:`expected_shares` counts.
MAX_ROWS, MAX_RANKS = 2**24, 2**20


def make_model(seed: int = 0) -> nn.Sequential:
    """The network of the demonstration, with its weights drawn from ``torch.manual_seed(seed)``.

    Args:
        seed: the seed of the initial weights; every rank uses the same, so all start equal.
    """
    from lessonlib.optim._checks import check_seed  # here, not above: a rank imports torch alone

    return _model(check_seed(seed))


def _model(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(WIDTHS[:-1], WIDTHS[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(WIDTHS) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def make_data(steps: int = STEPS, batch: int = BATCH, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``x`` of shape (steps, batch, 8) and targets ``y`` (steps, batch, 1): a smooth function plus noise.

    Args:
        steps: how many batches.
        batch: the whole batch of each step, before it is split between the ranks (``steps * batch`` at most
            :data:`MAX_ROWS`).
        seed: the seed of the data's generator (every rank draws the same batches and takes its own half).
    """
    from lessonlib.optim._checks import check_int, check_seed  # here, not above: a rank imports torch alone

    steps, batch = check_int("steps", steps, low=1, high=MAX_ROWS), check_int("batch", batch, low=1, high=MAX_ROWS)
    if steps * batch > MAX_ROWS:
        raise ValueError(f"Invalid steps, batch: {steps} x {batch} rows (allowed: steps * batch <= {MAX_ROWS})")
    return _data(steps, batch, check_seed(seed))


def _data(steps: int, batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(steps, batch, WIDTHS[0], generator=generator)
    y = torch.sin(x.sum(-1, keepdim=True)) + 0.1 * torch.randn(steps, batch, 1, generator=generator)
    return x, y


def state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes of every tensor in ``optimizer.state``: :math:`m`, :math:`v` and the step counters.

    For a ``ZeroRedundancyOptimizer`` pass its local optimizer, ``zero.optim``: the state this rank keeps.

    Args:
        optimizer: a ``torch.optim`` optimizer after at least one step (its state is created then).
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer (for ZeRO: zero.optim), got {type(optimizer).__name__}"
        )
    return sum(x.nbytes for s in optimizer.state.values() for x in s.values() if isinstance(x, torch.Tensor))


def expected_shares(sizes: list[int], world_size: int) -> list[int]:
    """Parameters per rank under ``ZeroRedundancyOptimizer``'s partition: largest tensor first, to the emptiest rank.

    torch documents its partition as "sorted-greedy": whole tensors, never split, each given in
    decreasing order of size to the rank that holds the fewest elements so far.

    Args:
        sizes: the number of elements of each parameter tensor (ints >= 0).
        world_size: the number of ranks, 1 to :data:`MAX_RANKS`.
    """
    from lessonlib.optim._checks import check_int  # here, not above: a rank imports torch alone

    if not isinstance(sizes, (list, tuple)):
        raise TypeError(f"sizes must be a list of ints (elements per tensor), got {type(sizes).__name__}")
    sizes = [check_int(f"sizes[{i}]", n) for i, n in enumerate(sizes)]
    shares = [0] * check_int("world_size", world_size, low=1, high=MAX_RANKS)
    for n in sorted(sizes, reverse=True):
        shares[shares.index(min(shares))] += n
    return shares


def train_one_process(steps: int = STEPS, batch: int = BATCH, dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    """The reference: plain AdamW in one process, on the whole batch of every step. Returns the final weights.

    In ``torch.float64`` it measures how far float32's own rounding takes a run: the ranks' float32 weights
    may differ from the float32 reference by about that much, whatever order their sums are taken in.

    Args:
        steps: how many steps.
        batch: the batch of each step.
        dtype: the dtype of the weights, the data and the optimizer's state (float32 or float64).
    """
    if dtype not in (torch.float32, torch.float64):
        from lessonlib.optim._checks import brief  # here, not above: a rank imports torch alone

        raise ValueError(f"Invalid dtype: {brief(dtype)} (allowed: torch.float32, torch.float64)")
    model, (x, y) = make_model().to(dtype), make_data(steps, batch)
    x, y = x.to(dtype), y.to(dtype)
    opt = torch.optim.AdamW(model.parameters(), **HYPER)
    for t in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(model(x[t]), y[t]).backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


# ----------------------------------------------------------------------------- one rank (the script)


def _rank_main(out: str, steps: int = STEPS, batch: int = BATCH) -> None:
    """One rank of the run: train both copies, compare them, and (rank 0) write what was measured to ``out``."""
    import torch.distributed as dist
    from torch.distributed.optim import ZeroRedundancyOptimizer

    torch.set_num_threads(1)
    backend = os.environ.get("LESSON_BACKEND", "gloo")
    timeout = datetime.timedelta(seconds=TIMEOUT)
    if backend == "nccl":  # one GPU per rank, chosen before the process group is made (NCCL binds to it)
        device = torch.device("cuda", int(os.environ["RANK"]) % torch.cuda.device_count())
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 means float32 (TF32 keeps 10 bits of significand)
        torch.backends.cudnn.allow_tf32 = False
    else:
        device = torch.device("cpu")
    if "LESSON_STORE" in os.environ:  # started by run(): meet through a file, no listening socket at all
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        store = dist.FileStore(os.environ["LESSON_STORE"], world)
        dist.init_process_group(backend, store=store, rank=rank, world_size=world, timeout=timeout)
    else:  # started by torchrun: env://, its MASTER_ADDR and MASTER_PORT
        dist.init_process_group(backend, timeout=timeout)
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        plain, sharded = _model(0).to(device), _model(0).to(device)  # make_model()'s, unchecked: see the top
        opt_plain = torch.optim.AdamW(plain.parameters(), **HYPER)
        opt_zero = ZeroRedundancyOptimizer(sharded.parameters(), optimizer_class=torch.optim.AdamW, **HYPER)
        x, y = _data(steps, batch, 1)  # make_data(steps, batch)
        half = slice(rank * batch // world, (rank + 1) * batch // world)  # this rank's part of every batch
        for t in range(steps):
            xb, yb = x[t, half].to(device), y[t, half].to(device)
            for model, opt in ((plain, opt_plain), (sharded, opt_zero)):
                opt.zero_grad()
                nn.functional.mse_loss(model(xb), yb).backward()
                for p in model.parameters():  # what DistributedDataParallel does: average the gradients
                    dist.all_reduce(p.grad)
                    p.grad /= world
                opt.step()
        differences = [float((a - b).detach().abs().max()) for a, b in zip(plain.parameters(), sharded.parameters())]
        mine = {
            "rank": rank,
            "plain_state_bytes": state_bytes(opt_plain),
            "zero_state_bytes": state_bytes(opt_zero.optim),
            "zero_params": sum(p.numel() for p in opt_zero.optim.state),
            "zero_tensors": len(opt_zero.optim.state),
            "largest_difference": max(differences),
        }
        everyone = [None] * world
        dist.all_gather_object(everyone, mine)
        if rank == 0:
            result = {
                "backend": backend,
                "world_size": world,
                "steps": steps,
                "ranks": everyone,
                "weights": [p.detach().cpu().flatten().tolist() for p in sharded.parameters()],
            }
            Path(out).write_text(json.dumps(result))
    finally:
        dist.destroy_process_group()


# ----------------------------------------------------------------------------- the launcher


@dataclass(frozen=True)
class ZeroRun:
    r"""What :func:`run` measured.

    ``ranks[r]`` holds, for rank ``r``: ``plain_state_bytes`` and ``zero_state_bytes`` (the state
    that rank keeps with plain AdamW and with ZeRO), ``zero_params`` and ``zero_tensors`` (the
    parameters it owns under ZeRO), and ``largest_difference`` (the largest
    :math:`|\theta_\text{plain} - \theta_\text{ZeRO}|` it saw at the end). ``weights`` are the ZeRO
    copy's final weights, ``seconds`` the wall time from starting the ranks to their exit.
    """

    backend: str
    world_size: int
    steps: int
    ranks: list[dict]
    weights: list[torch.Tensor]
    seconds: float

    def deviation_from(self, reference: list[torch.Tensor]) -> float:
        r"""Largest :math:`|\theta - \theta_\text{ref}|` over all weights, relative to the largest reference weight.

        Args:
            reference: weights of the same shapes, e.g. from :func:`train_one_process`.
        """
        if len(reference) != len(self.weights):
            raise ValueError(f"reference has {len(reference)} tensors; expected {len(self.weights)}")
        scale = max(float(r.abs().max()) for r in reference)
        return max(float((w - r.flatten()).abs().max()) for w, r in zip(self.weights, reference)) / scale


def _loopback_interface() -> str | None:
    names = {name for _, name in socket.if_nameindex()} if hasattr(socket, "if_nameindex") else set()
    return next((n for n in ("lo", "lo0") if n in names), None)


def run(
    world_size: int = 2, *, steps: int = STEPS, batch: int = BATCH, backend: str = "gloo", timeout: float = TIMEOUT
) -> ZeroRun:
    """Start ``world_size`` ranks of this file on this machine, wait for them, and return what they measured.

    The ranks meet through a file in a temporary folder and talk over the loopback interface only
    (gloo's ``GLOO_SOCKET_IFNAME`` set to it). Each runs in a process group of its own; whatever
    happens (an error, a rank that hangs, ``timeout`` seconds passing, an interrupt) those groups
    are killed before this function returns or raises, so no process outlives the call.

    Args:
        world_size: how many ranks (processes).
        steps: training steps.
        batch: the whole batch of a step,
            split evenly between the ranks.
        backend: ``"gloo"`` (CPU) or ``"nccl"`` (one GPU per rank; needs ``world_size`` CUDA devices).
        timeout: seconds before the ranks are killed and a ``TimeoutError`` raised.
    """
    from lessonlib.optim._checks import brief, check_int, check_name, check_real  # here: a rank imports torch alone

    world_size, steps, batch = (
        check_int("world_size", world_size, low=1),
        check_int("steps", steps, low=1),
        check_int("batch", batch, low=1),
    )
    if batch % world_size:
        raise ValueError(f"Invalid batch: {brief(batch)} (allowed: a multiple of world_size = {brief(world_size)})")
    check_name("backend", backend, ("gloo", "nccl"))
    if backend == "nccl" and torch.cuda.device_count() < world_size:
        raise ValueError(
            f"backend 'nccl' needs {world_size} CUDA devices; this machine has {torch.cuda.device_count()}"
        )
    if not check_real("timeout", timeout) > 0:
        raise ValueError(f"Invalid timeout: {timeout} (allowed: timeout > 0)")
    env = {
        **os.environ,
        "WORLD_SIZE": str(world_size),
        "LESSON_BACKEND": backend,
        "OMP_NUM_THREADS": "1",
    }
    if (lo := _loopback_interface()) is not None:
        env["GLOO_SOCKET_IFNAME"] = lo
    with tempfile.TemporaryDirectory(prefix="zero-demo-") as tmp:
        out = Path(tmp) / "result.json"
        env["LESSON_STORE"] = str(Path(tmp) / "store")
        logs = [open(Path(tmp) / f"rank{r}.log", "w+") for r in range(world_size)]  # noqa: SIM115
        procs: list[subprocess.Popen] = []
        start = time.perf_counter()
        try:
            for r in range(world_size):
                procs.append(
                    subprocess.Popen(
                        [sys.executable, __file__, str(out), str(steps), str(batch)],
                        env={**env, "RANK": str(r), "LOCAL_RANK": str(r)},
                        stdin=subprocess.DEVNULL,
                        stdout=logs[r],
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # a process group of its own, killed below
                    )
                )
            while None in (codes := [p.poll() for p in procs]):  # poll every rank, every time
                if any(code not in (None, 0) for code in codes):  # one rank died: the others would wait for it
                    break
                if time.perf_counter() - start > timeout:
                    raise TimeoutError(f"the {world_size} ranks did not finish within {timeout:g} s")
                time.sleep(0.05)
            seconds = time.perf_counter() - start
            codes = [p.poll() for p in procs]
            if codes != [0] * world_size:
                tails = []
                for r, log in enumerate(logs):
                    log.seek(0)
                    tails.append(f"--- rank {r} (exit code {codes[r]}):\n" + log.read()[-3000:])
                raise RuntimeError("a rank of the ZeRO demonstration failed\n" + "\n".join(tails))
            result = json.loads(out.read_text())
        finally:
            for p in procs:  # each rank leads a group of its own: kill it, and anything it started
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            for log in logs:
                log.close()
    weights = [torch.tensor(w) for w in result.pop("weights")]
    return ZeroRun(**result, weights=weights, seconds=seconds)


if __name__ == "__main__":  # OUT.json [STEPS [BATCH]]
    _rank_main(sys.argv[1], *(int(a) for a in sys.argv[2:4]))
