"""The Explore page's main figure: descents animated on the surface beside their loss and rate.

One figure with three subplot panels (the layout `make_subplots` would give, see `PANELS`):

- left, the surface (a background picture in ``layout.images``, see `viz.background`) with the
  landmarks (global and local minima, saddles, maxima, start), every path drawn faintly in full,
  and for each run a moving head with a short tail of dots (the last iterates);
- top right, the loss gap f(p_t) - f* + offset on a log axis (the offset keeps the logarithm
  finite at the minimum and lets surfaces with a negative minimum plot), a marker moving in step;
- bottom right, the learning rate of every step on a log axis, a marker moving in step.

The animation recipe (DESIGN.md): the full path is static and only the heads, tails and curve
markers move. Frames are plain dicts of short lists and update five traces whatever the number
of runs (tails, heads, off-window heads, loss markers, rate markers: one point or a fixed run of
points per run, so the colours and sizes stay in the static traces). Re-sending the growing path
in every frame costs 30x the bytes; one trace per run per frame cost 4x the build time.

Size and speed: long runs are cut to at most `max_frames` frames and the static curves to at
most `max_points` points per run; static arrays are float32 NumPy arrays, which plotly sends as
base64 typed arrays (5.3 bytes a number, and no per-element validation), frames carry numbers
rounded to 5 significant digits. 4 runs on Rosenbrock come to about 0.4 MB of JSON at 1000 steps
and 0.5 MB at 5000 (`bench/bench_figure.py`). The figure is built as plain dicts and lists
(`descent_dict`, about 7 ms): plotly's validation of the same figure as a `go.Figure` (150
frames, the layout key by key) took about 130 ms, most of a learning-rate rerun, so the page
sends the dict and `descent_figure` validates it for callers that want a `go.Figure`.

Off-window and diverged points: the axes stay on the landscape's window whatever the runs do. A
head outside the window is drawn as an open circle clamped to the window's border (its hover
gives the true position); tail dots outside the window are left out. A diverged run gets an "X"
at its last good point (clamped the same way) with the note "diverged at step k", and its head
stops there.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np
import orjson
import plotly.graph_objects as go

from landscapes.grid import evaluate_grid, evaluate_points
from landscapes.spec import Landscape
from optim.runner import Trajectory
from viz.background import layout_image, surface_image
from viz.identity_cache import IdentityCache
from viz.theme import DIVERGED_COLOR, THEMES, Theme

# What is drawn of one run depends on its trajectory, not on the others: the Explore page's
# reruns mostly change one run (a new learning rate) and keep the rest, so each run's share
# of the figure (masked arrays, static traces, frame columns) is cached by its `Trajectory`
# object, which the page's own cache hands back unchanged while the run is unchanged.
# Rebuilding all four runs every rerun was most of a learning-rate rerun's figure time.
_PER_RUN = IdentityCache(96)  # 4 runs x a few parts x the last several figures


def _per_run_cached(traj: Trajectory, key: tuple, build):
    """`build()` cached under (this trajectory object, key); treat the result as read-only."""
    return _PER_RUN.get_or_compute((traj,), key, build)


SIG_DIGITS = 5
TAIL_FRAMES = 3  # the tail spans the steps of the last few frames ...
TAIL_POINTS = 8  # ... drawn as this many dots
SPEEDS = ((0.5, "0.5×"), (1.0, "1×"), (2.0, "2×"), (4.0, "4×"))
FRAME_MS = 60  # frame duration at 1x: 150 frames play in 9 s
ANIMATED_NAMES = ("tails", "heads", "heads off-window", "loss markers", "lr markers")

# The three panels where `plotly.subplots.make_subplots(rows=2, cols=2, specs=[[{"rowspan": 2},
# {}], [None, {}]], column_widths=[0.56, 0.44], row_heights=[0.58, 0.42],
# horizontal_spacing=0.1, vertical_spacing=0.14)` puts them, written out: make_subplots costs
# 50 ms a call and installs plotly's default template, which the theme replaces anyway.
PANELS = {
    "xaxis": {"anchor": "y", "domain": [0.0, 0.504]},
    "yaxis": {"anchor": "x", "domain": [0.0, 1.0]},
    "xaxis2": {"anchor": "y2", "domain": [0.604, 1.0]},
    "yaxis2": {"anchor": "x2", "domain": [0.5012, 1.0]},
    "xaxis3": {"anchor": "y3", "domain": [0.604, 1.0]},
    "yaxis3": {"anchor": "x3", "domain": [0.0, 0.3612]},
}


def panels(theme: Theme) -> dict:
    """`PANELS`, with the gap between the surface and the right-hand panels widened for large
    type (lecture mode): the right panels' tick labels and axis titles grow with the font and
    otherwise print over the surface panel's last x label."""
    extra = 0.0065 * max(0, theme.font_size - 13)
    if not extra:
        return PANELS
    left_end = round(PANELS["xaxis"]["domain"][1] - extra / 2, 4)
    right_start = round(PANELS["xaxis2"]["domain"][0] + extra / 2, 4)
    out = {k: dict(v) for k, v in PANELS.items()}
    out["xaxis"]["domain"] = [0.0, left_end]
    for k in ("xaxis2", "xaxis3"):
        out[k]["domain"] = [right_start, 1.0]
    return out


