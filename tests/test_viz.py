"""The figure builders (`viz/`) and the grid evaluation behind them (`landscapes/grid.py`).

What a learner sees is checked against the data it came from: the head of every frame against
the trajectory, the divergence note against `diverged_at`, the loss curve against f - f*, the
arrows against the gradient, the threshold against 2. Independent sources where the numbers are
computed here: scipy's Rosenbrock (`rosen`, `rosen_hess`) for the grid and the Hessian,
matplotlib's published viridis/cividis end points for the colour map, Python's own "%.5g"
formatting for the rounding.
"""

from __future__ import annotations

import base64
import io
import json
import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from PIL import Image
from scipy.optimize import rosen, rosen_hess

import optim
from landscapes import LANDSCAPES, Landscape
from landscapes.grid import evaluate_grid, evaluate_points, hessian_eigs
from optim.runner import Trajectory, cut
from viz.background import LEVELS, colormap, image_size, surface_image, surface_png
from viz.descent import (
    ANIMATED_NAMES,
    FRAME_MS,
    SPEEDS,
    RunView,
    clamp,
    descent_dict,
    descent_figure,
    frame_steps,
    inside,
    loss_offset,
    plain,
    round_sig,
    sample_indices,
)
from viz.internals import (
    effective_step_figure,
    internals_figure,
    nice_scale,
    stability_caption,
    stability_figure,
)
from viz.schedule import schedule_figure
from viz.surface3d import surface_figure
from viz.theme import OKABE_ITO, THEMES, get_theme

LIGHT = THEMES["light"]
GRID_N = 48  # small grids keep the registry-wide tests fast
ROSEN = LANDSCAPES["rosenbrock"]
BOWL = LANDSCAPES["ill_conditioned_bowl"]
# One optimizer at four rates: one compiled scan (the rate is traced), four different paths.
RUNS = (("adam", 1e-3), ("adam", 3e-3), ("adam", 1e-2), ("adam", 3e-2))


def fvals(landscape: Landscape, pts: np.ndarray) -> np.ndarray:
    return evaluate_points(landscape, pts)


def line_traj(
    landscape: Landscape, steps: int = 60, lr: float = 0.1, overshoot: float = 1.0
) -> Trajectory:
    """A hand-made run: a straight line from the start toward the first minimum (`overshoot` > 1
    runs past it), loss = f there, gradient = -update / lr (so |u| / |g| = lr)."""
    p0 = np.array(landscape.start)
    m = np.array(landscape.minima[0])
    pts = p0 + (m - p0) * np.linspace(0.0, overshoot, steps + 1)[:, None]
    upd = np.diff(pts, axis=0)
    return Trajectory(
        points=pts,
        loss=fvals(landscape, pts),
        grads=-upd / lr,
        updates=upd,
        lr=np.full(steps, lr),
        first_moment=np.zeros((steps, 2)),
        second_moment=np.zeros((steps, 2)),
        finite=np.ones(steps + 1, bool),
        diverged_at=np.int32(-1),
    )


def view(label: str, traj: Trajectory, i: int = 0, lr_text: str = "0.1") -> RunView:
    return RunView(label=label, color=LIGHT.color(i), traj=traj, lr_text=lr_text)


def by_name(fig, name: str):
    """The trace called `name` on the main panel (a run's loss and rate curves share its name)."""
    hits = [t for t in fig.data if t.name == name and getattr(t, "xaxis", None) in (None, "x")]
    assert len(hits) == 1, f"{name!r}: {[t.name for t in fig.data]}"
    return hits[0]


def strict_json(text: str):
    """Parse as a browser's JSON.parse would: NaN and Infinity are not JSON."""

    def refuse(token):
        raise ValueError(f"{token} in the figure JSON")

    return json.loads(text, parse_constant=refuse)


def frames_dict(fig) -> list[dict]:
    return fig.to_dict()["frames"]


def animated_index(fig) -> dict[str, int]:
    return {t.name: i for i, t in enumerate(fig.data) if t.name in ANIMATED_NAMES}


@pytest.fixture(scope="module")
def grids():
    return {key: evaluate_grid(ls, GRID_N) for key, ls in LANDSCAPES.items()}


@pytest.fixture(scope="module")
def rosen_5000() -> list[Trajectory]:
    return [optim.run(ROSEN, key, lr=lr, steps=5000) for key, lr in RUNS]


