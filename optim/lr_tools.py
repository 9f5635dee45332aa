"""Learning-rate tools: range test, sweeps, momentum phase diagram, basins, noise ensembles.

Each tool is one pure call that returns a NamedTuple of NumPy arrays, and each runs its whole
batch of descents through ONE jitted, vmapped `lax.scan`:

- `lr_range_test`: fastai's LR finder on a 2-D surface (exponential ramp, smoothed loss, early
  stop at 4x the best, the `valley`, `steep` and `minimum` suggestions).
- `lr_sweep`: one descent per learning rate (up to 4096 of them), each labelled with a band:
  crawls, converges, oscillates or diverges.
- `phase_diagram`: a learning rate x momentum grid for heavy-ball momentum (Goh 2017).
- `basins`: a grid of start points, each labelled by the minimum it reaches.
- `noise_ensemble`: K seeded noisy descents and the 10/50/90 % quantiles of their loss.

Sweeps, phase diagrams and basins need a little more than `optim.runner.Summary` (how often the
step reverses direction, when the point settled in a minimum's neighbourhood), so they run
`_summaries`, a scan that takes exactly the runner's steps (the same optax update, the same
divergence test, the same `hit_step`: a test checks it against `runner.simulate`) and keeps those
counters as it goes. The scan's length is bucketed (the rates past `steps` are zero, and at rate
zero every optimizer but the schedule-free ones stands still, so the result is exact) and the
batch is padded to a bucket of sizes, so moving a slider compiles nothing.

Band definitions (`BANDS`), for a run of `steps` steps at a constant rate:

- diverges: ``diverged_at >= 0`` (a non-finite loss or gradient, or |x| or |y| > 1e6).
- oscillates: did not diverge, and either the step reversed direction, ``u_t . u_{t-1} < 0``,
  in more than `OSCILLATION_FRACTION` (30 %) of the steps taken before reaching f* + eps (all
  steps if it never did), or it reached f* + eps and ended above it again (it bounced out).
  Checked before "converges": a run can zig-zag all the way in.
- converges: reached f* + eps (``hit_step >= 0``), ended within it, and does not zig-zag.
- crawls: none of the above: no divergence, no zig-zag, but f* + eps not reached in `steps`
  steps (too small a rate, or stuck on a plateau or at a saddle or local minimum).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from landscapes.spec import Landscape
from optim import parallel
from optim.runner import (
    COMPILER_OPTIONS,
    DIVERGENCE_BOUND,
    PLATEAU_DEFAULTS,
    bucket_steps,
    hparam_values,
    resolve_landscape,
    resolve_optimizer,
    simulate,
)
from optim.spec import OptimizerSpec
from optim.sweep import ELEMENTWISE

# Caps: each keeps one request within about a second and well inside the ~1 GB of a hosted app.
MAX_RATES = 4096
MAX_STEPS = 5000
MAX_BASIN_SIDE = 256
MAX_PHASE_SIDE = 128
MAX_SEEDS = 128

OSCILLATION_FRACTION = 0.3
"""A run "oscillates" when its step reverses direction in more than this fraction of steps."""

BANDS = ("crawls", "converges", "oscillates", "diverges")
"""Band labels, in the order of the integer codes of `LRSweep.band_code`."""
CRAWLS, CONVERGES, OSCILLATES, DIVERGES = range(4)

ELSEWHERE = -1
"""`Basins.label` of a run that ended near no known minimum."""
DIVERGED = -2
"""`Basins.label` of a run that diverged."""

SMOOTH_BETA = 0.98
"""fastai's `AvgSmoothLoss(beta=0.98)`."""
STOP_FACTOR = 4.0
"""fastai's `LRFinder`: stop once the smoothed loss exceeds 4x the best smoothed loss."""


# --------------------------------------------------------------------------------------------
# Input checks: every cap and domain error is a ValueError whose message says what to change.


def _check_steps(steps, low: int = 1) -> int:
    if isinstance(steps, bool) or not float(steps).is_integer():
        raise ValueError(f"steps must be a whole number, got {steps!r}")
    steps = int(steps)
    if not low <= steps <= MAX_STEPS:
        raise ValueError(
            f"steps must be between {low} and {MAX_STEPS} (the cap keeps a request within about "
            f"a second on a shared server), got {steps}"
        )
    return steps


def _check_rates(lrs, name: str = "lrs", cap: int = MAX_RATES) -> np.ndarray:
    arr = np.asarray(lrs, np.float64).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} is empty: give at least one learning rate")
    if arr.size > cap:
        raise ValueError(
            f"{name} has {arr.size} values; the cap is {cap} (memory and time on a shared "
            f"server). Use fewer."
        )
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"every learning rate in {name} must be finite and > 0")
    return arr


