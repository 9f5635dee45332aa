"""Learning-rate tools checked against theory, fastai's published algorithms and the engine.

Theory: gradient descent on 0.1 x^2 + 2 y^2 (Hessian eigenvalues 0.2 and 4) diverges above
2 / 4 = 0.5 and is fastest near 2 / (0.2 + 4); heavy ball diverges above 2 (1 + mu) / 4,
Nesterov above 2 (1 + mu) / ((1 + 2 mu) 4); on the rotated bowl (eigenvalues 0.02 and 2,
condition number 100) the fastest heavy-ball pair is Polyak's closed form.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import optax
import pytest
import torch

import optim
from landscapes import LANDSCAPES, Landscape, StationaryPoint
from landscapes.catalog import BOWL_EIGENVALUES
from optim import lr_tools as L
from optim import runner
from optim.runner import hparam_values

BOWL = LANDSCAPES["ill_conditioned_bowl"]
ROSENBROCK = LANDSCAPES["rosenbrock"]
RATES = np.logspace(-4, 1, 1000)  # 5 decades: neighbours 1.16 % apart
STEP = RATES[1] / RATES[0]


def _double_well(p):
    return (p[0] ** 2 - 1.0) ** 2 + p[1] ** 2


# Two minima at (+-1, 0), a saddle at the origin: GD's basins are the half-planes x > 0, x < 0.
DOUBLE_WELL = Landscape(
    key="double_well_test",
    name="Double well",
    fn=_double_well,
    latex=r"(x^2 - 1)^2 + y^2",
    window=((-2.0, 2.0), (-1.5, 1.5)),
    minima=((-1.0, 0.0), (1.0, 0.0)),
    min_value=0.0,
    stationary=(StationaryPoint(0.0, 0.0, "saddle"),),
    start=(0.5, 1.0),
    lesson="",
    source="closed form",
)


@pytest.fixture(scope="module")
def gd_sweep() -> L.LRSweep:
    return L.lr_sweep(BOWL, "sgd", lrs=RATES, steps=1000)


# --------------------------------------------------------------------------------------------
# Theory checks


def test_bowl_constants_are_the_hessian_eigenvalues():
    np.testing.assert_allclose(L.hessian_eigenvalues(BOWL), BOWL_EIGENVALUES, rtol=1e-6)
    assert L.stability_bound(BOWL, "sgd") == pytest.approx(2 / 4.0, rel=1e-6)


def test_gd_divergence_edge_is_two_over_lambda_max(gd_sweep):
    first_div = int(np.argmax(gd_sweep.diverged))
    # Monotone: every rate below the edge survives, every rate above it diverges.
    assert not gd_sweep.diverged[:first_div].any() and gd_sweep.diverged[first_div:].all()
    edge = math.sqrt(gd_sweep.lrs[first_div - 1] * gd_sweep.lrs[first_div])
    # Within the grid's resolution (one step of the grid, plus the finite-horizon offset: at
    # lr = 0.5 (1 + d), |y| = 2 (1 + 4 d)^t needs t > ln(5e5) / (4 d) steps to pass 1e6, so in
    # 1000 steps the visible edge lies at most 0.7 % above 0.5).
    assert abs(math.log(edge / 0.5)) < math.log(STEP) + 0.007
    assert gd_sweep.lrs[first_div - 1] < 0.5 * 1.007 and gd_sweep.lrs[first_div] > 0.5
    assert set(gd_sweep.band[gd_sweep.diverged]) == {"diverges"}


def test_gd_fastest_rate_is_near_two_over_sum_of_eigenvalues(gd_sweep):
    optimum = 2 / (0.2 + 4.0)  # 0.476: equal contraction |1 - lr 0.2| = |1 - lr 4|
    assert gd_sweep.best_lr == pytest.approx(optimum, rel=0.05)
    # At the optimum both directions shrink by 0.905 a step; f = 10.5 -> 1e-3 takes ~46 steps.
    assert 35 <= gd_sweep.hit_step[gd_sweep.best_index] <= 47


@pytest.mark.parametrize("key", ["momentum", "nesterov"])
def test_momentum_divergence_edges_match_their_closed_forms(key):
    mu = 0.9
    bound = L.stability_bound(BOWL, key)
    expected = 2 * (1 + mu) / 4.0 if key == "momentum" else 2 * (1 + mu) / ((1 + 2 * mu) * 4.0)
    assert bound == pytest.approx(expected, rel=1e-6)
    sw = L.lr_sweep(BOWL, key, lrs=RATES, steps=1000)
    first_div = int(np.argmax(sw.diverged))
    assert not sw.diverged[:first_div].any() and sw.diverged[first_div:].all()
    assert sw.lrs[first_div - 1] < bound * 1.01 and sw.lrs[first_div] > bound


def test_optax_momentum_is_the_classic_heavy_ball():
    # optax: m = g + b m; p -= lr m. Classic: p_{t+1} = p_t - lr g_t + b (p_t - p_{t-1}).
    lr, b, steps = 0.05, 0.8, 60
    traj = optim.run(BOWL, "momentum", lr=lr, steps=steps, hparams={"momentum": b})
    p_prev = p = np.array(BOWL.start, np.float64)
    expected = [p]
    for _ in range(steps):
        g = np.array([0.2 * p[0], 4.0 * p[1]])
        p, p_prev = p - lr * g + b * (p - p_prev), p
        expected.append(p)
    np.testing.assert_allclose(traj.points, np.array(expected), rtol=1e-4, atol=1e-5)


def _rotated_bowl() -> Landscape:
    if "rotated_bowl" in LANDSCAPES:
        return LANDSCAPES["rotated_bowl"]

    def fn(p):  # eigenvalues 0.02 along (1, 1), 2 along (1, -1)
        return 0.005 * (p[0] + p[1]) ** 2 + 0.5 * (p[0] - p[1]) ** 2

    return Landscape(
        key="rotated_bowl_test",
        name="Rotated bowl",
        fn=fn,
        latex="",
        window=((-5.0, 5.0), (-5.0, 5.0)),
        minima=((0.0, 0.0),),
        min_value=0.0,
        start=(-4.5, -2.0),
        lesson="",
        source="closed form",
    )


def test_phase_diagram_best_is_polyaks_heavy_ball_optimum():
    ls = _rotated_bowl()
    l_min, l_max = L.hessian_eigenvalues(ls)
    assert l_max / l_min == pytest.approx(100.0, rel=1e-3)
    lr_star, mu_star = L.polyak_optimum(l_min, l_max)
    k = l_max / l_min
    assert lr_star == pytest.approx((2 / (math.sqrt(l_min) + math.sqrt(l_max))) ** 2)
    assert mu_star == pytest.approx(((math.sqrt(k) - 1) / (math.sqrt(k) + 1)) ** 2)
    # A strict tolerance measures the asymptotic rate, the quantity Polyak's pair minimises.
    pd = L.phase_diagram(
        ls,
        lrs=np.logspace(-1, math.log10(5.0), 64),
        momenta=np.linspace(0.0, 0.99, 64),
        steps=1000,
        eps=1e-8,
    )
    assert pd.hit_step.shape == pd.diverged.shape == (64, 64)
    assert abs(pd.best_momentum - mu_star) < 0.08  # measured: 0.723 vs 0.669
    assert abs(math.log(pd.best_lr / lr_star)) < math.log(1.25)  # measured: 1.635 vs 1.653
    # Plain GD's best rate in the mu = 0 row needs far more steps (rate 0.98 vs 0.82 a step).
    assert pd.hit_step[0][pd.hit_step[0] >= 0].min() > 4 * pd.best_steps


# --------------------------------------------------------------------------------------------
# Range test: fastai's algorithms


def test_ramp_is_fastais_exponential_schedule():
    rt = L.lr_range_test(BOWL, "sgd", start_lr=1e-7, end_lr=10, steps=100)
    i = np.arange(100)
    np.testing.assert_allclose(rt.lrs, 1e-7 * (10 / 1e-7) ** (i / 100), rtol=1e-12)
    assert rt.raw_loss[0] == pytest.approx(0.1 * 25 + 2 * 4)  # f at the start (-5, -2)


def test_smoothing_is_fastais_avg_smooth_loss():
    rng = np.random.default_rng(0)
    losses = rng.uniform(1, 5, 50)
    val = torch.tensor(0.0, dtype=torch.float64)
    expected = []
    for count, loss in enumerate(losses, start=1):  # fastai.learner.AvgSmoothLoss
        val = torch.lerp(torch.tensor(loss, dtype=torch.float64), val, 0.98)
        expected.append(float(val / (1 - 0.98**count)))
    np.testing.assert_allclose(L.smooth(losses), expected, rtol=1e-12)
    np.testing.assert_allclose(L.smooth(np.full(10, 3.0)), 3.0)  # bias correction


def test_stop_at_four_times_the_best():
    assert L.stop_index([5.0, 4.0, 2.0, 3.0, 7.9, 8.1, 1.0]) == 6  # 8.1 > 4 * 2: recorded, stop
    assert L.stop_index([3.0, 2.0, 1.0]) == 3


def _fastai_valley(lrs, losses):
    """fastai/callback/schedule.py `valley`, transcribed literally."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx])