@pytest.fixture(scope="module")
def bowl_diverged() -> Trajectory:
    # GD at lr 0.6 on curvature 4: |1 - 2.4| = 1.4 > 1, diverges at step 39 (test_diagnostics).
    return optim.run(BOWL, "sgd", lr=0.6, steps=200)


@pytest.fixture(scope="module")
def bowl_stable() -> Trajectory:
    return optim.run(BOWL, "sgd", lr=0.45, steps=200)


# --------------------------------------------------------------------------------------------
# Theme


def test_themes():
    for theme in THEMES.values():
        assert set(theme.palette[:7]) == set(OKABE_ITO)
        assert theme.palette[7] == ("#FFFFFF" if theme.dark else "#000000")
        assert theme.colorscale in ("viridis", "cividis")
    assert THEMES["lecture"].font_size >= 22
    assert THEMES["lecture"].line_width >= 2 * THEMES["light"].line_width
    assert get_theme("dark") is THEMES["dark"]
    with pytest.raises(KeyError, match="light, dark, lecture"):
        get_theme("neon")


# --------------------------------------------------------------------------------------------
# Grid and Hessian


def test_grid_matches_scipy_rosenbrock():
    xs, ys, Z = evaluate_grid(ROSEN, 64)
    (x0, x1), (y0, y1) = ROSEN.window
    np.testing.assert_allclose(xs, np.linspace(x0, x1, 64), rtol=1e-6)
    np.testing.assert_allclose(ys, np.linspace(y0, y1, 64), rtol=1e-6)
    gx, gy = np.meshgrid(xs, ys)
    np.testing.assert_allclose(Z, rosen(np.stack([gx, gy])), rtol=2e-5, atol=1e-4)
    assert Z.shape == (64, 64) and not Z.flags.writeable
    assert evaluate_grid(ROSEN, 64)[2] is Z  # cached