def _check_positive(value, name: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return v


def _start(landscape: Landscape, start) -> np.ndarray:
    p = np.asarray(landscape.start if start is None else start, np.float64).reshape(-1)
    if p.shape != (2,) or not np.all(np.isfinite(p)):
        raise ValueError(f"start must be two finite numbers (x, y), got {start!r}")
    return p.astype(np.float32)


def _schedule_shape(schedule: str, steps: int, schedule_params) -> np.ndarray:
    """The schedule at base rate 1: every schedule is proportional to its base rate, so a sweep
    shares this shape and batches only the scalar factor (`lr_scale`)."""
    from optim.schedules import lr_schedule

    return np.asarray(lr_schedule(schedule, 1.0, steps, schedule_params), np.float32)


def _batch_bucket(n: int) -> int:
    """Round a batch size up to 64 * 2^k or 96 * 2^k (at most a third wasted), so that nearby
    sizes share one compiled scan."""
    size = 64
    while True:
        if n <= size:
            return size
        if n <= size * 3 // 2:
            return size * 3 // 2
        size *= 2


MOVES_AT_ZERO_LR = frozenset({"schedule_free_sgd", "schedule_free_adamw"})
"""Optimizers whose point still moves at learning rate 0 (schedule-free averaging). Their scans
are not padded (one compile per step count); every other optimizer stands still at rate 0."""

NAN_AT_ZERO_LR = frozenset({"rmsprop_centered"})
"""Optimizers whose step turns NaN after enough zero-rate steps: at rate 0 the point and so the
gradient g stand still, centred RMSprop's variance estimate nu - mu^2 tends to g^2 - g^2 = 0
and rounds below -eps in float32, and sqrt of it is NaN (0 x NaN is NaN). On the bowl, 150-step
runs that ended cleanly were reported diverged at steps 228 to 254 of their zero padding. Not
padded either."""


def _scan_lrs(shape: np.ndarray, spec: OptimizerSpec) -> np.ndarray:
    """The per-step rates, zero-padded to a bucketed length: at rate 0 the point, and with it
    every summary, stays where it was, so nearby step counts share one compiled scan."""
    shape = shape.astype(np.float32)
    if spec.key in MOVES_AT_ZERO_LR | NAN_AT_ZERO_LR:
        return shape
    return np.concatenate(
        [shape, np.zeros(bucket_steps(shape.shape[0]) - shape.shape[0], np.float32)]
    )


# --------------------------------------------------------------------------------------------
# The summarising scan.


class Stats(NamedTuple):
    """What `_summaries` keeps of each descent.

    Attributes:
      final_point: (2,) the last good point.
      final_loss: () f there (the last finite loss seen, should f overflow inside the box).
      hit_step: () int32, the first step t with loss[t] <= f* + eps, or -1 (as the runner).
      diverged_at: () int32, as `runner.Trajectory.diverged_at`.
      reversals: () int32, steps t before `hit_step` with u_t . u_{t-1} < 0.
      settled_at: () int32, the first step after which the point stayed within `tol` of a
        minimum until the end; -1 if the final point is not within `tol` of any.
    """

    final_point: jax.Array
    final_loss: jax.Array
    hit_step: jax.Array
    diverged_at: jax.Array
    reversals: jax.Array
    settled_at: jax.Array


def _summarise_one(
    landscape: Landscape,
    spec: OptimizerSpec,
    track_minima: bool,
    start,
    lrs,
    lr_scale,
    hparams,
    eps,
    bound,
    minima,
    tol,
):
    """Descents over the rates `lrs` (zero-padded past the real step count: see below).

    `start` is one point (2,) or, for an optimizer in `optim.sweep.ELEMENTWISE`, a batch as
    one (2, B) array (x and y each in a contiguous row, faster than vmap's (B, 2): see there);
    every other input broadcasts against the trailing batch axis.

    The step is `optim.runner._simulate`'s, without noise or reduce-on-plateau: the optax update
    with the step's learning rate injected, a step kept only while the loss is finite and the
    new point inside the box |x|, |y| <= bound.

    Padding: every optimizer's step is proportional to its learning rate except the
    schedule-free ones (`MOVES_AT_ZERO_LR`, checked over the registry by a test), so steps with
    rate 0 leave the point, the loss, `hit_step` and `diverged_at` as they were: a scan of a
    bucketed length gives the exact result of a shorter one. Each extra comparison inside the
    loop costs as much as the whole SGD step here, which is why no step mask is carried.
    """
    f = landscape.fn
    tx = optax.inject_hyperparams(spec.factory)(learning_rate=lr_scale * lrs[0], **hparams)
    start = jnp.asarray(start, jnp.float32)
    batch = start.shape[1:]  # () for one descent, (B,) for a (2, B) batch
    f_star = jnp.float32(landscape.min_value)
    tol2 = tol * tol

    def outside(p):
        # Farther than tol from every known minimum. Unrolled over the (few) minima into
        # elementwise tests: a reduction over a small axis costs several times more here.
        out = jnp.bool_(True)
        for i in range(minima.shape[0]):
            out = out & ((p[0] - minima[i, 0]) ** 2 + (p[1] - minima[i, 1]) ** 2 > tol2)
        return out

    def step(carry, scheduled_lr):
        p, state, p_good, alive, n_ok, last_loss, hit, u_prev, rev, last_out = carry
        lr = lr_scale * scheduled_lr
        if track_minima:  # p is point n_ok while alive
            last_out = jnp.where(alive & outside(p), n_ok, last_out)
        v, pull = jax.vjp(f, p)  # v: one loss per descent
        (g,) = pull(jnp.ones_like(v))  # descents are independent: the sum's gradient
        state = state._replace(hyperparams={**state.hyperparams, "learning_rate": lr})
        u, state = tx.update(g, state, p, value=v)
        p = p + u
        keep = alive & (jnp.abs(v) < jnp.inf) & (jnp.abs(p[0]) <= bound) & (jnp.abs(p[1]) <= bound)
        hit = jnp.where((hit < 0) & alive & (v <= f_star + eps), n_ok, hit)
        # A reversal: this step points against the previous one (the first step has u_prev = 0).
        # Counted until f* + eps is first reached; a zero-rate padding step has u = 0.
        reversed_ = keep & (hit < 0) & (u[0] * u_prev[0] + u[1] * u_prev[1] < 0)
        rev = rev + reversed_.astype(jnp.int32)
        last_loss = jnp.where(alive & (jnp.abs(v) < jnp.inf), v, last_loss)
        # As in the runner, the iterate and the optimizer state run on freely after a
        # divergence (into inf or nan, at no cost) and only the last good point is kept:
        # selecting the whole state every step made the scan several times slower.
        p_good = jnp.where(keep, p, p_good)
        n_ok = n_ok + keep.astype(jnp.int32)
        return (p, state, p_good, keep, n_ok, last_loss, hit, u, rev, last_out), None

    carry0 = (
        start,
        tx.init(start),
        start,
        jnp.ones(batch, bool),
        jnp.zeros(batch, jnp.int32),
        f(start),
        jnp.full(batch, -1, jnp.int32),
        jnp.zeros_like(start),
        jnp.zeros(batch, jnp.int32),
        jnp.full(batch, -1, jnp.int32),
    )
    carry, _ = jax.lax.scan(step, carry0, lrs)
    _, _, p_final, alive, n_ok, last_loss, hit, _, rev, last_out = carry
    diverged_at = jnp.where(alive, -1, n_ok + 1).astype(jnp.int32)
    v_final = f(p_final)
    v_final = jnp.where(jnp.abs(v_final) < jnp.inf, v_final, last_loss)
    hit = jnp.where((hit < 0) & alive & (v_final <= f_star + eps), n_ok, hit)
    if track_minima:
        settled = jnp.where(outside(p_final), -1, last_out + 1).astype(jnp.int32)
    else:
        settled = jnp.full(batch, -1, jnp.int32)
    return Stats(p_final, v_final, hit, diverged_at, rev, settled)


@functools.partial(
    jax.jit,
    static_argnames=("landscape", "spec", "track_minima"),
    compiler_options=COMPILER_OPTIONS,
)
def _summaries(
    landscape: Landscape,
    spec: OptimizerSpec,
    *,
    track_minima: bool,
    start,
    lrs,
    lr_scale,
    hparams: dict,
    eps,
    bound,
    minima,
    tol,
) -> Stats:
    """A batch of summarised descents in one compiled scan.

    Batched by shape, as `runner.simulate`: `start` (B, 2), `lr_scale` (B,) and any
    hyperparameter (B,) with a leading axis carry the batch; `lrs` (T,), `eps`, `bound`,
    `minima` (M, 2) and `tol` are shared. Coordinatewise optimizers run the batch as one (2, B)
    descent, the others are vmapped (see `optim.sweep.ELEMENTWISE`).
    """

    def body(start, lr_scale, hparams):
        return _summarise_one(
            landscape,
            spec,
            track_minima,
            start,
            lrs,
            lr_scale,
            hparams,
            eps,
            bound,
            minima,
            tol,
        )

    if spec.key in ELEMENTWISE and jnp.ndim(start) == 2:
        stats = body(jnp.asarray(start).T, lr_scale, hparams)
        return stats._replace(final_point=stats.final_point.T)
    args = (start, lr_scale, hparams)
    batched_ndim = (1, 0, 0)
    axes = tuple(
        jax.tree_util.tree_map(lambda a, n=n: 0 if jnp.ndim(a) > n else None, arg)
        for arg, n in zip(args, batched_ndim, strict=True)
    )
    return jax.vmap(body, in_axes=axes)(*args)


def _run_summaries(
    ls: Landscape,
    spec: OptimizerSpec,
    *,
    shape: np.ndarray,
    starts: np.ndarray,
    scales: np.ndarray,
    hparams: dict,
    eps: float,
    track_minima: bool = False,
    tol: float = 0.0,
) -> Stats:
    """Pad the batch (B rows of `starts`, `scales` and batched hparams) and the steps to their
    buckets, run `_summaries` once, and cut the results back, as NumPy arrays."""
    b = starts.shape[0]
    size = _batch_bucket(b)
    shared, batched_hp = {}, {}
    for k, v in hparams.items():
        a = np.asarray(v, np.float32)
        if a.ndim:
            batched_hp[k] = parallel.pad_rows(a, size)
        else:
            shared[k] = a
    names = sorted(batched_hp)
    minima = np.asarray(ls.all_minima, np.float32).reshape(-1, 2)
    lrs = _scan_lrs(shape, spec)

    def part(start, lr_scale, *hp_values):
        return _summaries(
            ls,
            spec,
            track_minima=track_minima,
            start=start,
            lrs=lrs,
            lr_scale=lr_scale,
            hparams=shared | dict(zip(names, hp_values, strict=True)),
            eps=np.float32(eps),
            bound=np.float32(DIVERGENCE_BOUND),
            minima=minima,
            tol=np.float32(tol),
        )

    # Large batches run as equal parts, one per core (`optim.parallel`).
    batched = [
        (parallel.pad_rows(starts.astype(np.float32), size), 0),
        (parallel.pad_rows(scales.astype(np.float32), size), 0),
    ]
    stats = parallel.in_parts(part, batched + [(batched_hp[k], 0) for k in names], size)
    return Stats(*(a[:b] for a in stats))


def _reversal_fraction(stats: Stats, steps: int) -> np.ndarray:
    """Reversals over the steps that could reverse: steps 1 .. h-1, h = `hit_step`, or the
    number of steps taken if f* + eps was never reached."""
    taken = np.where(stats.diverged_at >= 0, stats.diverged_at - 1, steps)
    h = np.where(stats.hit_step >= 0, stats.hit_step, taken)
    return (stats.reversals / np.maximum(h - 1, 1)).astype(np.float32)


def classify(diverged_at, hit_step, reversal_fraction, stayed) -> np.ndarray:
    """Band codes (indices into `BANDS`); see the module docstring for the definitions.

    Args:
      diverged_at, hit_step: as in `LRSweep`.
      reversal_fraction: share of the steps before `hit_step` that reversed direction.
      stayed: the final loss is within f* + eps (a run that touched f* + eps and left it again
        bounced out of the minimum: it oscillates).

    Example:
      >>> codes = classify([-1, -1, 7, -1, -1], [-1, 40, -1, 12, 30], [0, 0.1, 0.9, 0.8, 0],
      ...                  [False, True, False, True, False])
      >>> [BANDS[c] for c in codes]
      ['crawls', 'converges', 'diverges', 'oscillates', 'oscillates']
    """
    diverged = np.asarray(diverged_at) >= 0
    hit = np.asarray(hit_step) >= 0
    stayed = np.asarray(stayed, bool)
    osc = (np.asarray(reversal_fraction) > OSCILLATION_FRACTION) | (hit & ~stayed)
    return np.select(
        [diverged, osc, hit], [DIVERGES, OSCILLATES, CONVERGES], default=CRAWLS
    ).astype(np.int8)


# --------------------------------------------------------------------------------------------
# Learning-rate sweep.


class LRSweep(NamedTuple):
    """One descent per learning rate, from the same start, for the same number of steps.

    Attributes:
      lrs: (N,) float64, the base learning rates (the schedule's, if any, times this).
      final_loss: (N,) float32, f at the last good point.
      hit_step: (N,) int32, the first step t with f(x_t) <= f* + eps, or -1 if never.
      diverged: (N,) bool, the run diverged.
      diverged_at: (N,) int32, the step that left the box or met a non-finite value, or -1.
      reversal_fraction: (N,) float32, share of the steps before reaching f* + eps in which the
        step reversed direction (u_t . u_{t-1} < 0).
      band_code: (N,) int8 indices into `BANDS`.
      band: (N,) str, the band labels ("crawls", "converges", "oscillates", "diverges").
      best_index: index of the best rate (`best_index`: fewest steps to f* + eps, as the
        median over a +-0.02-decade neighbourhood, among the runs that stayed there; the lowest
        final loss if none did), or -1 if every run diverged.
      best_lr: lrs[best_index], or NaN.
      steps: the number of steps of every run.
      eps: the tolerance of "reached the minimum".
    """

    lrs: np.ndarray
    final_loss: np.ndarray
    hit_step: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    reversal_fraction: np.ndarray
    band_code: np.ndarray
    band: np.ndarray
    best_index: int
    best_lr: float
    steps: int
    eps: float


BEST_WINDOW_DECADES = 0.02
"""Half-width, in decades of the rate, of the neighbourhood `best_index` takes a median over."""


def best_index(hit_step, diverged, final_loss, threshold: float, lrs=None) -> int:
    """The rate whose neighbourhood reaches f* + eps in the fewest steps.

    A run counts if it reached f* + eps and stayed there (final loss <= `threshold`); the
    others count as infinitely slow. With `lrs`, each rate is scored by the median step count
    of the rates within +-`BEST_WINDOW_DECADES` of it (a factor 1.05 either side): adaptive
    optimizers land on f* + eps in a jagged number of steps, and one lucky rate should not
    move the "best" by a decade when the grid changes. Ties go to the middle of the tied runs.
    Without any run that stayed, the lowest final loss among those that did not diverge; -1 if
    every run diverged.
    """
    hit = np.asarray(hit_step)
    ok = (hit >= 0) & ~np.asarray(diverged) & (np.asarray(final_loss) <= threshold)
    if ok.any():
        score = np.where(ok, hit, np.inf).astype(np.float64)
        if lrs is not None and score.size > 2:
            logs = np.log10(np.asarray(lrs, np.float64))
            order = np.argsort(logs, kind="stable")
            sorted_logs, sorted_score = logs[order], score[order]
            lo = np.searchsorted(sorted_logs, sorted_logs - BEST_WINDOW_DECADES, side="left")
            hi = np.searchsorted(sorted_logs, sorted_logs + BEST_WINDOW_DECADES, side="right")
            # Every window at once: (N, widest) gathered scores, NaN outside each window.
            idx = lo[:, None] + np.arange(int((hi - lo).max()))[None, :]
            windows = sorted_score[np.minimum(idx, score.size - 1)]
            windows[idx >= hi[:, None]] = np.nan
            smoothed = np.nanmedian(windows, axis=1)
            score = np.empty_like(smoothed)
            score[order] = smoothed
            score = np.where(ok, score, np.inf)  # the best is itself a run that converged
        fewest = score.min()
        if np.isfinite(fewest):
            tied = np.flatnonzero(score == fewest)
            return int(tied[len(tied) // 2])
        return int(np.flatnonzero(ok)[np.argmin(hit[ok])])
    alive = np.flatnonzero(~np.asarray(diverged))
    if alive.size == 0:
        return -1
    return int(alive[np.argmin(np.asarray(final_loss)[alive])])


def lr_sweep(
    landscape,
    optimizer,
    *,
    lrs,
    steps: int,
    start=None,
    hparams: dict | None = None,
    eps: float = 1e-3,
    schedule: str = "constant",
    schedule_params: dict | None = None,
) -> LRSweep:
    """Run one descent per learning rate and label each with a band.

    Every run starts at `start`, takes `steps` steps with learning rate
    ``eta_t = lr * s_t`` (``s_t`` the schedule at base rate 1; constant by default) and is
    summarised by its final loss, the first step with ``f(x_t) <= f* + eps`` and the step it
    diverged at. All rates go through one jitted, vmapped scan.

    Args:
      landscape: a `Landscape` or a registry key.
      optimizer: an `OptimizerSpec` or a registry key.
      lrs: the learning rates, each finite and > 0 (at most `MAX_RATES`), e.g.
        ``np.logspace(-4, 1, 1000)``.
      steps: steps per run, 1 .. `MAX_STEPS`.
      start: (x, y); the landscape's recommended start if None.
      hparams: the optimizer's other hyperparameters (defaults for the rest).
      eps: tolerance of "reached the minimum".
      schedule, schedule_params: a schedule of `optim.SCHEDULES` applied to every run
        (reduce-on-plateau runs at its constant base rate here).

    Returns:
      An `LRSweep` of NumPy arrays.

    Raises:
      ValueError: a cap is exceeded or an input is out of its domain.

    Example:
      >>> s = lr_sweep("ill_conditioned_bowl", "sgd", lrs=[0.1, 0.45, 0.6], steps=500)
      >>> s.band.tolist()   # 2 / lambda_max = 2 / 4 = 0.5
      ['converges', 'oscillates', 'diverges']
    """
    ls = resolve_landscape(landscape)
    spec = resolve_optimizer(optimizer)
    rates = _check_rates(lrs)
    steps = _check_steps(steps)
    eps = _check_positive(eps, "eps")
    p0 = _start(ls, start)
    hp = hparam_values(spec, ls, hparams)
    stats = _run_summaries(
        ls,
        spec,
        shape=_schedule_shape(schedule, steps, schedule_params),
        starts=np.broadcast_to(p0, (rates.size, 2)),
        scales=rates,
        hparams=hp,
        eps=eps,
    )
    frac = _reversal_fraction(stats, steps)
    threshold = ls.min_value + eps
    stayed = stats.final_loss <= threshold
    codes = classify(stats.diverged_at, stats.hit_step, frac, stayed)
    diverged = stats.diverged_at >= 0
    best = best_index(stats.hit_step, diverged, stats.final_loss, threshold, rates)
    return LRSweep(
        lrs=rates,
        final_loss=stats.final_loss.astype(np.float32),
        hit_step=stats.hit_step.astype(np.int32),
        diverged=diverged,
        diverged_at=stats.diverged_at.astype(np.int32),
        reversal_fraction=frac,
        band_code=codes,
        band=np.asarray(BANDS)[codes],
        best_index=best,
        best_lr=float(rates[best]) if best >= 0 else float("nan"),
        steps=steps,
        eps=eps,
    )


def band_segments(lrs, band_code) -> list[tuple[str, float, float]]:
    """Contiguous runs of one band as (band, first lr, last lr), in order of the rates."""
    lrs = np.asarray(lrs)
    codes = np.asarray(band_code)
    out: list[tuple[str, float, float]] = []
    if codes.size == 0:
        return out
    breaks = np.flatnonzero(np.diff(codes)) + 1
    for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, codes.size], strict=True):
        out.append((BANDS[int(codes[lo])], float(lrs[lo]), float(lrs[hi - 1])))
    return out


# --------------------------------------------------------------------------------------------
# Stability bound from the Hessian.


def hessian_eigenvalues(landscape, point=None) -> np.ndarray:
    """Eigenvalues (ascending) of the Hessian of f at `point` (the start if None), float64.

    ``jax.hessian`` of the landscape's own function, then ``numpy.linalg.eigvalsh``.
    """
    ls = resolve_landscape(landscape)
    p = jnp.asarray(_start(ls, point), jnp.float32)
    h = np.asarray(jax.hessian(lambda q: ls.fn(q))(p), np.float64)
    return np.linalg.eigvalsh(0.5 * (h + h.T))


def stability_bound(
    landscape, optimizer, *, start=None, hparams: dict | None = None
) -> float | None:
    """The largest stable constant learning rate on the quadratic model at `start`.

    With lambda = lambda_max of the Hessian there (on a quadratic, everywhere):

    - gradient descent (sgd): x <- (1 - eta lambda) x is stable iff eta < 2 / lambda.
    - heavy ball (optax: m <- g + mu m, x <- x - eta m): the characteristic polynomial
      r^2 - (1 + mu - eta lambda) r + mu is Schur-stable iff eta < 2 (1 + mu) / lambda.
    - Nesterov (optax: x <- x - eta (g + mu m)): by Jury's test on the 2x2 map,
      eta < 2 (1 + mu) / ((1 + 2 mu) lambda).

    Returns None for other optimizers, or where lambda_max <= 0 (no curvature to bound).
    """
    ls = resolve_landscape(landscape)
    spec = resolve_optimizer(optimizer)
    lam = float(hessian_eigenvalues(ls, start)[-1])
    if not (math.isfinite(lam) and lam > 0):
        return None
    if spec.key == "sgd":
        return 2.0 / lam
    if spec.key in ("momentum", "nesterov"):
        mu = hparam_values(spec, ls, hparams)["momentum"]
        if spec.key == "momentum":
            return 2.0 * (1.0 + mu) / lam
        return 2.0 * (1.0 + mu) / ((1.0 + 2.0 * mu) * lam)
    return None


# --------------------------------------------------------------------------------------------
# LR range test (fastai's LR finder).


class RangeTest(NamedTuple):
    """The LR range test: one descent whose rate grows exponentially at every step.

    Attributes:
      lrs: (n,) float64, the rate of step i: start_lr * (end_lr / start_lr) ** (i / n).
      raw_loss: (n,) float64, f(x_i), the loss at the point where step i starts (fastai
        records the batch's loss before its step); +inf from the divergence on.
      smooth_loss: (n,) float64, the bias-corrected moving average (fastai's AvgSmoothLoss);
        NaN after the early stop.
      n_recorded: how many (lr, loss) pairs were recorded before the stop (n if none).
      stopped_early: the smoothed loss exceeded 4x its best before the last step.
      diverged_at: the step the descent diverged at, or -1.
      valley, steep, minimum: the suggested rates (NaN if the recorded range was too short):
        fastai's `valley`, `steep` and `minimum` (which is the rate at the lowest loss / 10).
      valley_point, steep_point, minimum_point: the (lr, smoothed loss) fastai marks on its
        plot for each (for `minimum` the rate at the lowest loss itself).
      window: (first, last) indices (into lrs) of the slice the suggestions were computed on.
      valley_span: (start, end) indices (into lrs) of fastai's longest valley, or (-1, -1).
    """

    lrs: np.ndarray
    raw_loss: np.ndarray
    smooth_loss: np.ndarray
    n_recorded: int
    stopped_early: bool
    diverged_at: int
    valley: float
    steep: float
    minimum: float
    valley_point: tuple[float, float]
    steep_point: tuple[float, float]
    minimum_point: tuple[float, float]
    window: tuple[int, int]
    valley_span: tuple[int, int]


def smooth(losses, beta: float = SMOOTH_BETA) -> np.ndarray:
    """fastai's AvgSmoothLoss: v_i = beta v_{i-1} + (1 - beta) l_i, v_0 = 0; value
    v_i / (1 - beta^(i+1)) (bias-corrected, so a constant loss stays constant)."""
    losses = np.asarray(losses, np.float64)
    out = np.empty_like(losses)
    v = 0.0
    for i, loss in enumerate(losses):
        v = beta * v + (1.0 - beta) * loss
        out[i] = v / (1.0 - beta ** (i + 1))
    return out


def stop_index(smoothed) -> int:
    """fastai's LRFinder stop: after each batch, best = min(best, smooth); stop (after recording
    it) at the first i with smooth_i > 4 best. Returns the number of recorded values."""
    best = math.inf
    for i, s in enumerate(smoothed):
        if s < best:
            best = s
        if s > STOP_FACTOR * best:
            return i + 1
    return len(smoothed)


def valley_extent(losses) -> tuple[int, int]:
    """fastai's longest valley: (max_start, max_end) as its `valley` computes them.

    The valley is the longest strictly decreasing subsequence of the losses, found by the
    O(n^2) dynamic programme lds[i] = 1 + max{lds[j] : j < i, loss[j] > loss[i]}. fastai's loop
    updates (max_start, max_end) inside the inner loop, the first time lds[i] exceeds the
    longest length so far, and takes max_start = i - lds[i] at that moment; this is the same
    computation, vectorised over j (and checked against a literal transcription in the tests).
    """
    losses = np.asarray(losses, np.float64)
    n = losses.size
    lds = np.ones(n, np.int64)
    max_start, max_end = 0, 0
    for i in range(1, n):
        cand = np.where(losses[:i] > losses[i], lds[:i] + 1, 1)
        lds[i] = max(1, int(cand.max()))
        longest = lds[max_end]
        if lds[i] > longest:
            # The inner loop's running max first exceeds `longest` at the first such j.
            j = int(np.argmax(cand > longest))
            max_end = i
            max_start = i - int(cand[j])
    return max_start, max_end


def valley(lrs, losses) -> tuple[float, tuple[float, float]]:
    """fastai's `valley`: the rate 1/3 + 1/6 of the way into the longest valley
    (`valley_extent`): index max_start + int(len/3) + int(len/6), len = max_end - max_start."""
    losses = np.asarray(losses, np.float64)
    lrs = np.asarray(lrs, np.float64)
    max_start, max_end = valley_extent(losses)
    sections = (max_end - max_start) / 3
    # As in fastai, idx = -1 (a valley that starts at index 0 and is shorter than 4) indexes
    # from the end, Python's way.
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx]), (float(lrs[idx]), float(losses[idx]))