def test_valley_matches_a_literal_transcription_of_fastai():
    rng = np.random.default_rng(1)
    for trial in range(200):
        n = int(rng.integers(2, 50))
        losses = rng.normal(size=n).cumsum() if trial % 2 else rng.integers(0, 4, n).astype(float)
        lrs = np.logspace(-3, 0, n)
        assert L.valley(lrs, losses)[0] == _fastai_valley(lrs, losses), (n, losses)


def test_steep_and_minimum_follow_fastai():
    lrs = torch.logspace(-4, 0, 9, dtype=torch.float64)
    losses = torch.tensor([5, 4.9, 4.5, 3.0, 1.0, 0.6, 0.5, 0.7, 2.0], dtype=torch.float64)
    grads = (losses[1:] - losses[:-1]) / (lrs[1:].log() - lrs[:-1].log())  # fastai's `steep`
    assert L.steep(lrs.numpy(), losses.numpy())[0] == pytest.approx(lrs[grads.argmin()].item())
    assert L.minimum(lrs.numpy(), losses.numpy())[0] == pytest.approx(
        lrs[losses.argmin()].item() / 10
    )


def test_range_test_records_until_the_divergence_stop():
    rt = L.lr_range_test(BOWL, "sgd")
    assert rt.stopped_early and rt.diverged_at > 0
    # GD diverges once lr > 0.5: the stop comes at a rate of that order.
    assert 0.5 < rt.lrs[rt.n_recorded - 1] < 10
    assert np.isnan(rt.smooth_loss[rt.n_recorded :]).all()
    first, last = rt.window
    assert first == 10 and last == rt.n_recorded - 6
    for lr in (rt.valley, rt.steep, rt.minimum * 10):
        assert rt.lrs[first] <= lr <= rt.lrs[last]


