"""Run a large batch of independent descents as equal parts on every core, one thread each.

XLA on the CPU runs one jitted scan on one core: its step is a few small fused loops, too
small for XLA to split across threads with any gain (measured: no better than one core). The
descents of a sweep are independent, so the batch splits into equal parts that run the SAME
compiled function (equal shapes: no extra compile), each from its own worker thread. JAX
releases the GIL while a computation runs, so the parts run truly in parallel, provided that:

- computations run inline on the calling thread (`configure_jax`): with JAX's default
  asynchronous CPU dispatch they are handed to XLA's own threads, and two parts took as long as
  one after the other;
- each worker is pinned to its own core: unpinned, Linux woke the second worker on the first
  one's core (wake-affine), and the parts again ran one after the other until it migrated.

Measured on this 2-core machine (`bench/bench_engine.py`, 64 x 64 starts x 500 steps): Adam
10.5 ms whole, 5.6 ms in two parts. Batches below `MIN_PART` descents a part stay whole: the
per-step overhead dominates them and splitting gains nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np

MIN_PART = 256  # descents per part below which a batch is run whole


def _cores() -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup CPU quota (a
    container, such as a Streamlit Community Cloud app, may see more CPUs than it may use)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    for path, unlimited in (
        ("/sys/fs/cgroup/cpu.max", "max"),  # cgroup v2: "<quota> <period>"
        ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1"),  # cgroup v1: quota, period elsewhere
    ):
        try:
            with open(path) as f:
                fields = f.read().split()
            if fields[0] == unlimited:
                continue
            if len(fields) == 1:
                with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
                    fields.append(f.read().strip())
            n = min(n, max(1, int(fields[0]) // int(fields[1])))
        except (OSError, ValueError, IndexError):
            continue
    return max(1, n)


PARTS = min(_cores(), 8)


def configure_jax() -> None:
    """Run CPU computations inline on the calling thread (see the module docstring).

    Takes effect only before JAX creates its CPU client (the first computation); `optim`
    calls it on import. Each Streamlit session already waits for its own results, so inline
    execution costs the app nothing.
    """
    jax.config.update("jax_cpu_enable_async_dispatch", False)


_workers: list[ThreadPoolExecutor] = []
_workers_lock = threading.Lock()


def _pin(cpu: int) -> None:
    try:
        os.sched_setaffinity(0, {cpu})  # 0: this thread
    except (AttributeError, OSError):
        pass


def _worker(i: int) -> ThreadPoolExecutor:
    with _workers_lock:
        while len(_workers) < PARTS:
            cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
            cpu = cpus[len(_workers) % len(cpus)] if cpus else None
            _workers.append(
                ThreadPoolExecutor(
                    max_workers=1,
                    thread_name_prefix=f"part{len(_workers)}",
                    initializer=_pin if cpu is not None else None,
                    initargs=(cpu,) if cpu is not None else (),
                )
            )
        return _workers[i]


def parts_for(size: int, parts: int | None = None) -> int:
    """How many parts a batch of `size` descents runs in (1: whole)."""
    parts = PARTS if parts is None else parts
    while parts > 1 and (size % parts or size // parts < MIN_PART):
        parts -= 1
    return parts


def pad_rows(a: np.ndarray, n: int, axis: int = 0) -> np.ndarray:
    """`a` with its `axis` padded to length n by repeating the last entry (results for the
    padding are cut off by whoever padded)."""
    k = a.shape[axis]
    if k == n:
        return a
    last = np.take(a, [k - 1], axis=axis)
    return np.concatenate([a, np.repeat(last, n - k, axis=axis)], axis=axis)


def in_parts(
    run: Callable[..., object],
    batched: Sequence[tuple[np.ndarray, int]],
    size: int,
    parts: int | None = None,
):
    """`run(*arrays)` over a batch of `size`, split into equal parts run concurrently.

    A batch that does not split evenly is padded (repeating its last descent) to whole parts,
    and the padding is cut off the results.

    Args:
      run: a function of the batched arrays (shared inputs closed over) returning a pytree
        whose leaves all have the batch on axis 0.
      batched: (array, axis) pairs: each array carries the batch of `size` on `axis`.
      size: the batch size.
      parts: how many parts at most (default: one per core).

    Returns:
      The pytree of `run` over the whole batch, as NumPy arrays; the same values as one call.
    """
    parts = PARTS if parts is None else parts
    n = parts_for(-(-size // parts) * parts, parts)
    if n == 1:
        return jax.tree_util.tree_map(np.asarray, run(*(a for a, _ in batched)))
    padded = -(-size // n) * n
    batched = [(pad_rows(a, padded, axis), axis) for a, axis in batched]
    step = padded // n

    def part(i: int):
        rows = slice(i * step, (i + 1) * step)
        arrays = [np.ascontiguousarray(a[(slice(None),) * axis + (rows,)]) for a, axis in batched]
        return jax.tree_util.tree_map(np.asarray, run(*arrays))

    futures = [_worker(i).submit(part, i) for i in range(n)]
    results = [f.result() for f in futures]
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, axis=0)[:size], *results)


configure_jax()