def steep(lrs, losses) -> tuple[float, tuple[float, float]]:
    """fastai's `steep`: the rate where the loss falls fastest against log lr.

    grads_i = (loss_{i+1} - loss_i) / (log lr_{i+1} - log lr_i); suggestion lrs[argmin grads].
    """
    lrs = np.asarray(lrs, np.float64)
    losses = np.asarray(losses, np.float64)
    grads = np.diff(losses) / np.diff(np.log(lrs))
    grads = np.where(np.isnan(grads), np.inf, grads)
    lr = float(lrs[int(np.argmin(grads))])
    return lr, (lr, float(losses[int(np.argmin(np.abs(lrs - lr)))]))


def minimum(lrs, losses) -> tuple[float, tuple[float, float]]:
    """fastai's `minimum`: one tenth of the rate at the lowest loss."""
    lrs = np.asarray(lrs, np.float64)
    losses = np.asarray(losses, np.float64)
    i = int(np.argmin(losses))
    return float(lrs[i]) / 10.0, (float(lrs[i]), float(losses[i]))


def lr_range_test(
    landscape,
    optimizer,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    steps: int = 100,
    start=None,
    hparams: dict | None = None,
    noise: float = 0.0,
    seed: int = 0,
) -> RangeTest:
    """The LR range test (Smith 2017; fastai's `Learner.lr_find`), on a 2-D surface.

    One descent from `start` whose learning rate grows exponentially,
    ``lr_i = start_lr * (end_lr / start_lr) ** (i / steps)`` for step i = 0 .. steps-1
    (fastai's `SchedExp` at pos = i / num_it). The loss at each step is smoothed with an
    exponential moving average (beta = 0.98, bias-corrected) and the test stops once the
    smoothed loss exceeds 4x the best so far (fastai's divergence criterion); a descent that
    diverges counts as an infinite loss. As fastai's `lr_find`, the suggestions are computed on
    the recorded values without the first steps // 10 and the last 5 (and before any NaN):
    `valley` (fastai's default), `steep` and `minimum` (the rate at the lowest loss / 10).

    Reference: fastai/callback/schedule.py (`LRFinder`, `valley`, `steep`, `minimum`,
    `lr_find`) and fastai/learner.py (`AvgSmoothLoss`); L. N. Smith (2017), Cyclical Learning
    Rates for Training Neural Networks.

    Args:
      landscape, optimizer: a spec or registry key.
      start_lr, end_lr: the ends of the ramp, 0 < start_lr < end_lr.
      steps: the number of steps (fastai's num_it), 6 .. `MAX_STEPS` (fastai raises a smaller
        num_it to 6).
      start, hparams: as in `lr_sweep`.
      noise, seed: optional Gaussian gradient noise (a deterministic surface has none).

    Returns:
      A `RangeTest`.

    Example:
      >>> r = lr_range_test("ill_conditioned_bowl", "sgd")
      >>> r.stopped_early, r.diverged_at > 0   # GD diverges once the ramp passes 0.5
      (True, True)
      >>> bool(r.lrs[r.window[0]] <= r.valley <= r.lrs[r.window[1]])
      True
    """
    from optim.runner import run_arrays

    ls = resolve_landscape(landscape)
    spec = resolve_optimizer(optimizer)
    lo = _check_positive(start_lr, "start_lr")
    hi = _check_positive(end_lr, "end_lr")
    if not lo < hi:
        raise ValueError(f"start_lr must be below end_lr, got {start_lr=} and {end_lr=}")
    steps = _check_steps(steps, low=6)
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be finite and >= 0, got {noise!r}")
    lrs = lo * (hi / lo) ** (np.arange(steps) / steps)
    traj = run_arrays(
        ls,
        spec,
        lrs=lrs.astype(np.float32),
        start=_start(ls, start),
        hparams=hparam_values(spec, ls, hparams),
        noise=noise,
        seed=int(seed),
        plateau_settings=PLATEAU_DEFAULTS,
    )
    raw = np.asarray(traj.loss[:steps], np.float64)
    div = int(traj.diverged_at)
    if div >= 0:
        raw[div:] = np.inf  # points[div] is the first bad point: its loss blew up
    smoothed = smooth(raw)
    n_rec = stop_index(smoothed)
    smoothed[n_rec:] = np.nan
    # fastai's lr_find: lrs[num_it // 10 : -5] of the recorded values, cut at the first NaN.
    first, last = steps // 10, n_rec - 5
    seg_l, seg_s = lrs[first:last], smoothed[first:last]
    nan = np.flatnonzero(np.isnan(seg_s))
    if nan.size:
        seg_l, seg_s = seg_l[: nan[0]], seg_s[: nan[0]]
    span = (-1, -1)
    if seg_s.size >= 2:
        a, b = valley_extent(seg_s)
        span = (first + max(a, 0), first + b)
        v, vp = valley(seg_l, seg_s)
        s, sp = steep(seg_l, seg_s)
        m, mp = minimum(seg_l, seg_s)
    else:
        v = s = m = float("nan")
        vp = sp = mp = (float("nan"), float("nan"))
    return RangeTest(
        lrs=lrs,
        raw_loss=raw,
        smooth_loss=smoothed,
        n_recorded=n_rec,
        stopped_early=n_rec < steps,
        diverged_at=div,
        valley=v,
        steep=s,
        minimum=m,
        valley_point=vp,
        steep_point=sp,
        minimum_point=mp,
        window=(first, first + seg_s.size - 1),
        valley_span=span,
    )