def test_range_test_and_sweep_compared_for_adam():
    """The range test's valley against the sweep's best for Adam (measured, not assumed): on a
    noise-free surface the loss falls over the whole ramp, so valley lands mid-ramp. The page
    explains exactly when the ratio exceeds 3 (tests/test_lr_tools_page.py)."""
    rates = np.logspace(-4, 1, 300)
    for ls in (BOWL, ROSENBROCK):
        rt = L.lr_range_test(ls, "adam")
        sw = L.lr_sweep(ls, "adam", lrs=rates, steps=1000)
        c = L.compare(rt, sw)
        assert c.ratio == pytest.approx(max(rt.valley / sw.best_lr, sw.best_lr / rt.valley))
        assert c.within == (c.ratio <= 3)
        assert not c.within and c.valley_fraction > 0.8  # measured: ratios ~1e3
    # A ramp over the right two decades agrees.
    rt = L.lr_range_test(ROSENBROCK, "adam", start_lr=0.1, end_lr=10, steps=100)
    assert L.compare(rt, sw).within


# --------------------------------------------------------------------------------------------
# Sweep mechanics


def test_bands_on_known_cases():
    # On the bowl: 0.01 crawls (x shrinks by 0.998 a step), 0.3 converges, 0.48 zig-zags in y
    # (1 - 4 lr = -0.92), 0.6 diverges.
    sw = L.lr_sweep(BOWL, "sgd", lrs=[0.01, 0.3, 0.48, 0.6], steps=200)
    assert list(sw.band) == ["crawls", "converges", "oscillates", "diverges"]
    assert sw.band_code.dtype == np.int8
    assert sw.reversal_fraction[2] > 0.9 and sw.reversal_fraction[1] < 0.1