@dataclass(frozen=True, eq=False)
class RunView:
    """One run as the figures show it.

    Attributes:
      label: the optimizer's display name ("Adam").
      color: its colour (from the theme's palette).
      traj: its `Trajectory` (NumPy arrays, one run: no batch axis).
      lr_text: the learning rate as the legend shows it ("0.01", "0.01 · cosine").
    """

    label: str
    color: str
    traj: Trajectory
    lr_text: str

    @property
    def name(self) -> str:
        """The legend entry: optimizer and learning rate."""
        return f"{self.label} (lr {self.lr_text})" if self.lr_text else self.label


# --------------------------------------------------------------------------------------------
# Plain data shared by the figure builders.


def round_sig(a, sig: int = SIG_DIGITS) -> np.ndarray:
    """float64 array rounded to `sig` significant digits (NaN and inf pass through).

    Each value is rounded to an integer multiple of 10^e (e = floor(log10|v|) - sig + 1) by an
    exact route: divide by 10^-e (e < 0) or multiply by 10^e (e >= 0), powers of ten that are
    exact doubles, so the result is the double nearest the decimal and prints short in JSON.
    """
    v = np.array(a, np.float64)
    ok = np.isfinite(v) & (v != 0)
    if not ok.any():
        return v
    x = v[ok]
    e = np.floor(np.log10(np.abs(x))).astype(np.int64) - (sig - 1)
    e = np.clip(e, -300, 300)
    neg = e < 0
    out = np.empty_like(x)
    p = 10.0 ** (-e[neg])
    out[neg] = np.round(x[neg] * p) / p
    q = 10.0 ** e[~neg]
    out[~neg] = np.round(x[~neg] / q) * q
    v[ok] = out
    return v


def plain(a, sig: int = SIG_DIGITS) -> list:
    """A JSON-ready (nested) list rounded to `sig` significant digits, None where not finite
    (None is a gap in plotly)."""
    v = round_sig(a, sig)
    bad = ~np.isfinite(v)
    if not bad.any():
        return v.tolist()
    obj = v.astype(object)
    obj[bad] = None
    return obj.tolist()


def rounded(a, sig: int = SIG_DIGITS) -> list:
    """`plain` of a flattened array: a flat list."""
    return plain(np.asarray(a, np.float64).ravel(), sig)


def f32(a) -> np.ndarray:
    """float32 copy: plotly serialises it as a base64 typed array (NaN stays NaN: a gap)."""
    return np.asarray(a, np.float32).copy()


def last_good(traj: Trajectory) -> int:
    """Index of the last real iterate: T, or k - 1 when the run diverged at step k."""
    k = int(np.asarray(traj.diverged_at))
    steps = int(np.asarray(traj.points).shape[0]) - 1
    return steps if k < 0 else min(max(k - 1, 0), steps)


def loss_offset(f_star: float) -> float:
    """The tiny offset added to f - f* before a logarithm.

    float32 resolves f only to about 1.2e-7 |f*| near the minimum, so smaller gaps are noise;
    1e-12 covers f* = 0.
    """
    return max(1e-12, 1.2e-7 * abs(float(f_star)))


def loss_gap(landscape: Landscape, loss) -> np.ndarray:
    """f - f* + offset, clipped at the offset (float rounding can put f a hair below f*)."""
    off = loss_offset(landscape.min_value)
    gap = np.asarray(loss, np.float64) - float(landscape.min_value)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(gap), np.maximum(gap, 0.0) + off, np.nan)


def sample_indices(last: int, budget: int) -> np.ndarray:
    """Indices 0..last to draw: all of them when they fit in `budget`, else half the budget on
    the first steps (where paths move most) and half spread evenly over the rest; 0 and `last`
    are always kept."""
    if last < 0:
        return np.zeros(0, np.int64)
    if last + 1 <= budget:
        return np.arange(last + 1)
    dense = budget // 2
    rest = np.round(np.linspace(dense, last, budget - dense)).astype(np.int64)
    return np.unique(np.concatenate([np.arange(dense), rest, [last]]))


def frame_steps(steps: int, max_frames: int) -> np.ndarray:
    """The steps the animation frames show: every step, or `max_frames` evenly spaced from 0
    to `steps` (both ends kept)."""
    count = max(2, min(int(max_frames), steps + 1))
    return np.unique(np.round(np.linspace(0, steps, count)).astype(np.int64))


def inside(points: np.ndarray, window) -> np.ndarray:
    """Which rows of (N, 2) `points` lie in the closed window (NaN rows do not)."""
    (x0, x1), (y0, y1) = window
    p = np.asarray(points, np.float64).reshape(-1, 2)
    with np.errstate(invalid="ignore"):
        return (p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)


def clamp(points: np.ndarray, window) -> np.ndarray:
    """Points moved coordinate-wise onto the window (non-finite rows become NaN)."""
    (x0, x1), (y0, y1) = window
    p = np.array(points, np.float64).reshape(-1, 2)
    p[~np.isfinite(p).all(axis=1)] = np.nan
    return np.stack([np.clip(p[:, 0], x0, x1), np.clip(p[:, 1], y0, y1)], axis=1)


