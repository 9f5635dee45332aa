"""The engine: one jitted `lax.scan` per (landscape, optimizer, schedule kind) that runs descents.

Structure is static (which landscape, optimizer, whether the learning rate is loss-driven,
whether whole paths are recorded); every number is traced (start point, the learning rate of
every step, hyperparameters, gradient-noise scale, seed, reduce-on-plateau settings), so moving
a numeric control never recompiles. Any input may carry a leading batch axis: the batched ones
are mapped with `jax.vmap`, which turns one descent into a sweep over learning rates, start
points or seeds at no extra code.

Divergence is data, never an exception: the first step whose loss or gradient is not finite, or
whose new point leaves the box |p| <= bound, is recorded in `diverged_at` and the trajectory is
frozen at its last good point, so every array stays finite and plots never receive inf.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from landscapes.spec import Landscape
from optim.spec import OptimizerSpec

# |p| beyond this counts as divergence. In float32 SGD on Rosenbrock reaches inf 2 to 5 steps
# after lr >= 5e-3; this bound catches it 1 to 3 steps earlier, at no measurable cost.
DIVERGENCE_BOUND = 1e6

# Reduce-on-plateau settings, in the order of the traced `plateau` vector (PyTorch's defaults).
PLATEAU_FIELDS = ("factor", "patience", "threshold", "cooldown", "min_lr_factor")
PLATEAU_DEFAULTS = (0.1, 10.0, 1e-4, 0.0, 0.0)
_PLATEAU_EPS = 1e-8  # PyTorch skips a reduction smaller than this

# XLA's CPU backend vectorises for 256-bit registers by default. On AVX-512 cores 512-bit
# vectors made a sweep's step 4% (Adam) to 20% (SGD) faster here (bench/bench_engine.py).
# Elementwise IEEE arithmetic gives the same bits at either width (XLA contracts no FMAs
# without fast-math), and a CPU without AVX-512 simply keeps 256-bit vectors.
COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512}


class Trajectory(NamedTuple):
    """One descent (or a batch of them, with a leading batch axis on every field).

    Attributes:
      points: (T+1, 2) positions; points[0] is the start. Frozen after divergence.
      loss: (T+1,) f at each point (finite: the last good value after divergence).
      grads: (T, 2) the gradient used at step t (with noise, if any).
      updates: (T, 2) the step taken at step t: points[t+1] - points[t] before freezing.
      lr: (T,) the learning rate in force at step t (after reduce-on-plateau).
      first_moment: (T, 2) momentum / first-moment estimate after step t (zeros if none).
      second_moment: (T, 2) second-moment estimate after step t (zeros if none).
      finite: (T+1,) True while the point is a real iterate (False from divergence on).
      diverged_at: () int32, the step k (1..T) whose update left the box |p| <= bound or met a
        non-finite loss or gradient, so points[k:] are frozen copies of points[k-1]; or -1.
    """

    points: jax.Array
    loss: jax.Array
    grads: jax.Array
    updates: jax.Array
    lr: jax.Array
    first_moment: jax.Array
    second_moment: jax.Array
    finite: jax.Array
    diverged_at: jax.Array


class Summary(NamedTuple):
    """What a sweep keeps of each descent when whole paths are not recorded.

    Attributes:
      final_point: (2,) the last good point.
      final_loss: () f there.
      hit_step: () int32, first step t with loss[t] <= f* + eps, or -1.
      diverged_at: () int32, as in `Trajectory`.
    """

    final_point: jax.Array
    final_loss: jax.Array
    hit_step: jax.Array
    diverged_at: jax.Array


def _moment(state, name: str | None) -> jax.Array:
    if name is None:
        return jnp.zeros(2, jnp.float32)
    value = optax.tree_utils.tree_get(state, name)
    return jnp.broadcast_to(jnp.asarray(value, jnp.float32), (2,))


def _plateau_update(carry, loss, settings, base_lr):
    """One `ReduceLROnPlateau.step(loss)` (mode min, relative threshold), as PyTorch does it.

    The same steps as `optim.schedules.plateau_update`, which states them in plain Python and
    is checked against torch itself; `tests/test_runner.py` checks this one against that.
    """
    lr, best, num_bad, cooldown_left = carry
    factor, patience, threshold, cooldown, min_lr_factor = settings
    min_lr = min_lr_factor * base_lr
    better = loss < best * (1.0 - threshold)
    best = jnp.where(better, loss, best)
    num_bad = jnp.where(better, 0.0, num_bad + 1.0)
    in_cooldown = cooldown_left > 0
    cooldown_left = jnp.where(in_cooldown, cooldown_left - 1.0, cooldown_left)
    num_bad = jnp.where(in_cooldown, 0.0, num_bad)
    reduce = num_bad > patience
    new_lr = jnp.maximum(lr * factor, min_lr)
    lr = jnp.where(reduce & (lr - new_lr > _PLATEAU_EPS), new_lr, lr)
    cooldown_left = jnp.where(reduce, cooldown, cooldown_left)
    num_bad = jnp.where(reduce, 0.0, num_bad)
    return lr, best, num_bad, cooldown_left


def _simulate(
    landscape: Landscape,
    spec: OptimizerSpec,
    plateau: bool,
    record: bool,
    noisy: bool,
    start,
    lrs,
    lr_scale,
    hparams: dict,
    noise,
    seed,
    plateau_settings,
    eps,
    bound,
    active_steps,
):
    """One descent of `len(lrs)` steps, of which the first `active_steps` count. Returns a `Trajectory` (record) or a `Summary`."""
    f = landscape.fn
    value_and_grad = jax.value_and_grad(f)
    tx = optax.inject_hyperparams(spec.factory)(learning_rate=lr_scale * lrs[0], **hparams)
    start = jnp.asarray(start, jnp.float32)
    opt_state = tx.init(start)
    key = jax.random.PRNGKey(seed)
    f_star = jnp.float32(landscape.min_value)

    def step(carry, inputs):
        p, state, p_good, alive, n_ok, last_loss, sched, hit = carry
        t, scheduled_lr, kick = inputs
        lr = sched[0] if plateau else lr_scale * scheduled_lr
        v, g = value_and_grad(p)
        if noisy:
            g = g + noise * kick
        state = state._replace(hyperparams={**state.hyperparams, "learning_rate": lr})
        u, state = tx.update(g, state, p, value=v)
        p = p + u
        # Elementwise tests only (a reduction over the two coordinates costs 3x in a sweep):
        # |nan| <= bound is False, so a non-finite gradient or point fails the box test too.
        ok = (jnp.abs(v) < jnp.inf) & (jnp.abs(p[0]) <= bound) & (jnp.abs(p[1]) <= bound)
        # Steps past `active_steps` are padding (shapes are bucketed so nearby step counts
        # share one compile): they change nothing that is reported, for any optimizer.
        active = t < active_steps
        keep = alive & ok & active
        hit = jnp.where((hit < 0) & alive & active & (v <= f_star + eps), n_ok, hit)
        # The iterate and the optimizer state run on freely after a divergence (into inf or
        # nan, which costs nothing); only the last good point is kept. Selecting the whole
        # optimizer state every step instead made a sweep several times slower.
        p_good = jnp.where(keep, p, p_good)
        if plateau:
            sched = _plateau_update(sched, v, plateau_settings, lr_scale * lrs[0])
        n_ok = n_ok + keep.astype(jnp.int32)
        if not record:
            return (
                p,
                state,
                p_good,
                jnp.where(active, keep, alive),
                n_ok,
                last_loss,
                sched,
                hit,
            ), None
        v_safe = jnp.where(alive & (jnp.abs(v) < jnp.inf), v, last_loss)
        out = (
            jnp.where(keep, u, 0.0),
            jnp.where(alive, g, 0.0),
            lr,
            jnp.where(keep, _moment(state, spec.first_moment), 0.0),
            jnp.where(keep, _moment(state, spec.second_moment), 0.0),
            alive,
            p_good,
            v_safe,
        )
        return (p, state, p_good, jnp.where(active, keep, alive), n_ok, v_safe, sched, hit), out

    inf = jnp.float32(jnp.inf)
    sched0 = (lr_scale * lrs[0], inf, jnp.float32(0.0), jnp.float32(0.0))
    carry0 = (
        start,
        opt_state,
        start,
        jnp.bool_(True),
        jnp.int32(0),
        f(start),
        sched0,
        jnp.int32(-1),
    )
    steps = jnp.arange(lrs.shape[0], dtype=jnp.int32)
    # All the noise drawn before the loop, vectorised (inside it costs ~12 us a step on the
    # CPU); one key per step, so the first T kicks do not depend on how long the run is.
    kicks = (
        jax.vmap(lambda t: jax.random.normal(jax.random.fold_in(key, t), (2,), jnp.float32))(steps)
        if noisy
        else lrs
    )
    carry, out = jax.lax.scan(step, carry0, (steps, lrs, kicks))
    _, _, p_final, alive, n_ok, last_loss, _, hit = carry
    # The k-th update (k = n_ok + 1) is the one that failed: points[k] is the first bad point.
    diverged_at = jnp.where(alive, -1, n_ok + 1).astype(jnp.int32)
    v_final = f(p_final)
    v_final = jnp.where(jnp.abs(v_final) < jnp.inf, v_final, last_loss)
    # The final point has no step of its own: check its loss here.
    hit = jnp.where((hit < 0) & alive & (v_final <= f_star + eps), n_ok, hit)
    if not record:
        return Summary(p_final, v_final, hit, diverged_at)
    updates, grads, lr_used, m1, m2, was_alive, pts, losses = out
    points = jnp.concatenate([start[None], pts], axis=0)
    loss = jnp.concatenate([losses, v_final[None]])
    finite = jnp.concatenate([was_alive, alive[None]])
    # Freezing already holds the points finite; the loss of a frozen point is its last good one.
    return Trajectory(points, loss, grads, updates, lr_used, m1, m2, finite, diverged_at)


def _batched(
    landscape: Landscape,
    spec: OptimizerSpec,
    *,
    plateau: bool,
    record: bool,
    noisy: bool,
    start,
    lrs,
    lr_scale,
    hparams: dict,
    noise,
    seed,
    plateau_settings,
    eps,
    bound,
    active_steps=None,
):
    """Run one descent or a batch of them, all under one compiled scan.

    Batching is decided by shape: `start` (B, 2), `lrs` (B, T), any hyperparameter, `noise`,
    `seed`, `eps` or `plateau_settings` with a leading axis of size B is mapped over with
    `jax.vmap`; the unbatched ones are shared. With nothing batched it is a single descent.

    Args:
      landscape, spec: static; which surface and which optimizer.
      plateau: static; reduce-on-plateau drives the learning rate (starting from lrs[0]).
      record: static; return whole paths (`Trajectory`) or only a `Summary` (sweeps).
      noisy: static; add gradient noise. Random numbers cost more than the rest of a step, so
        a sweep without noise leaves them out; a single run keeps them in (a noise slider then
        compiles nothing).
      start: (2,) float32 start point.
      lrs: (T,) float32 learning rate of every step.
      lr_scale: float32 factor on `lrs`. A sweep over learning rates batches this scalar and
        shares `lrs` (the schedule's shape): batching the whole (B, T) array instead runs 3x
        slower, as each step then gathers a column.
      hparams: {name: float32 scalar} for every hyperparameter of `spec`.
      noise: float32 standard deviation of additive Gaussian gradient noise.
      seed: int32 seed of that noise.
      plateau_settings: (5,) float32, see `PLATEAU_FIELDS`.
      eps: float32; `hit_step` is the first step with loss <= f* + eps.
      bound: float32; |p| beyond it counts as divergence.
      active_steps: int32; only the first `active_steps` steps count (the rest is padding
        to a bucketed length, exact for every optimizer). Default: all of them.
    """
    if active_steps is None:
        active_steps = np.int32(lrs.shape[-1])
    args = (start, lrs, lr_scale, hparams, noise, seed, plateau_settings, eps, bound, active_steps)
    batched_ndim = (1, 1, 0, 0, 0, 0, 1, 0, 0, 0)
    axes = tuple(
        jax.tree_util.tree_map(lambda a, n=n: 0 if jnp.ndim(a) > n else None, arg)
        for arg, n in zip(args, batched_ndim, strict=True)
    )
    body = functools.partial(_simulate, landscape, spec, plateau, record, noisy)
    if all(a is None for a in jax.tree_util.tree_leaves(axes, is_leaf=lambda x: x is None)):
        return body(*args)
    return jax.vmap(body, in_axes=axes)(*args)


# One jitted function per landscape, in a bounded LRU. jax.jit keeps every static argument it
# has seen (and its executables) for as long as the function lives, so a single jitted
# function would grow without bound as visitors type formulas; evicting a landscape's function
# frees its executables. Registry surfaces fit in it many times over.
_MAX_JITTED_LANDSCAPES = 48
_jitted: OrderedDict[Landscape, Callable] = OrderedDict()
_jitted_lock = threading.Lock()


def _jit_for(landscape: Landscape) -> Callable:
    with _jitted_lock:
        fn = _jitted.get(landscape)
        if fn is None:
            fn = jax.jit(
                functools.partial(_batched, landscape),
                static_argnames=("spec", "plateau", "record", "noisy"),
                compiler_options=COMPILER_OPTIONS,
            )
            _jitted[landscape] = fn
            while len(_jitted) > _MAX_JITTED_LANDSCAPES:
                _jitted.popitem(last=False)
        else:
            _jitted.move_to_end(landscape)
        return fn


def compiled_count() -> int:
    """How many compiled variants the engine holds (tests use it to prove nothing recompiles)."""
    with _jitted_lock:
        return sum(fn._cache_size() for fn in _jitted.values())


def simulate(landscape: Landscape, spec: OptimizerSpec, **kwargs):
    """Run one descent or a batch of them under one compiled scan; see `_batched` for the
    arguments. Compiled once per (landscape, optimizer, plateau, record, noisy, shapes)."""
    return _jit_for(landscape)(spec=spec, **kwargs)


# --------------------------------------------------------------------------------------------
# The convenience call for notebooks, scripts and the page.


_BUCKETS = (64, 128, 256, 512, 1024, 2048, 5000, 8192)


def bucket_steps(steps: int) -> int:
    """Round a step count up so that nearby counts share one compiled scan."""
    for size in _BUCKETS:
        if steps <= size:
            return size
    return steps


def resolve_landscape(landscape) -> Landscape:
    if isinstance(landscape, Landscape):
        return landscape
    from landscapes import get_landscape

    return get_landscape(landscape)


def resolve_optimizer(optimizer) -> OptimizerSpec:
    if isinstance(optimizer, OptimizerSpec):
        return optimizer
    from optim.optimizers import get_optimizer

    return get_optimizer(optimizer)


def hparam_values(spec: OptimizerSpec, landscape: Landscape, hparams: dict | None) -> dict:
    """Every hyperparameter of `spec`: given values clipped into range, defaults for the rest.

    Polyak's step size needs f*, which every landscape knows: it defaults to the surface's own.
    """
    given = dict(hparams or {})
    unknown = set(given) - {h.name for h in spec.hparams}
    if unknown:
        valid = ", ".join(h.name for h in spec.hparams) or "none"
        raise ValueError(f"{spec.key} has no hyperparameter {sorted(unknown)}; valid: {valid}")
    values = {}
    for h in spec.hparams:
        if h.name in given:
            values[h.name] = h.clip(given[h.name])
        elif h.name == "f_min":
            values[h.name] = float(landscape.min_value)
        else:
            values[h.name] = h.default
    return values


def run(
    landscape,
    optimizer,
    *,
    lr: float,
    steps: int,
    start=None,
    schedule: str = "constant",
    schedule_params: dict | None = None,
    hparams: dict | None = None,
    noise: float = 0.0,
    seed: int = 0,
    eps: float = 1e-3,
) -> Trajectory:
    """Descend `landscape` with `optimizer` for `steps` steps; return the whole `Trajectory`.

    Args:
      landscape: a `Landscape` or a registry key ("rosenbrock").
      optimizer: an `OptimizerSpec` or a registry key ("adam").
      lr: the base learning rate (what the schedule scales).
      steps: the number of optimizer steps.
      start: (x, y); the landscape's recommended start if None.
      schedule: a key of `optim.schedules.SCHEDULES`.
      schedule_params: that schedule's parameters (defaults for the rest).
      hparams: the optimizer's hyperparameters (defaults for the rest).
      noise: standard deviation of Gaussian noise added to every gradient.
      seed: the noise's seed.
      eps: tolerance for "reached the minimum" (used by summaries).

    Returns:
      A `Trajectory` of NumPy-convertible arrays; `diverged_at` is -1 if it did not diverge.

    Example:
      >>> import optim
      >>> traj = optim.run("ill_conditioned_bowl", "sgd", lr=0.6, steps=100)
      >>> int(traj.diverged_at) > 0   # 0.6 > 2 / lambda_max = 0.5
      True
    """
    from optim.schedules import get_schedule, lr_schedule
    from optim.schedules import schedule_params as schedule_params_filled

    ls = resolve_landscape(landscape)
    spec = resolve_optimizer(optimizer)
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    lr_values = np.asarray(lr_schedule(schedule, lr, steps, schedule_params), np.float32)
    sched = get_schedule(schedule)
    plateau_settings = PLATEAU_DEFAULTS
    if sched.loss_driven:
        merged = schedule_params_filled(schedule, schedule_params)
        plateau_settings = tuple(float(merged[k]) for k in PLATEAU_FIELDS)
    return run_arrays(
        ls,
        spec,
        lrs=lr_values,
        start=ls.start if start is None else start,
        hparams=hparam_values(spec, ls, hparams),
        noise=noise,
        seed=seed,
        plateau=sched.loss_driven,
        plateau_settings=plateau_settings,
        eps=eps,
    )


def run_arrays(
    landscape: Landscape,
    spec: OptimizerSpec,
    *,
    lrs: np.ndarray,
    start,
    hparams: dict,
    noise: float = 0.0,
    seed: int = 0,
    plateau: bool = False,
    plateau_settings=PLATEAU_DEFAULTS,
    eps: float = 1e-3,
    pad_to: int | None = None,
) -> Trajectory:
    """`run` from ready-made arrays: the per-step learning rates and complete hyperparameters.

    The scan runs `pad_to` steps (by default the step count rounded up to a bucket) and the
    result is cut back to `len(lrs)`: a descent's first T steps do not depend on later ones,
    so padding is exact, and nearby step counts share one compiled function.
    """
    lrs = np.asarray(lrs, np.float32)
    steps = lrs.shape[0]
    length = max(pad_to or bucket_steps(steps), steps)
    padded = np.concatenate([lrs, np.full(length - steps, lrs[-1], np.float32)])
    traj = simulate(
        landscape,
        spec,
        plateau=bool(plateau),
        record=True,
        noisy=True,
        start=np.asarray(start, np.float32),
        lrs=padded,
        lr_scale=np.float32(1.0),
        hparams={k: np.float32(v) for k, v in hparams.items()},
        noise=np.float32(noise),
        seed=np.int32(seed),
        plateau_settings=np.asarray(plateau_settings, np.float32),
        eps=np.float32(eps),
        bound=np.float32(DIVERGENCE_BOUND),
    )
    return cut(traj, steps)


def cut(traj: Trajectory, steps: int) -> Trajectory:
    """The first `steps` steps of a (padded) trajectory, as NumPy arrays."""
    t = jax.tree_util.tree_map(np.asarray, traj)
    diverged = int(t.diverged_at)
    return Trajectory(
        points=t.points[: steps + 1],
        loss=t.loss[: steps + 1],
        grads=t.grads[:steps],
        updates=t.updates[:steps],
        lr=t.lr[:steps],
        first_moment=t.first_moment[:steps],
        second_moment=t.second_moment[:steps],
        finite=t.finite[: steps + 1],
        diverged_at=np.int32(diverged if 0 <= diverged <= steps else -1),
    )