def test_classify_rules():
    codes = L.classify(
        diverged_at=[-1, -1, 5, -1, -1, -1],
        hit_step=[-1, 10, -1, 10, 10, -1],
        reversal_fraction=[0.0, 0.0, 0.9, 0.31, 0.0, 0.5],
        stayed=[False, True, False, True, False, False],
    )
    assert [L.BANDS[c] for c in codes] == [
        "crawls",
        "converges",
        "diverges",
        "oscillates",  # zig-zag above 30 %
        "oscillates",  # reached f* + eps and left it
        "oscillates",
    ]


def test_sweep_api_shapes_and_dtypes(gd_sweep):
    n = RATES.size
    assert gd_sweep.lrs.shape == gd_sweep.final_loss.shape == gd_sweep.hit_step.shape == (n,)
    assert gd_sweep.final_loss.dtype == np.float32
    assert gd_sweep.hit_step.dtype == gd_sweep.diverged_at.dtype == np.int32
    assert gd_sweep.diverged.dtype == bool
    assert gd_sweep.band.dtype.kind == "U" and set(gd_sweep.band) <= set(L.BANDS)
    assert np.array_equal(gd_sweep.diverged, gd_sweep.diverged_at >= 0)
    assert ((gd_sweep.hit_step == -1) | (gd_sweep.hit_step >= 0)).all()


def test_summaries_agree_with_the_runner():
    spec = optim.get_optimizer("sgd")
    rates = np.logspace(-5, -1, 64).astype(np.float32)
    hp = {k: np.float32(v) for k, v in hparam_values(spec, ROSENBROCK, None).items()}
    ref = runner.simulate(
        ROSENBROCK,
        spec,
        plateau=False,
        record=False,
        noisy=False,
        start=np.asarray(ROSENBROCK.start, np.float32),
        lrs=np.ones(300, np.float32),
        lr_scale=rates,
        hparams=hp,
        noise=np.float32(0),
        seed=np.int32(0),
        plateau_settings=np.asarray(runner.PLATEAU_DEFAULTS, np.float32),
        eps=np.float32(1e-3),
        bound=np.float32(runner.DIVERGENCE_BOUND),
    )
    sw = L.lr_sweep(ROSENBROCK, spec, lrs=rates, steps=300)  # scanned as 512 zero-padded steps
    np.testing.assert_array_equal(sw.hit_step, np.asarray(ref.hit_step))
    np.testing.assert_array_equal(sw.diverged_at, np.asarray(ref.diverged_at))
    ok = ~sw.diverged
    # Same arithmetic, fused differently by XLA: equal to float32 rounding.
    np.testing.assert_allclose(sw.final_loss[ok], np.asarray(ref.final_loss)[ok], rtol=1e-4)
    assert sw.diverged.any() and ok.any()