class Comparison(NamedTuple):
    """The range test's suggestion set beside the sweep's best rate.

    Attributes:
      suggestion: the range test's `valley` (fastai's default suggestion).
      best: the sweep's best rate.
      ratio: max(suggestion / best, best / suggestion) (>= 1), or NaN.
      within: ratio <= factor.
      factor: the agreement factor (3).
      valley_fraction: share of the suggestions' window covered by the longest valley: near 1,
        the loss fell over the whole ramp and the valley's suggestion is set by the ramp's
        ends, not by the surface.
      nearest: the suggestion ("valley", "steep" or "minimum / 10") closest to `best` in
        ratio, and its ratio.
      best_band: the sweep's band at its best rate.
    """

    suggestion: float
    best: float
    ratio: float
    within: bool
    factor: float
    valley_fraction: float
    nearest: tuple[str, float, float]
    best_band: str


def _ratio(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b) and a > 0 and b > 0):
        return float("nan")
    return max(a / b, b / a)


def compare(rt: RangeTest, sweep: LRSweep, factor: float = 3.0) -> Comparison:
    """Does the range test's valley lie within `factor` of the sweep's best rate?

    NaN on either side (no suggestion, every rate diverged) counts as not within.
    """
    ratio = _ratio(rt.valley, sweep.best_lr)
    first, last = rt.window
    a, b = rt.valley_span
    width = max(last - first, 1)
    frac = (b - a) / width if a >= 0 else float("nan")
    options = [("valley", rt.valley), ("steep", rt.steep), ("minimum / 10", rt.minimum)]
    scored = [(name, lr, _ratio(lr, sweep.best_lr)) for name, lr in options]
    finite = [s for s in scored if math.isfinite(s[2])]
    nearest = min(finite, key=lambda s: s[2]) if finite else ("valley", rt.valley, float("nan"))
    band = str(sweep.band[sweep.best_index]) if sweep.best_index >= 0 else "diverges"
    return Comparison(
        suggestion=rt.valley,
        best=sweep.best_lr,
        ratio=ratio,
        within=bool(math.isfinite(ratio) and ratio <= factor),
        factor=factor,
        valley_fraction=frac,
        nearest=nearest,
        best_band=band,
    )