def test_evaluate_points_matches_scipy():
    pts = np.array([[0.5, 1.0], [-1.2, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(evaluate_points(ROSEN, pts), [rosen(p) for p in pts], rtol=1e-6)
    assert evaluate_points(ROSEN, np.zeros((0, 2))).shape == (0,)


def test_grid_non_finite_is_nan():
    pole = Landscape(
        key="pole",
        name="Pole",
        fn=lambda p: 1.0 / p[0] + 0.0 * p[1],
        latex="1/x",
        window=((-1.0, 1.0), (-1.0, 1.0)),
        minima=((1.0, 0.0),),
        min_value=1.0,
        start=(0.5, 0.5),
        lesson="",
        source="test",
    )
    xs, ys, Z = evaluate_grid(pole, 5)  # xs = -1, -0.5, 0, 0.5, 1: 1/0 = inf at the middle
    assert np.isnan(Z[:, 2]).all()
    np.testing.assert_allclose(Z[:, 0], -1.0)


def test_hessian_eigs_match_scipy():
    rng = np.random.default_rng(0)
    pts = rng.uniform([-2, -1], [2, 3], size=(25, 2))
    got = hessian_eigs(ROSEN, pts)
    want = np.array([np.linalg.eigvalsh(rosen_hess(p)) for p in pts])
    # float32: the small eigenvalue loses digits to cancellation next to one near 1000.
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3 * np.abs(want).max())
    assert (got[:, 0] <= got[:, 1]).all()
    np.testing.assert_allclose(
        hessian_eigs(BOWL, [[1.0, 2.0], [-3.0, 0.5]]), [[0.2, 4.0], [0.2, 4.0]], rtol=1e-6
    )
    bad = hessian_eigs(BOWL, [[np.nan, 0.0], [0.0, 0.0]])
    assert np.isnan(bad[0]).all() and np.isfinite(bad[1]).all()


def test_hessian_eigs_compile_once_for_any_length():
    traces = []

    def fn(p):
        traces.append(1)  # runs at trace time only: counts compilations
        return p[0] ** 2 + 3.0 * p[1] ** 2

    ls = Landscape(
        key="counted",
        name="Counted",
        fn=fn,
        latex="",
        window=((-1.0, 1.0), (-1.0, 1.0)),
        minima=((0.0, 0.0),),
        min_value=0.0,
        start=(0.5, 0.5),
        lesson="",
        source="test",
    )
    for n in (1, 3, 17, 60):
        np.testing.assert_allclose(
            hessian_eigs(ls, np.zeros((n, 2))), np.tile([2.0, 6.0], (n, 1)), rtol=1e-6
        )
    assert len(traces) == 1


# --------------------------------------------------------------------------------------------
# Background picture


def test_colormap_against_matplotlib_values():
    # matplotlib's viridis and cividis end points and viridis(0.5) (= #21918c).
    np.testing.assert_array_equal(
        colormap("viridis", np.array([0.0, 1.0])), [[68, 1, 84], [253, 231, 37]]
    )
    np.testing.assert_array_equal(
        colormap("cividis", np.array([0.0, 1.0])), [[0, 34, 78], [254, 232, 56]]
    )
    assert np.abs(colormap("viridis", np.array(0.5)).astype(int) - [33, 145, 140]).max() <= 4


@pytest.mark.parametrize("key", list(LANDSCAPES))
def test_surface_image_is_a_png_of_the_window(key, grids):
    ls = LANDSCAPES[key]
    xs, ys, Z = grids[key]
    uri = surface_image(ls, Z, xs, ys, LIGHT, ls.log_color)
    assert uri.startswith("data:image/png;base64,")
    png = base64.b64decode(uri.split(",", 1)[1])
    img = Image.open(io.BytesIO(png))
    img.load()
    assert img.format == "PNG" and img.mode == "P"
    assert img.size == image_size(xs, ys)
    assert len(png) < 60_000
    # The fill colours are the colour map's; iso-lines are drawn (a second set of indices).
    pal = np.array(img.getpalette()[: 3 * 2 * LEVELS]).reshape(-1, 3)
    np.testing.assert_array_equal(
        pal[:LEVELS], colormap("viridis", (np.arange(LEVELS) + 0.5) / LEVELS)
    )
    idx = np.asarray(img)
    assert (idx >= LEVELS).any() and (idx < LEVELS).any()


def test_surface_image_colours_low_to_high():
    xs, ys, Z = evaluate_grid(ROSEN, 200)
    img = Image.open(io.BytesIO(surface_png(ROSEN, Z, xs, ys, LIGHT, True)))
    band = np.asarray(img) % LEVELS
    w, h = img.size
    (x0, x1), (y0, y1) = ROSEN.window

    def at(x, y):  # row 0 is the top of the window (y1)
        return band[
            min(h - 1, int((y1 - y) / (y1 - y0) * h)), min(w - 1, int((x - x0) / (x1 - x0) * w))
        ]

    assert at(1.0, 1.0) <= 1  # the minimum: lowest band on the log scale
    assert at(-2.0, -1.0) >= LEVELS - 3  # f = 2509 - ...: near the top


def test_surface_image_cache():
    xs, ys, Z = evaluate_grid(BOWL, GRID_N)
    a = surface_image(BOWL, Z, xs, ys, LIGHT, False)
    assert surface_png(BOWL, Z, xs, ys, LIGHT, False) is surface_png(BOWL, Z, xs, ys, LIGHT, False)
    assert surface_image(BOWL, Z, xs, ys, THEMES["dark"], False) != a  # cividis


# --------------------------------------------------------------------------------------------
# Plain-data helpers


def test_round_sig_matches_python_formatting():
    rng = np.random.default_rng(1)
    vals = rng.standard_normal(2000) * 10.0 ** rng.integers(-12, 12, 2000)
    got = round_sig(vals)
    want = [float(f"{v:.5g}") for v in vals]
    np.testing.assert_array_equal(got, want)
    # Equal to the parsed decimal, so JSON prints it short: no 0.30000000000000004 tails.
    assert repr(round_sig([0.1 + 0.2]).tolist()[0]) == "0.3"
    assert plain([1.234567, np.nan, np.inf]) == [1.2346, None, None]


def test_sample_indices():
    np.testing.assert_array_equal(sample_indices(10, 1500), np.arange(11))
    idx = sample_indices(4999, 1500)
    assert idx[0] == 0 and idx[-1] == 4999 and len(idx) <= 1501
    assert (np.diff(idx) > 0).all()
    np.testing.assert_array_equal(idx[:750], np.arange(750))  # the first steps all kept
    assert len(sample_indices(-1, 10)) == 0


def test_frame_steps():
    assert frame_steps(20, 150).tolist() == list(range(21))
    fs = frame_steps(5000, 150)
    assert len(fs) == 150 and fs[0] == 0 and fs[-1] == 5000


# --------------------------------------------------------------------------------------------
# The descent figure


@pytest.mark.parametrize("key", list(LANDSCAPES))
def test_descent_figure_every_landscape(key, grids):
    ls = LANDSCAPES[key]
    xs, ys, Z = grids[key]
    runs = [
        view("Line", line_traj(ls), 0, "0.1"),
        view("Past", line_traj(ls, 80, overshoot=1.5), 1, "0.2"),
    ]
    fig = descent_figure(ls, runs, Z=Z, xs=xs, ys=ys, theme=LIGHT, max_frames=30)
    (x0, x1), (y0, y1) = ls.window
    lay = fig.layout
    # Axes fixed to the window, square, constrained to the domain.
    assert list(lay.xaxis.range) == [x0, x1] and list(lay.yaxis.range) == [y0, y1]
    assert lay.xaxis.autorange is False and lay.yaxis.autorange is False
    assert lay.yaxis.scaleanchor == "x" and lay.yaxis.scaleratio == 1
    assert lay.xaxis.constrain == "domain" and lay.yaxis.constrain == "domain"
    assert lay.yaxis2.type == "log" and lay.yaxis3.type == "log"
    # The picture covers the window exactly, under the traces.
    (img,) = lay.images
    assert img.source.startswith("data:image/png;base64,")
    assert (img.x, img.y, img.sizex, img.sizey) == (x0, y1, x1 - x0, y1 - y0)
    assert img.xref == "x" and img.yref == "y" and img.layer == "below" and img.sizing == "stretch"
    # Legend entries carry optimizer and learning rate; landmarks are there.
    assert by_name(fig, "Line (lr 0.1)").showlegend is not False
    gmin = by_name(fig, "global minimum")
    np.testing.assert_allclose(np.c_[gmin.x, gmin.y], np.array(ls.minima), rtol=1e-4)
    for kind, name in (("saddle", "saddle"), ("local_min", "local minimum"), ("max", "maximum")):
        expected = [s.xy for s in ls.stationary if s.kind == kind]
        if expected:
            t = by_name(fig, name)
            np.testing.assert_allclose(np.c_[t.x, t.y], expected, rtol=1e-4, atol=1e-6)
    # Frames: at most max_frames, named by step, matching the slider.
    frames = frames_dict(fig)
    assert 2 <= len(frames) <= 30
    assert [f["name"] for f in frames] == [s["label"] for s in lay.sliders[0].steps]
    assert frames[-1]["name"] == "80"
    # Nothing animated ever leaves the window: heads, off-window heads and tails.
    for f in frames:
        for d in f["data"][:3]:
            for x, y in zip(d["x"], d["y"], strict=True):
                if x is not None:
                    assert x0 <= x <= x1 and y0 <= y <= y1


def test_heads_follow_the_data(rosen_5000):
    traj = cut(rosen_5000[2], 1000)  # Adam at 0.01, 1000 steps
    fig = descent_figure(ROSEN, [view("Adam", traj, 0, "0.01")], max_frames=150)
    idx = animated_index(fig)
    pts = np.asarray(traj.points, np.float64)
    frames = frames_dict(fig)
    assert len(frames) == 150
    for f in frames:
        s = int(f["name"])
        heads, off, loss, rate = (f["data"][idx[n] - min(idx.values())] for n in ANIMATED_NAMES[1:])
        shown = heads if heads["x"][0] is not None else off
        want = clamp(pts[s], ROSEN.window)[0]
        assert shown["x"][0] == pytest.approx(want[0], rel=1e-4, abs=1e-6)
        assert shown["y"][0] == pytest.approx(want[1], rel=1e-4, abs=1e-6)
        assert shown["customdata"][0][0] == s
        assert loss["x"][0] == s
        assert loss["y"][0] == pytest.approx(
            float(traj.loss[s]) - ROSEN.min_value + loss_offset(0.0), rel=1e-4
        )
        assert rate["y"][0] == pytest.approx(float(traj.lr[min(s, 999)]), rel=1e-4)


def test_loss_curve_is_the_gap_even_below_zero():
    camel = LANDSCAPES["six_hump_camel"]  # f* = -1.0316...
    traj = line_traj(camel, 40)
    fig = descent_figure(camel, [view("Line", traj)], max_frames=10)
    loss = [t for t in fig.data if t.yaxis == "y2" and t.mode == "lines"][0]
    gap = np.maximum(np.asarray(traj.loss) - camel.min_value, 0) + loss_offset(camel.min_value)
    np.testing.assert_allclose(np.asarray(loss.y, np.float64), gap, rtol=1e-6)
    assert (np.asarray(loss.y) > 0).all()
    np.testing.assert_array_equal(loss.x, np.arange(41))


def test_diverged_run_is_marked_and_stops(bowl_diverged, bowl_stable):
    traj = bowl_diverged
    k = int(traj.diverged_at)
    assert k == 39
    runs = [view("SGD", bowl_stable, 0, "0.45"), view("SGD", traj, 1, "0.6")]
    fig = descent_figure(BOWL, runs, max_frames=50)
    (x0, x1), (y0, y1) = BOWL.window
    last = np.asarray(traj.points, np.float64)[k - 1]
    assert abs(last[1]) > 1e5  # blown far past the window before the box test caught it
    mark = by_name(fig, f"SGD (lr 0.6): diverged at step {k}")
    want = clamp(last, BOWL.window)[0]
    assert (mark.x[0], mark.y[0]) == pytest.approx(tuple(want), rel=1e-4)
    assert mark.marker.symbol == "x"
    (note,) = [a for a in fig.layout.annotations if a.name == "diverged"]
    assert note.text == f"diverged at step {k}"
    assert (note.x, note.y) == pytest.approx(tuple(want), rel=1e-4)
    # The axes stay on the window.
    assert list(fig.layout.xaxis.range) == [x0, x1] and list(fig.layout.yaxis.range) == [y0, y1]
    # The static path ends at the last good point; the head stops there.
    path = by_name(fig, "SGD (lr 0.6)")
    assert len(path.x) == k
    idx = animated_index(fig)
    first = min(idx.values())
    for f in frames_dict(fig):
        heads, off = f["data"][idx["heads"] - first], f["data"][idx["heads off-window"] - first]
        x = heads["x"][1] if heads["x"][1] is not None else off["x"][1]
        y = heads["y"][1] if heads["y"][1] is not None else off["y"][1]
        assert x0 <= x <= x1 and y0 <= y <= y1
        if int(f["name"]) >= k - 1:
            assert (x, y) == pytest.approx(tuple(want), rel=1e-4)
            assert off["customdata"][1][0] == k - 1  # the step it stopped at
            assert off["customdata"][1][3] == pytest.approx(last[1], rel=1e-4)  # true y


def test_controls():
    fig = descent_figure(BOWL, [view("Line", line_traj(BOWL))], max_frames=20)
    play, speed = fig.layout.updatemenus
    assert [b.label for b in play.buttons] == ["▶ Play", "❚❚ Pause"]
    assert play.buttons[0].args[1]["frame"] == {"duration": FRAME_MS, "redraw": False}
    assert list(play.buttons[1].args[0]) == [None]
    assert [b.label for b in speed.buttons] == [label for _, label in SPEEDS]
    assert [b.args[1]["frame"]["duration"] for b in speed.buttons] == [
        FRAME_MS / s for s, _ in SPEEDS
    ]
    assert all(b.args[1]["fromcurrent"] for b in speed.buttons)
    slider = fig.layout.sliders[0]
    assert [list(s.args[0]) for s in slider.steps] == [[f.name] for f in fig.frames]
    assert slider.currentvalue.prefix == "step "


def test_click_grid():
    fig = descent_figure(BOWL, [view("Line", line_traj(BOWL))], max_frames=5, clickable=True)
    grid = fig.data[0]
    assert grid.name == "click-grid" and grid.showlegend is False
    assert len(grid.x) == 40 * 40
    assert (
        grid.marker.opacity == 0
        and grid.selected.marker.opacity == 0
        and grid.unselected.marker.opacity == 0
    )
    (x0, x1), (y0, y1) = BOWL.window
    assert (min(grid.x), max(grid.x), min(grid.y), max(grid.y)) == (x0, x1, y0, y1)
    assert "click-grid" not in [
        t.name for t in descent_figure(BOWL, [view("L", line_traj(BOWL))], max_frames=5).data
    ]


def test_colours_come_from_the_palette(rosen_5000):
    runs = [
        view(key, cut(t, 200), i, f"{lr:g}")
        for i, ((key, lr), t) in enumerate(zip(RUNS, rosen_5000, strict=True))
    ]
    fig = descent_figure(ROSEN, runs, max_frames=10)
    for r in runs:
        assert r.color in LIGHT.palette
        traces = [t for t in fig.data if t.legendgroup == r.name]
        assert len(traces) == 3  # path, loss, rate
        assert all(t.line.color == r.color for t in traces)
    heads = by_name(fig, "heads")
    assert list(heads.marker.color) == [r.color for r in runs]
    assert by_name(fig, f"{RUNS[0][0]} (lr {RUNS[0][1]:g})").showlegend is not False


def test_json_size_limits(rosen_5000):
    def size(steps: int) -> int:
        runs = [
            view(key, cut(t, steps), i, f"{lr:g}")
            for i, ((key, lr), t) in enumerate(zip(RUNS, rosen_5000, strict=True))
        ]
        return len(pio.to_json(descent_figure(ROSEN, runs).to_dict(), validate=False).encode())

    assert size(5000) < 2_000_000
    assert size(1000) < 1_000_000


def _as_lists(obj):
    """A figure dict with every array as a (nested) list of exact floats, NaN as None: NumPy
    arrays and plotly's base64 typed arrays (``{"dtype", "bdata"[, "shape"]}``) alike."""
    if isinstance(obj, np.ndarray):
        return _as_lists(obj.tolist())
    if isinstance(obj, dict):
        if {"dtype", "bdata"} <= set(obj) <= {"dtype", "bdata", "shape"}:
            data = np.frombuffer(base64.b64decode(obj["bdata"]), np.dtype(obj["dtype"]))
            if "shape" in obj:
                shape = obj["shape"]
                dims = [int(d) for d in shape.split(",")] if isinstance(shape, str) else shape
                data = data.reshape(dims)
            return _as_lists(data.tolist())
        return {k: _as_lists(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_as_lists(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def test_the_dict_sent_is_what_plotly_validates(rosen_5000, bowl_diverged):
    # The page sends `descent_dict` unvalidated; plotly's validated figure of it must come out
    # the same (same traces, layout and frames), diverged runs and an empty figure included.
    rosen = [
        view(key, cut(t, 300), i, f"{lr:g}")
        for i, ((key, lr), t) in enumerate(zip(RUNS, rosen_5000, strict=True))
    ]
    for ls, runs, theme in (
        (ROSEN, rosen, LIGHT),
        (BOWL, [view("SGD", bowl_diverged, 0, "0.6")], THEMES["dark"]),
        (BOWL, [], LIGHT),
    ):
        plain = descent_dict(ls, runs, theme=theme, max_frames=40, clickable=True)
        validated = json.loads(pio.to_json(go.Figure(plain).to_dict(), validate=False))
        assert _as_lists(validated) == json.loads(json.dumps(_as_lists(plain)))


def test_figure_json_has_no_nan_or_inf(bowl_diverged):
    strict_json(
        descent_figure(BOWL, [view("SGD", bowl_diverged, 0, "0.6")], max_frames=40).to_json()
    )


# --------------------------------------------------------------------------------------------
# 3-D, internals, schedule


@pytest.mark.parametrize(
    "key", ["rosenbrock", "ill_conditioned_bowl", "himmelblau", "six_hump_camel"]
)
def test_surface_figure(key, grids):
    ls = LANDSCAPES[key]
    xs, ys, Z = grids[key]
    traj = line_traj(ls, 50)
    fig = surface_figure(ls, [view("Line", traj)], Z=Z, xs=xs, ys=ys, step=20, theme=LIGHT)
    surf = fig.data[0]
    assert surf.type == "surface"
    assert fig.layout.updatemenus == () and fig.frames == ()  # static: no Play
    path, head = fig.data[1], fig.data[2]
    assert len(path.x) == 21  # steps 0..20
    pts = np.asarray(traj.points)
    assert (head.x[0], head.y[0]) == pytest.approx(tuple(pts[20]))
    z = float(np.asarray(traj.loss)[20])
    if ls.log_color:
        z = math.log10(max(z - ls.min_value, 0.0) + loss_offset(ls.min_value))
    zs = np.asarray(surf.z, np.float64)
    floor, lift = np.nanmin(zs), 0.01 * (np.nanmax(zs) - np.nanmin(zs))
    assert head.z[0] == pytest.approx(max(z, floor) + lift, rel=1e-5, abs=1e-5)
    assert list(fig.layout.scene.xaxis.range) == list(ls.window[0])


def test_internals_arrows_are_the_vectors_scaled():
    steps = 10
    traj = line_traj(BOWL, steps, lr=0.1)
    m1 = np.tile([0.5, -1.0], (steps, 1))
    traj = traj._replace(first_moment=m1)
    xs, ys, Z = evaluate_grid(BOWL, GRID_N)
    fig = internals_figure(BOWL, [view("Run", traj)], step=4, Z=Z, xs=xs, ys=ys, theme=LIGHT)
    p = np.asarray(traj.points)[4]
    keys = {t.name: t for t in fig.data if t.name.startswith("Run (lr 0.1): ")}
    assert len(keys) == 3
    for name, t in keys.items():
        scale = float(name.rsplit("× ", 1)[1]) if "×" in name else 1.0
        vec = {
            "−∇f": -np.asarray(traj.grads)[4],
            "−m (momentum)": -m1[4],
            "update": np.asarray(traj.updates)[4],
        }[name.split(": ", 1)[1].split(" ×")[0]]
        assert (t.x[0], t.y[0]) == pytest.approx(tuple(p))
        assert (t.x[1] - t.x[0], t.y[1] - t.y[0]) == pytest.approx(
            tuple(scale * vec), rel=1e-9, abs=1e-12
        )
    # Key entries state the same scales in the legend.
    legend = [t.name for t in fig.data if t.showlegend is not False and t.x == (None,)]
    assert len(legend) == 3


def test_nice_scale():
    assert nice_scale(1.0, 2.0) == 1.0  # already visible: true scale
    for longest, target in ((1e-3, 2.0), (50.0, 2.0), (3.3e4, 1.7), (7e-9, 0.5)):
        s = nice_scale(longest, target)
        mant = s / 10 ** math.floor(math.log10(s))
        assert round(mant, 9) in (1.0, 2.0, 5.0)
        assert s * longest <= target * (1 + 1e-12)
        assert s * longest > target / 2.5 - 1e-12  # the next nice value up would overshoot


def test_effective_step_figure_sgd_is_lr(bowl_stable):
    fig = effective_step_figure([view("SGD", bowl_stable, 0, "0.45")], LIGHT)
    x_line = by_name(fig, "SGD (lr 0.45): x")
    y = np.asarray(x_line.y, np.float64)
    np.testing.assert_allclose(y[np.isfinite(y)], 0.45, rtol=1e-5)
    assert by_name(fig, "SGD (lr 0.45): y").line.dash == "dash"
    assert fig.layout.yaxis.type == "log"


def test_stability_figure_numbers(bowl_diverged, bowl_stable):
    runs = [view("SGD", bowl_stable, 0, "0.45"), view("SGD", bowl_diverged, 1, "0.6")]
    eigs = [hessian_eigs(BOWL, r.traj.points) for r in runs]
    fig = stability_figure(runs, eigs, LIGHT)
    (line,) = [s for s in fig.layout.shapes if s.y0 == s.y1]
    assert line.y0 == 2.0
    stable = np.asarray(by_name(fig, "SGD (lr 0.45)").y, np.float64)
    np.testing.assert_allclose(stable, 0.45 * 4, rtol=1e-5)  # lr * lambda_max, lambda_max = 4
    texts = [a.text for a in fig.layout.annotations]
    assert "lr·λ = 2.4 > 2 at step 0; diverged at step 39" in texts
    assert "2" in stability_caption() and "lr" in stability_caption()
    with pytest.raises(ValueError, match="2 runs"):
        stability_figure(runs, eigs[:1], LIGHT)


def test_schedule_figure():
    lrs = np.concatenate([[0.0], np.linspace(0.01, 0.1, 99)])
    fig = schedule_figure(lrs, LIGHT, "warm-up")
    (trace,) = fig.data
    y = np.asarray(trace.y, np.float64)
    assert np.isnan(y[0])
    np.testing.assert_allclose(y[1:], lrs[1:], rtol=1e-6)
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.annotations[0].text == "lr = 0 at 1 step: not drawn on a log axis"
    flat = schedule_figure(np.full(50, 3e-3), LIGHT, "constant")
    lo, hi = flat.layout.yaxis.range
    assert lo < math.log10(3e-3) < hi


def test_every_figure_builds_in_every_theme(bowl_diverged):
    xs, ys, Z = evaluate_grid(BOWL, GRID_N)
    runs = [view("SGD", bowl_diverged, 0, "0.6")]
    eigs = [hessian_eigs(BOWL, bowl_diverged.points)]
    for theme in THEMES.values():
        for fig in (
            descent_figure(BOWL, runs, Z=Z, xs=xs, ys=ys, theme=theme, max_frames=8),
            surface_figure(BOWL, runs, Z=Z, xs=xs, ys=ys, step=50, theme=theme),
            internals_figure(BOWL, runs, step=50, Z=Z, xs=xs, ys=ys, theme=theme),
            effective_step_figure(runs, theme),
            stability_figure(runs, eigs, theme),
            schedule_figure(np.asarray(bowl_diverged.lr), theme, ""),
        ):
            assert fig.layout.template.layout.font.size == theme.font_size
            assert fig.layout.template.layout.paper_bgcolor == theme.paper_bg
            strict_json(fig.to_json())
    assert inside(np.array([[0.0, 0.0], [7.0, 0.0]]), BOWL.window).tolist() == [True, False]


@pytest.mark.parametrize(
    ("lo", "hi"), [(-3.15, -1.85), (-3.1, -2.9), (-0.2, 0.9), (-5.5, -4.2), (2.0, 3.5)]
)
def test_short_log_axes_label_whole_values(lo, hi):
    # plotly's 1-2-5 ticks ("D2") label 2e-3 as a bare "2": a learner reads a rate of 2.
    from viz.descent import short_log_ticks

    ticks = short_log_ticks(lo, hi)
    vals, texts = ticks["tickvals"], ticks["ticktext"]
    assert len(vals) >= 2 and len(vals) == len(texts)
    for v, t in zip(vals, texts, strict=True):
        assert lo <= math.log10(v) <= hi
        assert float(t) == pytest.approx(v, rel=1e-12)  # the label is the value itself
    assert sorted(vals) == vals


def test_descent_figure_rate_axis_of_one_rate_has_whole_labels(bowl_stable):
    fig = descent_dict(BOWL, [view("SGD", bowl_stable, 0, "0.45")], max_frames=20)
    axis = fig["layout"]["yaxis3"]
    assert "dtick" not in axis
    assert 0.45 > axis["tickvals"][0] and any(float(t) == 0.5 for t in axis["ticktext"])


def test_large_type_widens_the_gap_between_panels_and_moves_the_slider(bowl_stable):
    # Lecture mode's 24 px labels printed the rate panel's axis title over the surface panel's
    # last x label, and "step 0" over the Pause button; the light theme keeps its layout.
    from viz.descent import PANELS, panels

    assert panels(LIGHT) == PANELS
    lecture = THEMES["lecture"]
    grid = panels(lecture)
    gap = grid["xaxis2"]["domain"][0] - grid["xaxis"]["domain"][1]
    assert gap >= 0.16 > PANELS["xaxis2"]["domain"][0] - PANELS["xaxis"]["domain"][1]
    assert grid["xaxis3"]["domain"] == grid["xaxis2"]["domain"]
    runs = [view("SGD", bowl_stable, 0, "0.45")]
    light_fig = descent_dict(BOWL, runs, theme=LIGHT, max_frames=20)
    lecture_fig = descent_dict(BOWL, runs, theme=lecture, max_frames=20)
    assert lecture_fig["layout"]["xaxis"]["domain"] == grid["xaxis"]["domain"]
    light_slider = light_fig["layout"]["sliders"][0]
    lecture_slider = lecture_fig["layout"]["sliders"][0]
    assert light_slider["x"] == 0.32 and lecture_slider["x"] > 0.4
    assert lecture_slider["x"] + lecture_slider["len"] == pytest.approx(1.0)