def fmt(v: float) -> str:
    """A number for hover text and notes: 4 significant digits."""
    return f"{v:.4g}"


def landmark_traces(
    landscape: Landscape, theme: Theme, starts=None, *, xaxis: str = "x", yaxis: str = "y"
) -> list[go.Scatter]:
    """Markers for the global minima (star), local minima (open star), saddles (x), maxima
    (triangle) and start points (circle), each with hover text naming it and f there."""
    return [
        go.Scatter(t) for t in landmark_dicts(landscape, theme, starts, xaxis=xaxis, yaxis=yaxis)
    ]


def landmark_dicts(
    landscape: Landscape, theme: Theme, starts=None, *, xaxis: str = "x", yaxis: str = "y"
) -> list[dict]:
    """`landmark_traces` as plain scatter-trace dicts (no "type" key)."""
    ms = theme.marker_size
    ink = theme.contrast
    local = [s.xy for s in landscape.stationary if s.kind == "local_min"]
    saddles = [s.xy for s in landscape.stationary if s.kind == "saddle"]
    maxima = [s.xy for s in landscape.stationary if s.kind == "max"]
    kinds = [
        (
            "global minimum",
            list(landscape.minima),
            {
                "symbol": "star",
                "size": 1.5 * ms,
                "color": "#F0E442",
                "line": {"color": ink, "width": 1},
            },
        ),
        (
            "local minimum",
            local,
            {
                "symbol": "star-open",
                "size": 1.2 * ms,
                "color": ink,
                "line": {"color": ink, "width": 2},
            },
        ),
        (
            "saddle",
            saddles,
            {
                "symbol": "x-thin-open",
                "size": ms,
                "color": ink,
                "line": {"color": ink, "width": 2.5},
            },
        ),
        (
            "maximum",
            maxima,
            {
                "symbol": "triangle-up-open",
                "size": ms,
                "color": ink,
                "line": {"color": ink, "width": 2},
            },
        ),
        (
            "start",
            list(starts) if starts else [landscape.start],
            {"symbol": "circle-open", "size": ms, "color": ink, "line": {"color": ink, "width": 2}},
        ),
    ]
    traces = []
    for label, pts, marker in kinds:
        if not pts:
            continue
        arr = np.asarray(pts, np.float64).reshape(-1, 2)
        if label == "global minimum":
            values = np.full(len(arr), float(landscape.min_value))
        else:
            values = evaluate_points(landscape, arr)
        text = [
            f"{label} ({fmt(x)}, {fmt(y)})<br>f = {fmt(v)}"
            for (x, y), v in zip(arr.tolist(), values.tolist(), strict=True)
        ]
        traces.append(
            {
                "x": rounded(arr[:, 0]),
                "y": rounded(arr[:, 1]),
                "mode": "markers",
                "name": label,
                "legendgroup": "landmarks",
                "marker": marker,
                "hovertext": text,
                "hovertemplate": "%{hovertext}<extra></extra>",
                "xaxis": xaxis,
                "yaxis": yaxis,
                "unselected": {"marker": {"opacity": 1}},
            }
        )
    return traces


def click_grid_trace(landscape: Landscape, n: int = 40) -> dict:
    """An invisible n x n grid of selectable points over the window, named "click-grid" (a
    plain scatter-trace dict).

    Clicking a contour or an image returns no selection in Streamlit; clicking a scatter point
    does. The points are fully transparent whether selected or not and carry no hover label.
    They are tiny on purpose: plotly picks the nearest point within its hover distance (20 px)
    anyway, so a click anywhere lands on one, while a large marker would win every hover tie
    and hide the paths' hover labels (seen in Chromium with 14 px markers). The selection's
    x, y are the grid point's coordinates (a click right on a path or landmark selects that
    point instead, with its own x, y).
    """
    (x0, x1), (y0, y1) = landscape.window
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return {
        "x": rounded(gx.ravel()),
        "y": rounded(gy.ravel()),
        "mode": "markers",
        "name": "click-grid",
        "showlegend": False,
        "hoverinfo": "none",
        "marker": {"size": 2, "opacity": 0, "color": "#000000"},
        "selected": {"marker": {"opacity": 0}},
        "unselected": {"marker": {"opacity": 0}},
    }


@dataclass(frozen=True)
class Prepared:
    """One run reduced to what is drawn: float64 arrays and where it stopped."""

    run: RunView
    points: np.ndarray  # (T+1, 2), NaN where not a real iterate
    loss: np.ndarray  # (T+1,), NaN where not a real iterate
    gap: np.ndarray  # (T+1,), loss_gap of it
    lr: np.ndarray  # (T,)
    last: int  # index of the last real iterate
    diverged_at: int  # step k, or -1

    @property
    def steps(self) -> int:
        return self.points.shape[0] - 1


def prepare(landscape: Landscape, run: RunView) -> Prepared:
    """Mask the frozen copies after a divergence (and anything non-finite) with NaN."""
    masked = _per_run_cached(run.traj, ("prepare", landscape), lambda: _prepare(landscape, run))
    return masked if masked.run is run else replace(masked, run=run)


