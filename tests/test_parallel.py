"""A batch split into parts on several cores gives exactly what one whole call gives."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import optim
from landscapes import LANDSCAPES
from optim import parallel, sweep

ROSENBROCK = LANDSCAPES["rosenbrock"]


def _mixed_batch(size: int, default_lr: float):
    """Learning rates from crawling to diverging, starts all over the window."""
    rng = np.random.default_rng(1)
    lrs = (default_lr * np.geomspace(0.01, 30, size)).astype(np.float32)
    starts = rng.uniform([-2, -1], [2, 3], size=(size, 2)).astype(np.float32)
    return lrs, starts


@pytest.mark.parametrize("key", ["sgd", "adam", "dog"])  # dog: the vmapped (not (2, B)) path
def test_parts_equal_one_whole_call(key, monkeypatch):
    lrs, starts = _mixed_batch(777, optim.get_optimizer(key).default_lr)  # odd: padded
    monkeypatch.setattr(parallel, "MIN_PART", 64)
    monkeypatch.setattr(parallel, "PARTS", 3)
    assert parallel.parts_for(780) == 3
    split = sweep.final_states(ROSENBROCK, key, lr_scale=lrs, start=starts, steps=120)
    monkeypatch.setattr(parallel, "PARTS", 1)
    whole = sweep.final_states(ROSENBROCK, key, lr_scale=lrs, start=starts, steps=120)
    assert split.final_point.shape == (777, 2)
    if key == "sgd":  # Adam's and DoG's steps are bounded: they do not leave the box
        assert (split.diverged_at > 0).any() and (split.diverged_at < 0).any()
    np.testing.assert_array_equal(split.diverged_at, whole.diverged_at)
    np.testing.assert_array_equal(split.hit_step, whole.hit_step)
    if key in sweep.ELEMENTWISE:  # elementwise arithmetic: the same bits in any batch
        np.testing.assert_array_equal(split.final_point, whole.final_point)
        np.testing.assert_array_equal(split.final_loss, whole.final_loss)
    else:  # a norm over (x, y) rounds by the descent's place in XLA's vector loop: 1 ulp
        np.testing.assert_allclose(split.final_point, whole.final_point, rtol=1e-6)
        np.testing.assert_allclose(split.final_loss, whole.final_loss, rtol=1e-5)


def test_small_batches_stay_whole_and_parts_are_equal():
    assert parallel.parts_for(100, parts=2) == 1  # below MIN_PART a part
    assert parallel.parts_for(2 * parallel.MIN_PART, parts=2) == 2
    assert parallel.parts_for(2 * parallel.MIN_PART + 1, parts=2) == 1  # would be unequal
    assert parallel.parts_for(10**6, parts=1) == 1


def test_in_parts_splits_along_each_arrays_own_axis():
    seen = []

    def run(rows_first, rows_second):
        seen.append((rows_first.shape, rows_second.shape))
        return {"sum": rows_first.sum(axis=1) + rows_second.sum(axis=0)}

    a = np.arange(2048 * 3, dtype=np.float32).reshape(2048, 3)  # batch on axis 0
    b = np.arange(2 * 2048, dtype=np.float32).reshape(2, 2048)  # batch on axis 1
    out = parallel.in_parts(run, [(a, 0), (b, 1)], 2048, parts=2)
    np.testing.assert_array_equal(out["sum"], a.sum(axis=1) + b.sum(axis=0))
    assert sorted(seen) == [((1024, 3), (2, 1024))] * 2


def test_jax_runs_cpu_computations_inline():
    # Parts run in parallel only if each computation runs on its calling thread.
    assert jax.config.read("jax_cpu_enable_async_dispatch") is False
