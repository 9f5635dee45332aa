"""Batched descents that keep only their end state: the engine behind every sweep.

`final_states` runs B descents (over learning rates, start points, seeds or hyperparameters)
as one jitted scan and returns a `Summary` per descent: coordinatewise optimizers as one
descent of a (2, B) array (see `ELEMENTWISE`), the rest vmapped over the runner. A large batch
runs as equal parts on every core (`optim.parallel`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optim import parallel
from optim.runner import (
    COMPILER_OPTIONS,
    DIVERGENCE_BOUND,
    PLATEAU_DEFAULTS,
    PLATEAU_FIELDS,
    Summary,
    bucket_steps,
    hparam_values,
    resolve_landscape,
    resolve_optimizer,
    simulate,
)

MAX_BATCH = 65_536  # 256 x 256 starts; a (B,) float32 summary is then 256 KB a field

# Optimizers whose update treats every coordinate on its own (no norms over the parameters).
# For these a batch of B descents can be ONE descent of a (2, B) parameter array: the
# landscape broadcasts over trailing axes and optax's arithmetic is elementwise, so x and y
# each sit in a contiguous row. vmap instead lays the batch out as (B, 2) and every step
# works on strided columns, 2-3x slower. Polyak, Prodigy, DoG, DoWG and COCOB take norms or
# sums over the parameters, and so go through vmap. tests/test_sweep.py checks every entry.
ELEMENTWISE = frozenset(
    {
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
        "rmsprop_centered",
        "adadelta",
        "adam",
        "adamw",
        "adamax",
        "nadam",
        "amsgrad",
        "adabelief",
        "lion",
    }
)


@functools.lru_cache(maxsize=64)
def _coordinatewise(landscape, spec):
    """A jitted summary-only descent of a (2, B) parameter array (see `ELEMENTWISE`).

    The same step, divergence test and bookkeeping as `optim.runner._simulate` with
    record=False, noise off and no plateau; tests/test_sweep.py checks they agree exactly.
    The bookkeeping is lean, as it runs every step for every descent: XLA turns each carried
    array into its own small loop per step, so the counters are float32 (exact below 2**24
    steps) and "still alive" is not carried but read off the count of kept steps. This made
    the step 1.7x faster than carrying a bool and two int32 counters.
    """
    f = landscape.fn
    f_star = np.float32(landscape.min_value)

    @functools.partial(jax.jit, compiler_options=COMPILER_OPTIONS)
    def run(start, *, lrs, lr_scale, hparams, eps, bound, active_steps):
        tx = optax.inject_hyperparams(spec.factory)(learning_rate=lr_scale * lrs[0], **hparams)
        state = tx.init(start)
        size = start.shape[1]

        def step(carry, inputs):
            p, state, p_good, n_ok, hit = carry
            t, scheduled_lr = inputs
            v, pull = jax.vjp(f, p)  # v: (B,), one loss per descent
            (g,) = pull(jnp.ones_like(v))  # descents are independent: the sum's gradient
            state = state._replace(
                hyperparams={**state.hyperparams, "learning_rate": lr_scale * scheduled_lr}
            )
            u, state = tx.update(g, state, p, value=v)
            p = p + u
            t_f = t.astype(jnp.float32)
            alive = n_ok == t_f  # every step before this one was kept
            ok = (jnp.abs(v) < jnp.inf) & (jnp.abs(p[0]) <= bound) & (jnp.abs(p[1]) <= bound)
            active = t < active_steps
            keep = alive & ok & active
            hit = jnp.where((hit < 0) & alive & active & (v <= f_star + eps), t_f, hit)
            p_good = jnp.where(keep, p, p_good)
            return (p, state, p_good, n_ok + keep.astype(jnp.float32), hit), None

        carry0 = (start, state, start, jnp.zeros(size), jnp.full(size, -1.0))
        steps = jnp.arange(lrs.shape[0], dtype=jnp.int32)
        (_, _, p_good, n_ok, hit), _ = jax.lax.scan(step, carry0, (steps, lrs))
        alive = n_ok == jnp.minimum(active_steps, lrs.shape[0]).astype(jnp.float32)
        v_final = f(p_good)
        v_final = jnp.where(jnp.abs(v_final) < jnp.inf, v_final, f(start))
        hit = jnp.where((hit < 0) & alive & (v_final <= f_star + eps), n_ok, hit)
        diverged_at = jnp.where(alive, -1, n_ok + 1).astype(jnp.int32)
        return Summary(p_good.T, v_final, hit.astype(jnp.int32), diverged_at)

    return run


def final_states(
    landscape,
    optimizer,
    *,
    steps: int,
    lr_scale=1.0,
    start=None,
    hparams: dict | None = None,
    batched_hparams: dict | None = None,
    schedule: str = "constant",
    schedule_params: dict | None = None,
    noise: float = 0.0,
    seed=0,
    eps: float = 1e-3,
) -> Summary:
    """B descents at once; only where each ended.

    Any of `lr_scale` (B,), `start` (B, 2), `seed` (B,) or the arrays in `batched_hparams`
    (name -> (B,)) may carry the batch; the rest is shared. The learning rate of step t of
    descent b is ``lr_scale[b] * schedule(t)``, the schedule evaluated at base rate 1 (every
    schedule in `optim.schedules` is proportional to its base rate).

    Returns:
      A `Summary` of NumPy arrays with a leading batch axis.
    """
    from optim.schedules import get_schedule, lr_schedule
    from optim.schedules import schedule_params as filled_schedule_params

    ls = resolve_landscape(landscape)
    spec = resolve_optimizer(optimizer)
    steps = int(steps)
    if not 1 <= steps <= 20_000:
        raise ValueError(f"steps must be between 1 and 20000, got {steps}")
    sched = get_schedule(schedule)
    shape = lr_schedule(schedule, 1.0, steps, schedule_params)
    length = bucket_steps(steps)
    # Steps past `steps` are padding: `active_steps` makes them change nothing reported.
    lrs = np.concatenate([shape, np.full(length - steps, shape[-1], np.float32)])
    plateau = PLATEAU_DEFAULTS
    if sched.loss_driven:
        merged = filled_schedule_params(schedule, schedule_params)
        plateau = tuple(float(merged[k]) for k in PLATEAU_FIELDS)

    batch = {
        "lr_scale": np.asarray(lr_scale, np.float32),
        "start": np.asarray(ls.start if start is None else start, np.float32),
        "seed": np.asarray(seed, np.int32),
    }
    fixed = {k: np.float32(v) for k, v in hparam_values(spec, ls, hparams).items()}
    for name, values in (batched_hparams or {}).items():
        if name not in fixed:
            valid = ", ".join(fixed) or "none"
            raise ValueError(f"{spec.key} has no hyperparameter {name!r}; valid: {valid}")
        batch[f"hp:{name}"] = np.asarray(values, np.float32)
    sizes = {v.shape[0] for k, v in batch.items() if v.ndim == (2 if k == "start" else 1)}
    if len(sizes) > 1:
        raise ValueError(f"batched inputs disagree on the batch size: {sorted(sizes)}")
    size = sizes.pop() if sizes else 1
    if size > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} descents at once, asked for {size}")
    shared = {
        "lrs": lrs,
        "eps": np.float32(eps),
        "bound": np.float32(DIVERGENCE_BOUND),
        "active_steps": np.int32(steps),
    }

    def vmapped(start, lr_scale, seed, hparams):
        return simulate(
            ls,
            spec,
            plateau=sched.loss_driven,
            record=False,
            noisy=bool(noise),
            start=start,
            lr_scale=lr_scale,
            seed=seed,
            hparams=hparams,
            noise=np.float32(noise),
            plateau_settings=np.asarray(plateau, np.float32),
            **shared,
        )

    names = sorted(k for k in batch if k.startswith("hp:"))

    def hparams_of(values):
        return fixed | {k[3:]: v for k, v in zip(names, values, strict=True)}

    if size == 1:
        out = vmapped(
            batch["start"], batch["lr_scale"], batch["seed"], hparams_of([batch[k] for k in names])
        )
        return jax.tree_util.tree_map(np.asarray, out)

    # Every batched input at full size, for `optim.parallel` to split into one part per core.
    full = {k: np.broadcast_to(v, (size, 2) if k == "start" else (size,)) for k, v in batch.items()}
    if spec.key in ELEMENTWISE and not noise and not sched.loss_driven:
        run = _coordinatewise(ls, spec)

        def part(start_t, lr_scale, seed, *hp_values):
            return run(start_t, lr_scale=lr_scale, hparams=hparams_of(hp_values), **shared)

        # The coordinatewise descent takes its starts as (2, B): x and y each in one row.
        starts = (full["start"].T, 1)
    else:

        def part(start, lr_scale, seed, *hp_values):
            return vmapped(start, lr_scale, seed, hparams_of(hp_values))

        starts = (full["start"], 0)
    batched = [starts, (full["lr_scale"], 0), (full["seed"], 0)] + [(full[k], 0) for k in names]
    return parallel.in_parts(part, batched, size)