def _prepare(landscape: Landscape, run: RunView) -> Prepared:
    traj = run.traj
    raw = np.asarray(traj.points, np.float64).reshape(-1, 2)
    last = last_good(traj)
    real = np.asarray(traj.finite, bool).copy()
    real[last + 1 :] = False
    real[last] = True  # the stop point is real even when hand-made arrays disagree
    pts = raw.copy()
    pts[~(real & np.isfinite(raw).all(axis=1))] = np.nan
    loss = np.array(traj.loss, np.float64)
    loss[~real | ~np.isfinite(loss)] = np.nan
    return Prepared(
        run,
        pts,
        loss,
        loss_gap(landscape, loss),
        np.asarray(traj.lr, np.float64),
        last,
        int(np.asarray(traj.diverged_at)),
    )


def divergence_mark(prep: Prepared, window) -> tuple[np.ndarray, np.ndarray]:
    """(where the X is drawn, the true last good point): the last good point clamped to the
    window, so the mark is on screen even when the run left it before blowing up."""
    true = prep.points[prep.last]
    return clamp(true, window)[0], true


# --------------------------------------------------------------------------------------------
# The figure.


@functools.lru_cache(maxsize=16)
def _template(theme: Theme) -> dict:
    return theme.template().to_plotly_json()


def template_dict(theme: Theme) -> dict:
    """The theme's plotly template as a plain dict (validated once per theme, then cached:
    building the `go.layout.Template` cost a few ms a figure). Shared: do not mutate it."""
    return _template(theme)


@functools.lru_cache(maxsize=32)
def _click_grid(landscape: Landscape) -> dict:
    return click_grid_trace(landscape)


@functools.lru_cache(maxsize=64)
def _landmarks(landscape: Landscape, theme: Theme, starts: tuple) -> list[dict]:
    return landmark_dicts(landscape, theme, list(starts))


@functools.lru_cache(maxsize=32)
def _animation_controls(steps: tuple[int, ...], theme: Theme) -> tuple[list, list]:
    """The play/speed buttons and the step slider (cached: shared, read-only)."""

    def play(ms: float) -> dict:
        return {
            "frame": {"duration": ms, "redraw": False},
            "fromcurrent": True,
            "transition": {"duration": 0},
            "mode": "immediate",
        }

    still = {
        "frame": {"duration": 0, "redraw": False},
        "mode": "immediate",
        "transition": {"duration": 0},
    }
    # Plotly highlights the active button in a fixed near-white, so a button keeps dark text on
    # a light face in every theme (a dark face on the dark theme made the active one unreadable).
    button = {
        "font": {"size": theme.font_size, "color": "#111111"},
        "bgcolor": "#C8CCD4" if theme.dark else "#F2F2F2",
        "bordercolor": theme.text_color,
    }
    row = 2.4 * theme.font_size
    slider_x = round(0.32 + 0.012 * max(0, theme.font_size - 13), 3)
    menus = [
        {
            "type": "buttons",
            "direction": "right",
            "showactive": False,
            "x": 0.0,
            "y": 0.0,
            "xanchor": "left",
            "yanchor": "top",
            "pad": {"t": 50 + 2 * theme.font_size, "r": 6},
            **button,
            "buttons": [
                {"label": "▶ Play", "method": "animate", "args": [None, play(FRAME_MS)]},
                {"label": "❚❚ Pause", "method": "animate", "args": [[None], still]},
            ],
        },
        {
            "type": "buttons",
            "direction": "right",
            "showactive": True,
            "active": 1,
            "x": 0.0,
            "y": 0.0,
            "xanchor": "left",
            "yanchor": "top",
            "pad": {"t": 50 + 2 * theme.font_size + row, "r": 6},
            **button,
            "buttons": [
                {"label": label, "method": "animate", "args": [None, play(FRAME_MS / speed)]}
                for speed, label in SPEEDS
            ],
        },
    ]
    sliders = [
        {
            "active": 0,
            # right of the buttons, which widen with the font (lecture mode)
            "x": slider_x,
            "len": 1.0 - slider_x,
            "y": 0.0,
            "yanchor": "top",
            "pad": {"t": 40 + 2 * theme.font_size, "b": 0},
            # Hundreds of step labels would print over each other: hide them (transparent) and
            # show the current step above the slider instead.
            "font": {"color": "rgba(0,0,0,0)", "size": 8},
            "currentvalue": {
                "prefix": "step ",
                "visible": True,
                "xanchor": "left",
                "font": {"size": theme.font_size, "color": theme.text_color},
            },
            "tickcolor": theme.grid_color,
            "bgcolor": theme.grid_color,
            "bordercolor": theme.text_color,
            "steps": [
                {"label": str(s), "method": "animate", "args": [[str(s)], still]} for s in steps
            ],
        }
    ]
    return menus, sliders