@pytest.mark.parametrize("key", sorted(optim.sweep.ELEMENTWISE))
def test_the_2_by_b_batch_equals_the_vmapped_descents(key):
    # Coordinatewise optimizers run a batch as one (2, B) descent; every summary, the
    # reversal count and the settling step included, must equal vmap's one descent at a time.
    spec = optim.get_optimizer(key)
    rng = np.random.default_rng(3)
    size = 24
    (x0, x1), (y0, y1) = BOWL.window
    starts = rng.uniform([x0, y0], [x1, y1], size=(size, 2)).astype(np.float32)
    # On a convex bowl, up to 3x the default rate: on Rosenbrock the larger rates make RMSprop
    # and Nesterov chaotic, and a last-bit difference then sends a run anywhere.
    rates = (spec.default_lr * np.geomspace(0.03, 3, size)).astype(np.float32)
    hp = {k: np.float32(v) for k, v in hparam_values(spec, BOWL, None).items()}
    shared = dict(
        lrs=L._scan_lrs(np.ones(150, np.float32), spec),  # zero-padded to 256 where exact
        eps=np.float32(1e-3),
        bound=np.float32(runner.DIVERGENCE_BOUND),
        minima=np.asarray(BOWL.all_minima, np.float32).reshape(-1, 2),
        tol=np.float32(0.05),
    )
    batch = L._summaries(
        BOWL, spec, track_minima=True, start=starts, lr_scale=rates, hparams=hp, **shared
    )
    one = jax.vmap(
        lambda p, s: L._summarise_one(BOWL, spec, True, p, lr_scale=s, hparams=hp, **shared)
    )(starts, rates)
    for field in ("hit_step", "diverged_at", "settled_at"):
        np.testing.assert_array_equal(getattr(batch, field), getattr(one, field), err_msg=field)
    # The same arithmetic, fused differently by XLA, can differ in the last bit, and an
    # oscillating run then counts a reversal (the sign of u_t . u_{t-1}, near 0) or two more.
    a, b = np.asarray(batch.final_point), np.asarray(one.final_point)
    np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-5)
    same_path = np.isclose(a, b, rtol=1e-6, atol=1e-7).all(axis=1)
    np.testing.assert_array_equal(batch.reversals[same_path], one.reversals[same_path])
    np.testing.assert_allclose(batch.reversals, one.reversals, rtol=0.1, atol=2)
    assert same_path.any()  # the exact check above is not vacuous


@pytest.mark.parametrize("key", ["adam", "schedule_free_sgd"])
def test_sweep_final_points_match_single_runs(key):
    steps, rates = 300, [1e-3, 3e-2]
    sw = L.lr_sweep(ROSENBROCK, key, lrs=rates, steps=steps)
    for lr, loss in zip(rates, sw.final_loss, strict=True):
        traj = optim.run(ROSENBROCK, key, lr=lr, steps=steps)
        assert loss == pytest.approx(float(traj.loss[-1]), rel=1e-5, abs=1e-7)


def test_every_optimizer_but_the_schedule_free_ones_stands_still_at_rate_zero():
    # Zero-padding a scan to a bucketed length is exact only for these: checked eagerly.
    def value_and_grad(p):  # scipy.optimize.rosen / rosen_der, in float32
        x, y = p
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2, np.array(
            [-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)], np.float32
        )

    p = np.array([0.3, -0.7], np.float32)
    for key, spec in optim.OPTIMIZERS.items():
        hp = hparam_values(spec, ROSENBROCK, None)
        tx = optax.inject_hyperparams(spec.factory)(learning_rate=1e-2, **hp)
        state = tx.init(p)
        params = p
        for _ in range(2):  # some state (moments, estimates) before the zero-rate step
            v, g = value_and_grad(params)
            u, state = tx.update(g, state, params, value=v)
            params = optax.apply_updates(params, u)
        state.hyperparams["learning_rate"] = np.float32(0.0)
        v, g = value_and_grad(params)
        u, _ = tx.update(g, state, params, value=v)
        moves = bool(np.any(np.asarray(u) != 0))
        assert moves == (key in L.MOVES_AT_ZERO_LR), key