# --------------------------------------------------------------------------------------------
# Learning rate x momentum phase diagram.


class PhaseDiagram(NamedTuple):
    """Steps to converge over a grid of (learning rate, momentum).

    Attributes:
      lrs: (L,) float64, the learning rates (columns).
      momenta: (M,) float64, the momentum values (rows).
      hit_step: (M, L) int32, steps to f* + eps, or -1.
      final_loss: (M, L) float32.
      diverged: (M, L) bool.
      best_lr, best_momentum: the cell with the fewest steps (ties: the middle one); NaN if no
        cell converged.
      best_steps: its step count, or -1.
      param: the hyperparameter on the vertical axis ("momentum").
      steps, eps: as in `lr_sweep`.
    """

    lrs: np.ndarray
    momenta: np.ndarray
    hit_step: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray
    best_lr: float
    best_momentum: float
    best_steps: int
    param: str
    steps: int
    eps: float


def phase_diagram(
    landscape,
    optimizer="momentum",
    *,
    lrs,
    momenta,
    steps: int,
    start=None,
    hparams: dict | None = None,
    eps: float = 1e-3,
    param: str = "momentum",
) -> PhaseDiagram:
    """Heavy-ball momentum over a learning rate x momentum grid, in one vmapped call.

    Each cell runs ``m <- g + mu m; x <- x - eta m`` (optax's convention, the same iterates as
    Polyak's x_{t+1} = x_t - eta g_t + mu (x_t - x_{t-1})) for `steps` steps from `start`.
    On a quadratic with curvatures l_min <= l_max (condition number k) the fastest rate is
    Polyak's: eta* = (2 / (sqrt(l_min) + sqrt(l_max)))^2, mu* = ((sqrt(k) - 1)/(sqrt(k) + 1))^2
    (Goh 2017, "Why Momentum Really Works").

    Args:
      landscape, optimizer: a spec or key; the optimizer must have the hyperparameter `param`
        ("momentum" for momentum and nesterov).
      lrs: (L,) learning rates > 0; momenta: (M,) values of `param`; L, M <= `MAX_PHASE_SIDE`.
      steps, start, hparams, eps: as in `lr_sweep`.

    Returns:
      A `PhaseDiagram`; arrays are indexed [momentum, lr].
    """
    ls = resolve_landscape(landscape)
    spec = resolve_optimizer(optimizer)
    names = [h.name for h in spec.hparams]
    if param not in names:
        valid = ", ".join(names) or "none"
        raise ValueError(f"{spec.key} has no hyperparameter {param!r} to sweep; it has: {valid}")
    rates = _check_rates(lrs, "lrs", MAX_PHASE_SIDE)
    mus = np.asarray(momenta, np.float64).reshape(-1)
    if mus.size == 0 or mus.size > MAX_PHASE_SIDE:
        raise ValueError(f"momenta must have 1 to {MAX_PHASE_SIDE} values, got {mus.size}")
    h = next(h for h in spec.hparams if h.name == param)
    if not np.all(np.isfinite(mus)) or mus.min() < h.low or mus.max() > h.high:
        raise ValueError(f"every {param} must lie in [{h.low}, {h.high}]")
    steps = _check_steps(steps)
    eps = _check_positive(eps, "eps")
    hp = hparam_values(spec, ls, hparams)
    grid_lr, grid_mu = np.meshgrid(rates, mus)  # [momentum, lr]
    hp[param] = grid_mu.reshape(-1)
    b = grid_lr.size
    stats = _run_summaries(
        ls,
        spec,
        shape=np.ones(steps, np.float32),
        starts=np.broadcast_to(_start(ls, start), (b, 2)),
        scales=grid_lr.reshape(-1),
        hparams=hp,
        eps=eps,
    )
    shape = grid_lr.shape
    hit = stats.hit_step.reshape(shape).astype(np.int32)
    diverged = (stats.diverged_at >= 0).reshape(shape)
    threshold = ls.min_value + eps
    best = best_index(stats.hit_step, stats.diverged_at >= 0, stats.final_loss, threshold)
    converged = best >= 0 and stats.hit_step[best] >= 0 and stats.final_loss[best] <= threshold
    return PhaseDiagram(
        lrs=rates,
        momenta=mus,
        hit_step=hit,
        final_loss=stats.final_loss.reshape(shape).astype(np.float32),
        diverged=diverged,
        best_lr=float(grid_lr.reshape(-1)[best]) if converged else float("nan"),
        best_momentum=float(grid_mu.reshape(-1)[best]) if converged else float("nan"),
        best_steps=int(stats.hit_step[best]) if converged else -1,
        param=param,
        steps=steps,
        eps=eps,
    )