def log_range(arrays: list[np.ndarray]) -> list[float] | None:
    """[log10 lo, log10 hi] over the positive finite values, padded; None when there are none.
    A fixed range keeps the moving markers from rescaling the axis mid-animation."""
    vals = (
        np.concatenate([np.asarray(a, np.float64).ravel() for a in arrays])
        if arrays
        else np.zeros(0)
    )
    vals = vals[np.isfinite(vals) & (vals > 0)]
    if vals.size == 0:
        return None
    lo, hi = math.log10(vals.min()), math.log10(vals.max())
    pad = max(0.06 * (hi - lo), 0.15)
    return [round(lo - pad, 3), round(hi + pad, 3)]


def log_axis(rng: list[float] | None) -> dict:
    axis = {"type": "log", "exponentformat": "power"}
    if rng is None:
        return axis
    axis.update(range=rng, autorange=False)
    decades = rng[1] - rng[0]
    # Powers of ten only (every n-th for a long axis) once the axis spans decades: plotly's
    # default labels every digit, which overprints. A short axis gets 1-2-5 ticks.
    if decades >= 1.6:
        axis["dtick"] = math.ceil(decades / 6)
    else:
        axis.update(short_log_ticks(rng[0], rng[1]))
    return axis


def short_log_ticks(lo: float, hi: float) -> dict:
    """Ticks for a log axis spanning log10 values lo..hi (under two decades): 1, 2 and 5 times
    each power of ten in range (every digit if that gives fewer than three), each labelled with
    its whole value ("0.002"). plotly's own 1-2-5 ticks ("D2") label 2e-3 as a bare "2", which
    a learner reads as a learning rate of 2."""
    for mantissas in ((1, 2, 5), tuple(range(1, 10))):
        vals = [
            float(f"{m}e{k}")
            for k in range(math.floor(lo) - 1, math.ceil(hi) + 1)
            for m in mantissas
            if lo <= math.log10(m) + k <= hi
        ]
        if len(vals) >= 3:
            break
    return {"tickvals": vals, "ticktext": [f"{v:g}" for v in vals]}


def _static_traces(prep: Prepared, theme: Theme, max_points: int) -> list[dict]:
    """The faint full path (hover: step, x, y, f), the loss curve and the rate curve."""
    run = prep.run
    lw = theme.line_width
    line = {"color": run.color, "width": lw}
    idx = sample_indices(prep.last, max_points)
    path = {
        "x": f32(prep.points[idx, 0]),
        "y": f32(prep.points[idx, 1]),
        "customdata": f32(np.column_stack([idx, prep.loss[idx]])),
        "mode": "lines",
        "line": dict(line),
        "opacity": theme.faint_opacity,
        "hovertemplate": f"{run.name}<br>step %{{customdata[0]}}<br>x = %{{x:.4g}}<br>y = %{{y:.4g}}<br>f = %{{customdata[1]:.4g}}<extra></extra>",
        "legendgroup": run.name,
        "name": run.name,
    }
    loss = {
        "x": idx.astype(np.int32),
        "y": f32(prep.gap[idx]),
        "mode": "lines",
        "showlegend": False,
        "line": dict(line),
        "hovertemplate": f"{run.name}<br>step %{{x}}<br>f − f* = %{{y:.4g}}<extra></extra>",
        "xaxis": "x2",
        "yaxis": "y2",
        "legendgroup": run.name,
        "name": run.name,
    }
    lr_idx = sample_indices(min(prep.last, prep.lr.shape[0] - 1), max_points)
    lr_vals = prep.lr[lr_idx]
    rate = {
        "x": lr_idx.astype(np.int32),
        "y": f32(np.where(lr_vals > 0, lr_vals, np.nan)),  # a log axis has no 0
        "mode": "lines",
        "showlegend": False,
        "line": dict(line),
        "hovertemplate": f"{run.name}<br>step %{{x}}<br>lr = %{{y:.4g}}<extra></extra>",
        "xaxis": "x3",
        "yaxis": "y3",
        "legendgroup": run.name,
        "name": run.name,
    }
    return [path, loss, rate]


def _divergence(prep: Prepared, theme: Theme, window) -> tuple[dict, dict]:
    """The X at the last good point and its note "diverged at step k"."""
    k = prep.diverged_at
    mark, true = divergence_mark(prep, window)
    note = f"diverged at step {k}"
    (_, _), (y0, y1) = window
    marker = {
        "x": rounded([mark[0]]),
        "y": rounded([mark[1]]),
        "mode": "markers",
        "name": f"{prep.run.name}: {note}",
        "showlegend": False,
        "legendgroup": prep.run.name,
        "marker": {
            "symbol": "x",
            "size": 1.6 * theme.marker_size,
            "color": DIVERGED_COLOR,
            "line": {"color": theme.contrast, "width": 1},
        },
        "hovertext": [
            f"{prep.run.name}<br>{note}<br>last good point ({fmt(true[0])}, {fmt(true[1])}) at step {prep.last}<br>f = {fmt(prep.loss[prep.last])}"
        ],
        "hovertemplate": "%{hovertext}<extra></extra>",
        "unselected": {"marker": {"opacity": 1}},
        "cliponaxis": False,
    }
    annotation = {
        "x": rounded([mark[0]])[0],
        "y": rounded([mark[1]])[0],
        "xref": "x",
        "yref": "y",
        "text": note,
        "showarrow": True,
        "arrowcolor": DIVERGED_COLOR,
        "ax": 0,
        "ay": -34 if mark[1] < (y0 + y1) / 2 else 34,
        "font": {"color": DIVERGED_COLOR, "size": theme.font_size},
        "bgcolor": theme.paper_bg,
        "bordercolor": DIVERGED_COLOR,
        "name": "diverged",
    }
    return marker, annotation