def test_padding_never_reports_a_divergence_after_the_last_step():
    # Centred RMSprop's step turns NaN after enough zero-rate padding steps (NAN_AT_ZERO_LR).
    for key in ("rmsprop_centered", "rmsprop", "adam"):
        rates = optim.get_optimizer(key).default_lr * np.geomspace(0.03, 3, 24)
        sw = L.lr_sweep(BOWL, key, lrs=rates, steps=150)
        assert (sw.diverged_at <= 150).all(), key
        for lr, d in zip(rates[:3], sw.diverged_at[:3], strict=True):
            assert d == int(optim.run(BOWL, key, lr=float(lr), steps=150).diverged_at), key


def test_nearby_sizes_compile_nothing_new():
    L.lr_sweep(BOWL, "sgd", lrs=np.logspace(-3, 0, 900), steps=700)
    before = L._summaries._cache_size()
    L.lr_sweep(BOWL, "sgd", lrs=np.logspace(-3, 0, 1000), steps=800)  # same buckets
    assert L._summaries._cache_size() == before


# --------------------------------------------------------------------------------------------
# Basins and ensembles


def test_basins_of_a_double_well_are_its_half_planes():
    b = L.basins(DOUBLE_WELL, "sgd", lr=0.05, steps=500, resolution=33)
    assert b.label.shape == b.settled_at.shape == (33, 33) and b.label.dtype == np.int16
    x = b.xs[None, :].repeat(33, axis=0)
    assert (b.label[x < -1e-9] == 0).all()  # minimum 0 is (-1, 0)
    assert (b.label[x > 1e-9] == 1).all()
    assert (b.label[x == 0] == L.ELSEWHERE).all()  # x = 0 stays on the saddle's ridge
    # A start on a minimum has settled at step 0.
    iy, ix = np.argmin(np.abs(b.ys)), np.argmin(np.abs(b.xs - 1.0))
    assert b.settled_at[iy, ix] == 0 and b.settled_at[b.label == L.ELSEWHERE].max() == -1
    # Further starts take longer.
    row = b.settled_at[iy]
    assert row[-1] > row[ix]


def test_basins_mark_divergence():
    b = L.basins(DOUBLE_WELL, "sgd", lr=0.6, steps=200, resolution=16)
    assert (b.label == L.DIVERGED).any()


def test_noise_ensemble_seeds_and_quantiles():
    ens = L.noise_ensemble(BOWL, "sgd", lr=0.1, steps=120, noise=0.5, seeds=8, base_seed=3)
    assert ens.points.shape == (8, 121, 2) and ens.loss.shape == (8, 121)
    assert ens.quantiles.shape == (3, 121)
    np.testing.assert_allclose(ens.quantiles, np.quantile(ens.loss, [0.1, 0.5, 0.9], axis=0))
    assert (ens.quantiles[0] <= ens.quantiles[1]).all() and (
        ens.quantiles[1] <= ens.quantiles[2]
    ).all()
    # Run k is the single run with seed base_seed + k.
    traj = optim.run(BOWL, "sgd", lr=0.1, steps=120, noise=0.5, seed=5)
    np.testing.assert_allclose(ens.points[2], traj.points, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ens.points[0], ens.points[1])


def test_noise_ensemble_without_noise_is_one_path():
    ens = L.noise_ensemble(BOWL, "sgd", lr=0.1, steps=120, noise=0.0, seeds=4)
    assert np.all(ens.points == ens.points[0])