def polyak_optimum(l_min: float, l_max: float) -> tuple[float, float]:
    """Polyak's optimal heavy-ball (lr, momentum) for curvatures l_min <= l_max:
    ((2 / (sqrt(l_min) + sqrt(l_max)))^2, ((sqrt(k) - 1) / (sqrt(k) + 1))^2), k = l_max/l_min.
    """
    a, b = math.sqrt(l_min), math.sqrt(l_max)
    return (2.0 / (a + b)) ** 2, ((b - a) / (b + a)) ** 2


# --------------------------------------------------------------------------------------------
# Basins of attraction.


class Basins(NamedTuple):
    """Where descents from a grid of start points end.

    Attributes:
      xs: (n,) x of the grid columns; ys: (n,) y of the rows.
      label: (n, n) int16 [row = y, column = x]: the index into `minima` of the minimum the run
        ended within `tol` of, `ELSEWHERE` (-1) if none, `DIVERGED` (-2) if it diverged.
      settled_at: (n, n) int32, the step after which it stayed within `tol` of that minimum,
        or -1.
      final_loss: (n, n) float32.
      minima: the landscape's `all_minima` (global first, then local).
      n_global: how many of `minima` are global.
      tol: the distance that counts as "at a minimum".
      steps: steps per run.
    """

    xs: np.ndarray
    ys: np.ndarray
    label: np.ndarray
    settled_at: np.ndarray
    final_loss: np.ndarray
    minima: tuple[tuple[float, float], ...]
    n_global: int
    tol: float
    steps: int