def _animated_traces(preps: list[Prepared], theme: Theme) -> list[dict]:
    """The five moving traces; their colours and sizes are static, frames move x and y."""
    colors = [p.run.color for p in preps]
    ms = theme.marker_size
    ramp = np.linspace(0.3, 0.8, TAIL_POINTS)
    hover = "%{text}<br>step %{customdata[0]}<br>x = %{x:.4g}<br>y = %{y:.4g}<br>f = %{customdata[1]:.4g}<extra></extra>"
    names = [p.run.name for p in preps]

    def common() -> dict:
        # cliponaxis off: a head clamped to the border is drawn whole, not cut in half.
        return {
            "mode": "markers",
            "showlegend": False,
            "cliponaxis": False,
            "unselected": {"marker": {"opacity": 1}},
        }

    return [
        {
            "name": ANIMATED_NAMES[0],
            "marker": {
                "color": [c for c in colors for _ in range(TAIL_POINTS)],
                "size": (np.tile(ramp, len(preps)) * 0.7 * ms).round(1).tolist(),
                "opacity": np.tile(ramp, len(preps)).round(2).tolist(),
            },
            "hoverinfo": "skip",
            **common(),
        },
        {
            "name": ANIMATED_NAMES[1],
            "marker": {
                "color": colors,
                "size": ms,
                "symbol": "circle",
                "line": {"color": theme.contrast, "width": 1.5},
            },
            "text": names,
            "hovertemplate": hover,
            **common(),
        },
        {
            "name": ANIMATED_NAMES[2],
            "marker": {
                "color": colors,
                "size": ms,
                "symbol": "circle-open",
                "line": {"width": 3},
            },
            "text": names,
            "hovertemplate": hover.replace(
                "<br>step", "<br>outside the window, shown at its edge<br>step"
            ).replace(
                "x = %{x:.4g}<br>y = %{y:.4g}",
                "x = %{customdata[2]:.4g}<br>y = %{customdata[3]:.4g}",
            ),
            **common(),
        },
        {
            "name": ANIMATED_NAMES[3],
            "marker": {"color": colors, "size": ms, "line": {"color": theme.contrast, "width": 1}},
            "hoverinfo": "skip",
            "xaxis": "x2",
            "yaxis": "y2",
            **common(),
        },
        {
            "name": ANIMATED_NAMES[4],
            "marker": {
                "color": colors,
                "size": 0.8 * ms,
                "line": {"color": theme.contrast, "width": 1},
            },
            "hoverinfo": "skip",
            "xaxis": "x3",
            "yaxis": "y3",
            **common(),
        },
    ]


_FRAME_COLUMNS = ("tx", "ty", "hx", "hy", "hc", "ox", "oy", "oc", "lx", "ly", "rx", "ry")
_NUMPY_JSON = orjson.OPT_SERIALIZE_NUMPY


def _frame_columns(prep: Prepared, fsteps: np.ndarray, window) -> dict[str, list[bytes]]:
    """One run's part of every frame, as JSON: per column of `_FRAME_COLUMNS`, one byte string
    per frame holding that frame's row without its brackets (``b"1.5,null,0.25"``), numbers
    rounded as `plain` rounds them and null where not finite.

    JSON and not lists: a frame's list of a column is then the runs' strings joined by commas,
    and the frames go to the browser as the text built here. Building the frames as Python
    lists and writing them out again cost a third of a learning-rate rerun's figure time."""
    tail_from = fsteps[np.maximum(np.arange(fsteps.size) - TAIL_FRAMES, 0)]
    frac = np.linspace(0.0, 1.0, TAIL_POINTS)
    h = np.minimum(fsteps, prep.last)  # (F,)
    lo = np.minimum(tail_from, h)
    tail_idx = np.round(lo[:, None] + (h - lo)[:, None] * frac).astype(np.int64)  # (F, P)
    tail = prep.points[tail_idx]  # (F, P, 2)
    tail[~inside(tail.reshape(-1, 2), window).reshape(tail.shape[:2])] = np.nan
    p = prep.points[h]  # (F, 2)
    ok = inside(p, window)
    c = clamp(p, window)
    t = np.clip(np.minimum(h, prep.lr.shape[0] - 1), 0, None)
    rate = prep.lr[t] if prep.lr.shape[0] else np.full(h.shape, np.nan)
    cols = {
        "tx": tail[..., 0],
        "ty": tail[..., 1],
        "hx": np.where(ok, p[:, 0], np.nan)[:, None],
        "hy": np.where(ok, p[:, 1], np.nan)[:, None],
        "hc": np.stack([h, prep.loss[h]], axis=1)[:, None, :],
        "ox": np.where(ok, np.nan, c[:, 0])[:, None],
        "oy": np.where(ok, np.nan, c[:, 1])[:, None],
        "oc": np.stack([h, prep.loss[h], p[:, 0], p[:, 1]], axis=1)[:, None, :],
        "lx": h[:, None],
        "ly": prep.gap[h][:, None],
        "rx": t[:, None],
        "ry": np.where(rate > 0, rate, np.nan)[:, None],
    }
    # Rounded in one call (the columns side by side): a call per small column cost more in
    # NumPy's per-call overhead than the rounding itself.
    flat = [np.asarray(cols[col], np.float64).reshape(fsteps.size, -1) for col in _FRAME_COLUMNS]
    rounded = np.split(
        round_sig(np.concatenate(flat, axis=1)), np.cumsum([f.shape[1] for f in flat])[:-1], axis=1
    )
    return {
        col: _json_rows(r.reshape(cols[col].shape))
        for col, r in zip(_FRAME_COLUMNS, rounded, strict=True)
    }