# --------------------------------------------------------------------------------------------
# Caps and bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: L.lr_sweep(BOWL, "sgd", lrs=np.ones(4097), steps=10), "4096"),
        (lambda: L.lr_sweep(BOWL, "sgd", lrs=[0.1], steps=5001), "5000"),
        (lambda: L.lr_sweep(BOWL, "sgd", lrs=[0.1, -1.0], steps=10), "> 0"),
        (lambda: L.lr_sweep(BOWL, "sgd", lrs=[float("nan")], steps=10), "finite"),
        (lambda: L.lr_sweep(BOWL, "sgd", lrs=[], steps=10), "empty"),
        (lambda: L.lr_sweep(BOWL, "sgd", lrs=[0.1], steps=10, start=(1.0,)), "start"),
        (lambda: L.basins(BOWL, "sgd", lr=0.1, steps=10, resolution=257), "256"),
        (lambda: L.phase_diagram(BOWL, lrs=np.ones(129), momenta=[0.5], steps=10), "128"),
        (lambda: L.phase_diagram(BOWL, "adam", lrs=[0.1], momenta=[0.5], steps=10), "momentum"),
        (lambda: L.phase_diagram(BOWL, lrs=[0.1], momenta=[1.5], steps=10), "momentum"),
        (lambda: L.noise_ensemble(BOWL, "sgd", lr=0.1, steps=10, noise=1.0, seeds=129), "128"),
        (lambda: L.noise_ensemble(BOWL, "sgd", lr=0.1, steps=10, noise=-1.0), "noise"),
        (lambda: L.lr_range_test(BOWL, "sgd", steps=5), "6"),
        (lambda: L.lr_range_test(BOWL, "sgd", start_lr=1.0, end_lr=0.1), "below"),
    ],
)
def test_caps_and_bad_input_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_one_lucky_rate_does_not_make_the_best():
    # Steps to f* + eps over 9 neighbouring rates: a region of ~41 steps, and one isolated
    # lucky run (5 steps) at the edge, the kind an adaptive optimizer produces.
    lrs = np.logspace(-1, -0.92, 9)  # 0.01 decade apart: windows of +-2 neighbours
    hit = np.array([60, 44, 41, 40, 42, 41, 42, 60, 5])
    no_div, stayed = np.zeros(9, bool), np.zeros(9)
    assert L.best_index(hit, no_div, stayed, 1e-3) == 8  # the raw minimum
    # Window medians: 44, 42.5, 42, 41, 41, 42, 42, 42, 42: the middle of the 41s.
    assert L.best_index(hit, no_div, stayed, 1e-3, lrs) in (3, 4)
    # A run that touched f* + eps but ended above it never counts.
    final = np.zeros(9)
    final[[2, 3, 8]] = 1.0
    assert L.best_index(hit, no_div, final, 1e-3) == 5  # 41 steps, of those that stayed


def test_band_segments_and_figure_helpers():
    from viz import lr_tools as V

    segs = L.band_segments([1, 2, 3, 4, 5], np.array([0, 0, 1, 1, 3], np.int8))
    assert segs == [("crawls", 1.0, 2.0), ("converges", 3.0, 4.0), ("diverges", 5.0, 5.0)]
    assert V.power_ticks(-3.2, 0.4) == (
        [-4.0, -3.0, -2.0, -1.0, 0.0, 1.0],
        ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹"],
    )
    scale, colors = V.basin_colorscale(2)
    positions = [s[0] for s in scale]
    assert positions == sorted(positions) and positions[0] == 0 and positions[-1] == 1
    assert colors[-1] == V.DIVERGED_COLOR
    b = L.Basins(
        xs=np.zeros(2),
        ys=np.zeros(2),
        label=np.array([[0, 1], [-1, -2]], np.int16),
        settled_at=np.array([[0, 50], [-1, -1]], np.int32),
        final_loss=np.zeros((2, 2), np.float32),
        minima=((0.0, 0.0), (1.0, 1.0)),
        n_global=2,
        tol=0.1,
        steps=100,
    )
    # minimum k -> k + speed (settled at step 0 is brightest), elsewhere 2.5, diverged 3.5
    np.testing.assert_allclose(V.basin_values(b), [[0.999, 1.5], [2.5, 3.5]], rtol=1e-6)