def default_tolerance(landscape: Landscape) -> float:
    """2 % of the window's diagonal, but under half the distance between the closest two
    minima, so that a point can never count as being at two of them."""
    (x0, x1), (y0, y1) = landscape.window
    tol = 0.02 * math.hypot(x1 - x0, y1 - y0)
    pts = landscape.all_minima
    for i, a in enumerate(pts):
        for b in pts[i + 1 :]:
            tol = min(tol, 0.45 * math.hypot(a[0] - b[0], a[1] - b[1]))
    return tol


def basins(
    landscape,
    optimizer,
    *,
    lr: float,
    steps: int,
    resolution: int = 128,
    hparams: dict | None = None,
    tol: float | None = None,
    schedule: str = "constant",
    schedule_params: dict | None = None,
) -> Basins:
    """Basins of attraction: descend from every point of a resolution x resolution grid over
    the landscape's window, and label each start by the minimum it reaches.

    A run is labelled with minimum i of ``landscape.all_minima`` when its final point lies
    within `tol` of it (the nearest; `tol` is below half the gap between minima), `ELSEWHERE`
    otherwise, and `DIVERGED` when it diverged. `settled_at` says how fast: the step from which
    the point stayed within `tol`. One jitted call vmapped over the starts.

    Args:
      landscape, optimizer: a spec or registry key.
      lr: the learning rate (the schedule's base rate).
      steps: steps per run, 1 .. `MAX_STEPS`.
      resolution: points per side, 2 .. `MAX_BASIN_SIDE`.
      hparams, schedule, schedule_params: as in `lr_sweep`.
      tol: the distance counted as "at a minimum"; `default_tolerance` if None.
    """
    ls = resolve_landscape(landscape)
    spec = resolve_optimizer(optimizer)
    lr = _check_positive(lr, "lr")
    steps = _check_steps(steps)
    if isinstance(resolution, bool) or not float(resolution).is_integer():
        raise ValueError(f"resolution must be a whole number, got {resolution!r}")
    n = int(resolution)
    if not 2 <= n <= MAX_BASIN_SIDE:
        raise ValueError(
            f"resolution must be between 2 and {MAX_BASIN_SIDE} points per side "
            f"({MAX_BASIN_SIDE}x{MAX_BASIN_SIDE} starts at most), got {n}"
        )
    tol = default_tolerance(ls) if tol is None else _check_positive(tol, "tol")
    (x0, x1), (y0, y1) = ls.window
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    starts = np.stack([gx.reshape(-1), gy.reshape(-1)], axis=1)
    stats = _run_summaries(
        ls,
        spec,
        shape=_schedule_shape(schedule, steps, schedule_params),
        starts=starts,
        scales=np.full(n * n, lr),
        hparams=hparam_values(spec, ls, hparams),
        eps=1e-3,
        track_minima=True,
        tol=tol,
    )
    minima = np.asarray(ls.all_minima, np.float64)
    fp = stats.final_point.astype(np.float64)
    d = np.hypot(fp[:, None, 0] - minima[None, :, 0], fp[:, None, 1] - minima[None, :, 1])
    nearest = np.argmin(d, axis=1)
    label = np.where(d[np.arange(d.shape[0]), nearest] <= tol, nearest, ELSEWHERE)
    label = np.where(stats.diverged_at >= 0, DIVERGED, label)
    settled = np.where(label >= 0, stats.settled_at, -1)
    return Basins(
        xs=xs,
        ys=ys,
        label=label.reshape(n, n).astype(np.int16),
        settled_at=settled.reshape(n, n).astype(np.int32),
        final_loss=stats.final_loss.reshape(n, n).astype(np.float32),
        minima=tuple(ls.all_minima),
        n_global=len(ls.minima),
        tol=float(tol),
        steps=steps,
    )