def _json_rows(a: np.ndarray) -> list[bytes]:
    """The JSON of each row of `a` (F, k) without its brackets; of `a` (F, 1, m) each row's one
    point with its brackets (``b"[1.0,2.5]"``). orjson writes NaN and infinities as null, as
    `plain` makes them None.

    One `orjson.dumps` of the whole array, cut at the row boundaries: no number's JSON holds a
    bracket, so ``],[`` is found exactly between rows."""
    nested = a.ndim == 3
    flat = np.ascontiguousarray(a.reshape(a.shape[0], -1))
    rows = orjson.dumps(flat, option=_NUMPY_JSON)[2:-2].split(b"],[")
    return [b"[%b]" % r for r in rows] if nested else rows


# One frame: the five animated traces of `_animated_traces`, in their order, then the indices of
# the traces they update. "type" as plotly's validated `go.Frame` writes it: the JSON is the same.
_FRAME_JSON = (
    b'{"name":"%d","data":['
    b'{"x":[%b],"y":[%b],"type":"scatter"},'
    b'{"x":[%b],"y":[%b],"customdata":[%b],"type":"scatter"},'
    b'{"x":[%b],"y":[%b],"customdata":[%b],"type":"scatter"},'
    b'{"x":[%b],"y":[%b],"type":"scatter"},'
    b'{"x":[%b],"y":[%b],"type":"scatter"}'
    b'],"traces":%b}'
)


def frame_list(preps: list[Prepared], fsteps, window, animated: list[int]) -> list[bytes]:
    """The animation frames, each as the JSON of one frame object, ready to send.

    Per frame step s, the five animated traces (`_animated_traces`). Each run's head is at step
    h = min(s, last good step): a diverged run's head stops where it stopped. A head off the
    window moves to the off-window trace, clamped to the border; its customdata keeps the true
    position. The tail is TAIL_POINTS iterates evenly spaced from the step of TAIL_FRAMES frames
    earlier to h; tail points off the window are null. Every coordinate in a frame lies in the
    window or is null. Each run's part is cached with its trajectory (`_frame_columns`), so a
    rerun that changed one run computes only that run's part and joins the rest.
    """
    fsteps = np.asarray(fsteps, np.int64)
    key = ("frames", tuple(fsteps.tolist()), tuple(map(tuple, window)))
    per_run = [
        _per_run_cached(prep.run.traj, key, lambda prep=prep: _frame_columns(prep, fsteps, window))
        for prep in preps
    ]
    # Frame i's list of a column is the runs' rows for frame i, one after the other.
    joined = [
        [b",".join(rows) for rows in zip(*(run[col] for run in per_run), strict=True)]
        for col in _FRAME_COLUMNS
    ]
    traces = orjson.dumps(animated)
    return [
        _FRAME_JSON % (s, *(column[i] for column in joined), traces)
        for i, s in enumerate(fsteps.tolist())
    ]


