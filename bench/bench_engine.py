"""Engine throughput against NumPy, on the same update rules and the same work.

Prints trajectory-steps per second (one "trajectory-step" is one optimizer update of one
descent) for:

  1. one trajectory of 1000 steps (Adam, Rosenbrock), whole path recorded;
  2. six optimizers x 2000 steps, whole paths recorded;
  3. 1000 learning rates x 1000 steps (a sweep: only final results kept);
  4. a 64 x 64 grid of start points x 500 steps (basins: only final results kept);

each against a plain NumPy loop (one trajectory at a time, Python floats) and a NumPy loop
vectorised over the sweep (one array op per step for the whole batch). Both NumPy versions
do the engine's whole work per step: optax's update rules (the formulas below), the loss, the
divergence test, the last good point and the first step within 1e-3 of the minimum; a line
under each sweep shows how far their results agree with the engine's. The engine splits a
large sweep over both cores (`optim.parallel`); NumPy uses one. Times are the best of several
runs for both. Also prints the first-call compile time and a cold process's time to its first
trajectory.

Run: python bench/bench_engine.py   (add --quick for a shorter run)
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import jax  # noqa: E402

import optim  # noqa: E402
from landscapes import LANDSCAPES  # noqa: E402
from optim import runner, sweep  # noqa: E402

ROSEN = LANDSCAPES["rosenbrock"]
BOUND = runner.DIVERGENCE_BOUND
SIX = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


# ---------------------------------------------------------------------------------------------
# NumPy references: optax's update rules, vectorised over the leading axis of x and y.


def rosen_grad(x, y):
    return -2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)


def rosen(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def numpy_descent(name: str, x, y, lr, steps: int, eps: float = 1e-3):
    """Descend from (x, y) with optax's rule for `name`; arrays or Python floats alike.

    Does the engine's whole work per step, not just the update: the loss, the divergence test
    (a non-finite loss or a point outside |p| <= BOUND), the last good point, the count of
    kept steps and the first step within `eps` of f* = 0. Returns
    (good_x, good_y, diverged_at, hit_step) as `optim.sweep.final_states` does.
    """
    vec = isinstance(x, np.ndarray)
    sqrt = np.sqrt if vec else math.sqrt
    mx = my = 0.0 * x
    vx = vy = 0.0 * x + (0.1 if name == "adagrad" else 0.0)
    good_x, good_y = x, y
    alive = np.ones_like(x, bool) if vec else True
    n_ok = np.zeros_like(x, np.int32) if vec else 0
    hit = np.full_like(x, -1, np.int32) if vec else -1
    for t in range(1, steps + 1):
        loss = rosen(x, y)
        gx, gy = rosen_grad(x, y)
        if name == "sgd":
            ux, uy = -lr * gx, -lr * gy
        elif name == "momentum":  # optax trace: m = g + 0.9 m
            mx, my = gx + 0.9 * mx, gy + 0.9 * my
            ux, uy = -lr * mx, -lr * my
        elif name == "nesterov":  # optax trace(nesterov): m = g + 0.9 m; u = -(g + 0.9 m)
            mx, my = gx + 0.9 * mx, gy + 0.9 * my
            ux, uy = -lr * (gx + 0.9 * mx), -lr * (gy + 0.9 * my)
        elif name == "adagrad":  # accumulator from 0.1, eps inside the root
            vx, vy = vx + gx * gx, vy + gy * gy
            ux, uy = -lr * gx / sqrt(vx + 1e-7), -lr * gy / sqrt(vy + 1e-7)
        elif name == "rmsprop":  # eps inside the root (optax's default)
            vx, vy = 0.9 * vx + 0.1 * gx * gx, 0.9 * vy + 0.1 * gy * gy
            ux, uy = -lr * gx / sqrt(vx + 1e-8), -lr * gy / sqrt(vy + 1e-8)
        else:  # adam
            mx, my = 0.9 * mx + 0.1 * gx, 0.9 * my + 0.1 * gy
            vx, vy = 0.999 * vx + 0.001 * gx * gx, 0.999 * vy + 0.001 * gy * gy
            c1, c2 = 1 - 0.9**t, 1 - 0.999**t
            ux = -lr * (mx / c1) / (sqrt(vx / c2) + 1e-8)
            uy = -lr * (my / c1) / (sqrt(vy / c2) + 1e-8)
        x, y = x + ux, y + uy
        if vec:
            ok = (np.abs(loss) < np.inf) & (np.abs(x) <= BOUND) & (np.abs(y) <= BOUND)
            hit = np.where((hit < 0) & alive & (loss <= eps), n_ok, hit)
            alive = alive & ok
            good_x, good_y = np.where(alive, x, good_x), np.where(alive, y, good_y)
            n_ok = n_ok + alive
        else:
            if hit < 0 and loss <= eps:
                hit = n_ok
            if not (abs(loss) < math.inf and abs(x) <= BOUND and abs(y) <= BOUND):
                alive = False
                break
            good_x, good_y, n_ok = x, y, n_ok + 1
    final = rosen(good_x, good_y)
    hit = np.where((hit < 0) & alive & (final <= eps), n_ok, hit)
    diverged_at = np.where(alive, -1, n_ok + 1)
    return good_x, good_y, diverged_at, hit


# ---------------------------------------------------------------------------------------------


def timed(fn, repeat: int = 3) -> float:
    """Best wall time of `repeat` calls after one warm-up call (which absorbs compilation)."""
    jax.block_until_ready(fn())
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return best


def rate(work: int, seconds: float) -> str:
    return f"{work / seconds / 1e6:10.1f} M/s"


def row(label: str, work: int, engine: float, loop: float | None, vec: float | None) -> None:
    parts = [f"{label:<34}", f"engine {rate(work, engine)}"]
    if loop is not None:
        parts.append(f"numpy loop {rate(work, loop)} (x{loop / engine:,.0f})")
    if vec is not None:
        parts.append(f"numpy vectorised {rate(work, vec)} (x{vec / engine:,.1f})")
    print("  ".join(parts), flush=True)


def best_of(fn, repeat: int):
    """Best wall time of `repeat` calls of a NumPy function, and its (last) result."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def agreement(summary, ref) -> None:
    """How far the engine and the NumPy loop (different float32 rounding) agree, to show they
    did the same work: same diverged/converged split, same hit steps, final points."""
    good_x, good_y, diverged_at, hit = ref
    same_fate = np.mean((summary.diverged_at < 0) == (diverged_at < 0))
    same_hit = np.mean(summary.hit_step == hit)
    both = (summary.diverged_at < 0) & (diverged_at < 0)
    dist = np.hypot(
        summary.final_point[both, 0] - good_x[both], summary.final_point[both, 1] - good_y[both]
    )
    print(
        f"{'':34}  agree with numpy: diverged or not {same_fate:.1%}, hit step {same_hit:.1%},"
        f" final point within 1e-3 {np.mean(dist <= 1e-3):.1%} of the converged",
        flush=True,
    )