# --------------------------------------------------------------------------------------------
# Noise ensembles.


class Ensemble(NamedTuple):
    """K descents that differ only in the seed of their gradient noise.

    Attributes:
      points: (K, T+1, 2) paths (frozen at the last good point after a divergence).
      loss: (K, T+1) float64, f along each path; +inf from a divergence on.
      quantiles: (3, T+1) float64, the 10 %, 50 % and 90 % quantiles of the loss over the K
        runs at each step (linear interpolation; +inf where the runs above it diverged).
      diverged_at: (K,) int32.
      seeds: (K,) int32.
      noise: the noise's standard deviation.
    """

    points: np.ndarray
    loss: np.ndarray
    quantiles: np.ndarray
    diverged_at: np.ndarray
    seeds: np.ndarray
    noise: float


QUANTILES = (0.1, 0.5, 0.9)


def noise_ensemble(
    landscape,
    optimizer,
    *,
    lr: float,
    steps: int,
    noise: float,
    seeds: int = 32,
    start=None,
    hparams: dict | None = None,
    schedule: str = "constant",
    schedule_params: dict | None = None,
    base_seed: int = 0,
) -> Ensemble:
    """K runs with gradients g + noise * z, z ~ N(0, I), seeds base_seed .. base_seed + K - 1.

    One jitted call of `runner.simulate` vmapped over the seed, recording whole paths.

    Args:
      landscape, optimizer: a spec or registry key.
      lr: the base learning rate; steps: 1 .. `MAX_STEPS`.
      noise: the standard deviation of the gradient noise (>= 0; 0 makes all runs coincide).
      seeds: K, 1 .. `MAX_SEEDS`.
      start, hparams, schedule, schedule_params: as in `lr_sweep`.
    """
    ls = resolve_landscape(landscape)
    spec = resolve_optimizer(optimizer)
    lr = _check_positive(lr, "lr")
    steps = _check_steps(steps)
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be finite and >= 0, got {noise!r}")
    if isinstance(seeds, bool) or not float(seeds).is_integer() or not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"seeds must be a whole number from 1 to {MAX_SEEDS}, got {seeds!r}")
    k = int(seeds)
    size = _batch_bucket(k)
    seed_arr = int(base_seed) + np.arange(size, dtype=np.int64)
    shape = _schedule_shape(schedule, steps, schedule_params) * np.float32(lr)
    hp = hparam_values(spec, ls, hparams)
    traj = simulate(
        ls,
        spec,
        plateau=False,
        record=True,
        noisy=True,
        start=_start(ls, start),
        lrs=_scan_lrs(shape, spec),
        lr_scale=np.float32(1.0),
        hparams={name: np.float32(v) for name, v in hp.items()},
        noise=np.float32(noise),
        seed=seed_arr.astype(np.int32),
        plateau_settings=np.asarray(PLATEAU_DEFAULTS, np.float32),
        eps=np.float32(1e-3),
        bound=np.float32(DIVERGENCE_BOUND),
    )
    points = np.asarray(traj.points)[:k, : steps + 1]
    loss = np.asarray(traj.loss, np.float64)[:k, : steps + 1]
    div = np.asarray(traj.diverged_at)[:k]
    div = np.where((div >= 0) & (div <= steps), div, -1).astype(np.int32)
    t = np.arange(steps + 1)
    loss = np.where((div[:, None] >= 0) & (t[None, :] >= div[:, None]), np.inf, loss)
    with np.errstate(invalid="ignore"):
        q = np.quantile(loss, QUANTILES, axis=0)
    q = np.where(np.isnan(q), np.inf, q)  # inf - inf in the interpolation: the band is inf there
    return Ensemble(
        points=points,
        loss=loss,
        quantiles=q,
        diverged_at=div,
        seeds=seed_arr[:k].astype(np.int32),
        noise=noise,
    )