def descent_dict(
    landscape: Landscape,
    runs: list[RunView],
    *,
    Z: np.ndarray | None = None,
    xs: np.ndarray | None = None,
    ys: np.ndarray | None = None,
    theme: Theme = THEMES["light"],
    max_frames: int = 150,
    height: int | None = None,
    clickable: bool = False,
    max_points: int = 1500,
    log_color: bool | None = None,
    frames_as_json: bool = False,
) -> dict:
    """The animated descent figure as the plain dict plotly.js receives (see the module
    docstring): ``{"data": [...], "layout": {...}, "frames": [...]}`` ("frames" only when
    there are runs).

    This is `descent_figure` without plotly's validation, which cost about 170 ms for the
    default view (150 frames and the layout validated key by key) against a few ms to build the
    dict: it is what the Explore page sends on every rerun. The dict is exactly what
    ``descent_figure(...).to_dict()`` gives (a test compares them), with NumPy float32/int32
    arrays where plotly would send base64 typed arrays (`ui.compute.encoded` encodes them). It
    shares cached parts (the theme's template), so treat it as read-only.

    Args:
      landscape: the surface.
      runs: the runs, in legend order.
      Z, xs, ys: the surface on a grid (`landscapes.grid.evaluate_grid`); evaluated if None.
      theme: colours and sizes.
      max_frames: at most this many animation frames (evenly spaced steps, first and last kept).
      height: figure height in px (by default it grows with the theme's font).
      clickable: add the invisible "click-grid" trace (first) so a click picks a start point.
      max_points: at most about this many points per static curve.
      log_color: colour the surface on a log scale; the landscape's own choice if None.
      frames_as_json: give "frames" as the bytes of their JSON, as they are built (what the
        page sends: `ui.compute.SentFigure` passes them on unparsed), not as dicts.

    Returns:
      The figure dict. Trace order: ["click-grid"], then per run its path (the legend entry),
      loss and rate curves, the landmarks, one "X" per diverged run, then the five animated
      traces named in `ANIMATED_NAMES`. Frames are named by their step number; the slider's
      steps carry the same labels.
    """
    if Z is None or xs is None or ys is None:
        xs, ys, Z = evaluate_grid(landscape)
    log_color = landscape.log_color if log_color is None else bool(log_color)
    window = landscape.window
    (x0, x1), (y0, y1) = window
    preps = [prepare(landscape, r) for r in runs]
    steps = max((p.steps for p in preps), default=0)

    traces: list[dict] = [_click_grid(landscape)] if clickable else []
    for prep in preps:
        key = ("static", landscape, theme, max_points, prep.run.color, prep.run.name)
        traces += _per_run_cached(
            prep.run.traj, key, lambda prep=prep: _static_traces(prep, theme, max_points)
        )
    starts = sorted(
        {tuple(np.round(p.points[0], 6).tolist()) for p in preps if np.isfinite(p.points[0]).all()}
    )
    traces += _landmarks(landscape, theme, tuple(starts))
    annotations = []
    for prep in preps:
        if prep.diverged_at >= 0:
            marker, note = _divergence(prep, theme, window)
            traces.append(marker)
            annotations.append(note)

    frames: list[bytes] = []
    fsteps: list[int] = []
    if preps:
        first_animated = len(traces)
        traces += _animated_traces(preps, theme)
        animated = list(range(first_animated, len(traces)))
        fsteps = frame_steps(steps, max_frames).tolist()
        frames = frame_list(preps, fsteps, window, animated)
        for i, d in zip(animated, orjson.loads(frames[0])["data"], strict=True):
            traces[i].update(d)  # the first frame's positions (and "type": "scatter")

    menus, sliders = _animation_controls(tuple(fsteps), theme) if frames else ([], [])
    step_range = [0, max(steps, 1)]
    grid = panels(theme)
    window_axis = {"autorange": False, "constrain": "domain", "showgrid": False, "zeroline": False}
    layout = {
        "xaxis": {**grid["xaxis"], **window_axis, "range": [x0, x1], "title": {"text": "x"}},
        "yaxis": {
            **grid["yaxis"],
            **window_axis,
            "range": [y0, y1],
            "scaleanchor": "x",
            "scaleratio": 1,
            "title": {"text": "y"},
        },
        "xaxis2": {**grid["xaxis2"], "range": step_range, "autorange": False},
        "yaxis2": {
            **grid["yaxis2"],
            **log_axis(log_range([p.gap for p in preps])),
            "title": {"text": "f − f*"},
        },
        "xaxis3": {
            **grid["xaxis3"],
            "range": step_range,
            "autorange": False,
            "matches": "x2",
            "title": {"text": "step"},
        },
        "yaxis3": {
            **grid["yaxis3"],
            **log_axis(log_range([p.lr[: p.last + 1] for p in preps])),
            "title": {"text": "learning rate"},
        },
        "template": template_dict(theme),
        "height": height or (620 + 14 * max(0, theme.font_size - 13)),
        "margin": {"l": 10, "r": 10, "t": 40, "b": 110 + 4 * theme.font_size if frames else 40},
        "images": [
            layout_image(surface_image(landscape, Z, xs, ys, theme, log_color), xs, ys, theme)
        ],
        "legend": {
            "orientation": "h",
            "x": 0,
            "y": 1.01,
            "yanchor": "bottom",
            "xanchor": "left",
            "groupclick": "togglegroup",
        },
        "hovermode": "closest",
    }
    # Empty lists are left out, as plotly's validated layout leaves them out.
    for key, value in (("updatemenus", menus), ("sliders", sliders), ("annotations", annotations)):
        if value:
            layout[key] = value
    figure = {"data": [{"type": "scatter", **t} for t in traces], "layout": layout}
    if frames:  # as plotly's `to_dict`: no "frames" key when there are none
        joined = b"[" + b",".join(frames) + b"]"
        figure["frames"] = joined if frames_as_json else orjson.loads(joined)
    return figure


def descent_figure(landscape: Landscape, runs: list[RunView], **kwargs) -> go.Figure:
    """`descent_dict` as a validated `go.Figure` (for exports, and for tests that read it
    through plotly's objects). Same arguments; every trace, frame and layout key is checked by
    plotly, which costs about 170 ms for the default view: the page sends `descent_dict`."""
    return go.Figure(descent_dict(landscape, runs, **kwargs))