def extrapolated_loop(name: str, lrs, starts, steps: int, sample: int) -> float:
    """Plain-loop time for the whole batch, measured on `sample` of its trajectories."""
    t0 = time.perf_counter()
    for i in range(sample):
        numpy_descent(name, float(starts[i, 0]), float(starts[i, 1]), float(lrs[i]), steps)
    return (time.perf_counter() - t0) * len(lrs) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller loops")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3  # NumPy runs: 50-500 ms each
    sweep_repeat = 2 if args.quick else 10  # engine sweeps: a few ms each, so more samples
    sample = 5 if args.quick else 20
    print(f"jax {jax.__version__} on {jax.devices()}; {os.cpu_count()} cores; float32")

    # Cold process: import + compile + first trajectory.
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import optim; t = optim.run('rosenbrock', 'adam', lr=1e-2, steps=1000);"
            " print(float(t.loss[-1]))",
        ],
        check=True,
        capture_output=True,
        cwd=os.path.join(os.path.dirname(__file__), ".."),
    )
    print(f"cold process to first trajectory: {time.perf_counter() - t0:.2f} s")

    t0 = time.perf_counter()
    optim.run(ROSEN, "adam", lr=1e-2, steps=1000)
    print(f"first call (compile + run), adam 1000 steps: {time.perf_counter() - t0:.2f} s")

    # 1. One trajectory.
    eng = timed(lambda: optim.run(ROSEN, "adam", lr=1e-2, steps=1000).points, repeat)
    t0 = time.perf_counter()
    numpy_descent("adam", -2.0, 2.0, 1e-2, 1000)
    loop = time.perf_counter() - t0
    row("1 trajectory x 1000 steps (adam)", 1000, eng, loop, None)

    # 2. Six optimizers x 2000 steps.
    lrs6 = {"sgd": 2e-4, "momentum": 2e-4, "nesterov": 2e-4, "adagrad": 0.1, "rmsprop": 1e-2}
    eng = timed(
        lambda: [optim.run(ROSEN, k, lr=lrs6.get(k, 1e-2), steps=2000).points for k in SIX],
        repeat,
    )
    t0 = time.perf_counter()
    for k in SIX:
        numpy_descent(k, -2.0, 2.0, lrs6.get(k, 1e-2), 2000)
    loop = time.perf_counter() - t0
    row("6 optimizers x 2000 steps", 6 * 2000, eng, loop, None)

    # 3. 1000 learning rates x 1000 steps, per optimizer of the six.
    n_lr, steps = 1000, 1000
    lrs = np.geomspace(1e-5, 1e-1, n_lr).astype(np.float32)
    starts = np.tile(np.asarray(ROSEN.start, np.float32), (n_lr, 1))
    for k in ("sgd", "adam"):
        eng = timed(
            lambda k=k: sweep.final_states(ROSEN, k, lr_scale=lrs, steps=steps), sweep_repeat
        )
        vec, ref = best_of(lambda k=k: numpy_descent(k, *starts.T.copy(), lrs, steps), repeat)
        loop = extrapolated_loop(k, lrs, starts, steps, sample)
        row(f"{n_lr} lrs x {steps} steps ({k})", n_lr * steps, eng, loop, vec)
        agreement(sweep.final_states(ROSEN, k, lr_scale=lrs, steps=steps), ref)

    # 4. A 64 x 64 grid of starts x 500 steps.
    g = np.linspace(-2, 2, 64, dtype=np.float32)
    gx, gy = np.meshgrid(g, g + 1.0)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    for k, lr in (("sgd", 2e-4), ("adam", 1e-2)):
        eng = timed(
            lambda k=k, lr=lr: sweep.final_states(ROSEN, k, lr_scale=lr, start=grid, steps=500),
            sweep_repeat,
        )
        vec, ref = best_of(
            lambda k=k, lr=lr: numpy_descent(k, *grid.T.copy(), np.float32(lr), 500), repeat
        )
        loop = extrapolated_loop(k, np.full(len(grid), lr), grid, 500, sample)
        row(f"64x64 starts x 500 steps ({k})", len(grid) * 500, eng, loop, vec)
        agreement(sweep.final_states(ROSEN, k, lr_scale=lr, start=grid, steps=500), ref)


if __name__ == "__main__":
    main()
