"""Figures of the learning-rate tools: range test, sweep, phase diagram, basins, noise ensembles.

Pure builders: results of `optim.lr_tools` in, `go.Figure` out. Every figure takes a theme name
(`viz.theme`: Okabe-Ito colours, safe for colour-vision deficiencies) and an optional
`font_size` for projection. Learning rates are always on a log axis; heatmaps over learning
rates use log10(lr) as their coordinate (a heatmap's cells are laid out in linear data space)
with ticks labelled as powers of ten.

Colours with a fixed meaning: the four bands (crawls sky blue, converges bluish green, oscillates
orange, diverges vermillion), divergence always vermillion, "not converged" grey.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from landscapes.grid import evaluate_grid
from landscapes.spec import Landscape
from optim.lr_tools import BANDS, Basins, Ensemble, LRSweep, PhaseDiagram, RangeTest, band_segments
from viz.background import layout_image, surface_image
from viz.descent import f32, landmark_traces, loss_gap, short_log_ticks
from viz.theme import DIVERGED_COLOR, OKABE_ITO, Theme, get_theme

BAND_COLORS = {
    "crawls": "#56B4E9",  # sky blue
    "converges": "#009E73",  # bluish green
    "oscillates": "#E69F00",  # orange
    "diverges": DIVERGED_COLOR,  # vermillion
}
NOT_CONVERGED = "#999999"
SUGGESTION_COLORS = {"valley": "#0072B2", "steep": "#CC79A7", "minimum / 10": "#E69F00"}
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _theme(theme: str | Theme, font_size: int | None) -> Theme:
    t = get_theme(theme) if isinstance(theme, str) else theme
    if font_size is None:
        return t
    from dataclasses import replace

    return replace(t, font_size=int(font_size))


def _layout(
    fig: go.Figure,
    theme: Theme,
    title: str,
    height: int,
    *,
    subtitle: str = "",
    legend_below: bool = False,
) -> go.Figure:
    """Theme, title (and subtitle) and legend. The legend sits right of the plot (or below
    it, for figures whose right side holds a colour bar), never over the title."""
    if legend_below:
        legend = {"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0.0}
        margin = {"l": 70, "r": 30, "t": 90, "b": 140}
    else:
        legend = {"orientation": "v", "yanchor": "top", "y": 1.0, "x": 1.02}
        margin = {"l": 70, "r": 30, "t": 90, "b": 60}
    title_spec: dict = {"text": title, "x": 0.01, "xanchor": "left", "automargin": True}
    if subtitle:
        title_spec["subtitle"] = {"text": subtitle, "font": {"size": max(11, theme.font_size - 2)}}
    fig.update_layout(
        template=theme.template(),
        title=title_spec,
        height=height,
        margin=margin,
        legend=legend,
        font={"size": theme.font_size},
    )
    return fig


def log_axis(values) -> dict:
    """A log axis whose ticks are powers of ten (every n-th on a long axis) or 1-2-5 on a short
    one: plotly's default labels every digit, which overprints."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    axis: dict = {"type": "log", "exponentformat": "power"}
    if v.size:
        lo, hi = math.log10(v.min()), math.log10(v.max())
        if hi - lo >= 1.6:
            axis["dtick"] = math.ceil((hi - lo) / 7)
        else:  # whole values at 1-2-5 (viz.descent.short_log_ticks), padded as plotly pads
            pad = max(0.06 * (hi - lo), 0.15)
            axis.update(short_log_ticks(lo - pad, hi + pad))
    return axis


def line_style(theme: Theme, i: int) -> dict:
    """Colour and dash of the i-th optimizer's curve in the sweep: blue, reddish purple and
    black/white first (the band colours are sky blue, green, orange and vermillion), then
    the same three dashed, then dash-dotted."""
    colors = ("#0072B2", "#CC79A7", theme.contrast)
    dashes = ("solid", "dash", "dashdot", "dot")
    return {"color": colors[i % 3], "dash": dashes[(i // 3) % 4], "width": theme.line_width}


def fmt(v: float) -> str:
    """A rate or a number, 3 significant digits."""
    return f"{v:.3g}"


def power_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Integer log10 ticks spanning [lo, hi] (in log10 units), labelled 10⁻³, 10⁰, ..."""
    a, b = math.floor(lo), math.ceil(hi)
    step = max(1, math.ceil((b - a) / 7))
    vals = list(range(a, b + 1, step))
    return [float(v) for v in vals], [f"10{str(v).translate(SUPERSCRIPT)}" for v in vals]


def _vline(fig, x: float, color: str, text: str, *, dash: str = "dash") -> None:
    """A labelled vertical line at learning rate x on the log x axis.

    A shape's x is in data units but an annotation's x on a log axis is log10 of it (plotly.js
    #1258, plotly.py #4012), so the label is placed by hand rather than by add_vline.
    """
    fig.add_vline(x=x, line={"color": color, "dash": dash, "width": 2})
    fig.add_annotation(
        x=math.log10(x),
        y=1.0,
        xref="x",
        yref="y domain",
        text=text,
        showarrow=False,
        textangle=-90,
        xanchor="right",
        yanchor="top",
        font={"color": color},
    )


# --------------------------------------------------------------------------------------------
# LR range test


def range_test_figure(
    rt: RangeTest,
    *,
    sweep_best: float | None = None,
    title: str = "LR range test",
    theme: str | Theme = "light",
    font_size: int | None = None,
) -> go.Figure:
    """Loss against the learning rate of the ramp, with fastai's three suggestions.

    Traces: "raw loss" (faint), "smoothed loss" (the moving average the suggestions read), the
    suggestion points "valley", "steep", "minimum / 10" as markers and as labelled vertical
    lines, and (if given) the sweep's best constant rate as a dotted line. The steps outside
    the window the suggestions were computed on (the first tenth, the last five, after the
    stop) are shaded.
    """
    th = _theme(theme, font_size)
    n = rt.n_recorded
    lrs = rt.lrs[:n]
    fig = go.Figure()
    raw = np.where(np.isfinite(rt.raw_loss[:n]), rt.raw_loss[:n], np.nan)
    fig.add_trace(
        go.Scatter(
            x=f32(lrs),
            y=f32(raw),
            mode="lines",
            name="raw loss",
            line={"color": th.color(1), "width": 1.5},
            opacity=0.5,
            hovertemplate="lr %{x:.3g}<br>loss %{y:.4g}<extra>raw</extra>",
        )
    )
    sm = rt.smooth_loss[:n]
    fig.add_trace(
        go.Scatter(
            x=f32(lrs),
            y=f32(np.where(np.isfinite(sm), sm, np.nan)),
            mode="lines",
            name="smoothed loss",
            line={"color": th.contrast, "width": th.line_width},
            hovertemplate="lr %{x:.3g}<br>smoothed %{y:.4g}<extra></extra>",
        )
    )
    suggestions = (
        ("valley", rt.valley, rt.valley_point),
        ("steep", rt.steep, rt.steep_point),
        ("minimum / 10", rt.minimum, rt.minimum_point),
    )
    for name, lr, (px, py) in suggestions:
        if not math.isfinite(lr):
            continue
        color = SUGGESTION_COLORS[name]
        fig.add_trace(
            go.Scatter(
                x=[px],
                y=[py],
                mode="markers",
                name=f"{name}: {fmt(lr)}",
                marker={"color": color, "size": th.marker_size, "symbol": "diamond"},
                hovertemplate=f"{name}<br>suggests lr {fmt(lr)}<extra></extra>",
            )
        )
        _vline(fig, lr, color, f"{name} {fmt(lr)}")
    if sweep_best is not None and math.isfinite(sweep_best):
        _vline(
            fig, sweep_best, BAND_COLORS["converges"], f"sweep best {fmt(sweep_best)}", dash="dot"
        )
    # Shade what the suggestions did not see.
    first, last = rt.window
    shade = {"fillcolor": th.grid_color, "opacity": 0.5, "line_width": 0, "layer": "below"}
    if first > 0 and n > 0:
        fig.add_vrect(x0=float(lrs[0]), x1=float(rt.lrs[min(first, n - 1)]), **shade)
    if 0 <= last < n - 1:
        fig.add_vrect(x0=float(rt.lrs[last]), x1=float(lrs[-1]), **shade)
    # The y range follows the smoothed curve (what the suggestions read); the raw loss's
    # final blow-up would otherwise flatten it.
    finite = sm[np.isfinite(sm)]
    raw_ok = raw[np.isfinite(raw)]
    yaxis: dict = {"title_text": "loss f(x, y)"}
    if finite.size:
        lo = float(min(finite.min(), raw_ok.min() if raw_ok.size else np.inf))
        hi = float(finite.max())
        if lo > 0 and hi / lo > 30:
            pad = 0.05 * (math.log10(hi) - math.log10(lo))
            yaxis.update(log_axis(finite), range=[math.log10(lo) - pad, math.log10(hi) + pad])
        else:
            pad = 0.05 * (hi - lo) or 0.05 * abs(hi) or 1.0
            yaxis.update(range=[lo - pad, hi + pad])
    fig.update_xaxes(title_text="learning rate η (log scale)", **log_axis(rt.lrs))
    fig.update_yaxes(**yaxis)
    stop = " (stopped: smoothed loss > 4 × best)" if rt.stopped_early else ""
    return _layout(fig, th, f"{title}{stop}", 460)


# --------------------------------------------------------------------------------------------
# Sweep


def sweep_figure(
    sweeps: Mapping[str, LRSweep],
    landscape: Landscape,
    *,
    bounds: Mapping[str, float] | None = None,
    range_lr: float | None = None,
    shade: str | None = None,
    theme: str | Theme = "light",
    font_size: int | None = None,
) -> go.Figure:
    """Final loss, steps to f* + eps, and the bands, against the learning rate.

    Three rows sharing a log x axis:
      1. f(x_T) - f* (log scale; diverged runs are left out);
      2. steps to f* + eps (solid, one line per optimizer; missing where never reached) and the
         step of divergence (dotted);
      3. the band strip: one bar per optimizer coloured crawls / converges / oscillates /
         diverges (one legend entry per band).
    The bands of `shade` (default: the first optimizer) are shaded behind rows 1-2 and
    labelled; each optimizer's best rate is a star; `bounds` (label -> rate, e.g. 2/lambda_max
    for gradient descent) and `range_lr` (the range test's suggestion) are vertical lines.

    Args:
      sweeps: display label -> `LRSweep`, in legend order.
      landscape: the surface (for f*).
    """
    th = _theme(theme, font_size)
    labels = list(sweeps)
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.42, 0.42, 0.16],
        vertical_spacing=0.04,
    )
    for i, (label, sw) in enumerate(sweeps.items()):
        style = line_style(th, i)
        color = style["color"]
        gap = loss_gap(landscape, np.where(sw.diverged, np.nan, sw.final_loss))
        fig.add_trace(
            go.Scatter(
                x=f32(sw.lrs),
                y=f32(gap),
                mode="lines",
                name=label,
                legendgroup=label,
                line=style,
                hovertemplate=f"{label}<br>lr %{{x:.3g}}<br>f - f* %{{y:.3g}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        hit = np.where(sw.hit_step >= 0, sw.hit_step, np.nan).astype(np.float32)
        fig.add_trace(
            go.Scatter(
                x=f32(sw.lrs),
                y=hit,
                mode="lines",
                name=f"{label}: steps to f* + ε",
                legendgroup=label,
                showlegend=False,
                line=style,
                hovertemplate=f"{label}<br>lr %{{x:.3g}}<br>%{{y}} steps to f* + ε<extra></extra>",
            ),
            row=2,
            col=1,
        )
        div = np.where(sw.diverged, sw.diverged_at, np.nan).astype(np.float32)
        if sw.diverged.any():
            fig.add_trace(
                go.Scatter(
                    x=f32(sw.lrs),
                    y=div,
                    mode="lines",
                    name=f"{label}: diverged at step",
                    legendgroup=label,
                    showlegend=False,
                    line={"color": color, "width": 1.5, "dash": "dot"},
                    hovertemplate=f"{label}<br>lr %{{x:.3g}}<br>diverged at step %{{y}}<extra></extra>",
                ),
                row=2,
                col=1,
            )
        if sw.best_index >= 0:
            b = sw.best_index
            y = float(sw.hit_step[b]) if sw.hit_step[b] >= 0 else float("nan")
            fig.add_trace(
                go.Scatter(
                    x=[sw.best_lr],
                    y=[y if math.isfinite(y) else None],
                    mode="markers",
                    name=f"{label}: best lr {fmt(sw.best_lr)}",
                    legendgroup=label,
                    marker={
                        "symbol": "star",
                        "size": 1.6 * th.marker_size,
                        "color": color,
                        "line": {"color": th.contrast, "width": 1},
                    },
                    hovertemplate=f"{label}: best lr {fmt(sw.best_lr)}<extra></extra>",
                ),
                row=2,
                col=1,
            )
    # Band strip: one trace per band, segments as thick horizontal lines, None between them.
    for band in BANDS:
        xs: list = []
        ys: list = []
        for label, sw in sweeps.items():
            for name, lo, hi in band_segments(sw.lrs, sw.band_code):
                if name == band:
                    xs += [lo, hi, None]
                    ys += [label, label, None]
        fig.add_trace(
            go.Scatter(
                x=xs or [None],
                y=ys or [None],
                mode="lines+markers",
                name=f"band: {band}",
                legendgroup="bands",
                line={"color": BAND_COLORS[band], "width": 14},
                marker={"color": BAND_COLORS[band], "size": 6, "symbol": "square"},
                hovertemplate=f"{band}<br>%{{y}}<br>lr %{{x:.3g}}<extra></extra>",
            ),
            row=3,
            col=1,
        )
    # Shade the bands of one optimizer behind the curves, each labelled once.
    focus = shade if shade in sweeps else (labels[0] if labels else None)
    if focus is not None:
        labelled: set[str] = set()
        for name, lo, hi in band_segments(sweeps[focus].lrs, sweeps[focus].band_code):
            for row in (1, 2):
                fig.add_vrect(
                    x0=lo,
                    x1=hi,
                    fillcolor=BAND_COLORS[name],
                    opacity=0.13,
                    line_width=0,
                    layer="below",
                    row=row,
                    col=1,
                )
            if name not in labelled and hi / lo > 1.5:
                labelled.add(name)
                fig.add_annotation(
                    x=math.log10(math.sqrt(lo * hi)),
                    y=1.0,
                    xref="x",
                    yref="y domain",
                    text=name,
                    showarrow=False,
                    yanchor="bottom",
                    font={"color": BAND_COLORS[name], "size": th.font_size},
                )
    for label, rate in (bounds or {}).items():
        if rate is not None and math.isfinite(rate):
            fig.add_vline(
                x=rate,
                line={"color": th.contrast, "dash": "dash", "width": 2},
                row="all",
                col=1,
            )
            fig.add_annotation(
                x=math.log10(rate),
                y=0.02,
                xref="x",
                yref="y domain",
                text=f"{label} = {fmt(rate)}",
                showarrow=False,
                textangle=-90,
                xanchor="right",
                yanchor="bottom",
                font={"color": th.contrast},
            )
    if range_lr is not None and math.isfinite(range_lr):
        fig.add_vline(
            x=range_lr,
            line={"color": SUGGESTION_COLORS["valley"], "dash": "dot", "width": 2},
            row="all",
            col=1,
        )
        fig.add_annotation(
            x=math.log10(range_lr),
            y=0.98,
            xref="x",
            yref="y domain",
            text=f"range test {fmt(range_lr)}",
            showarrow=False,
            textangle=-90,
            xanchor="right",
            yanchor="top",
            font={"color": SUGGESTION_COLORS["valley"]},
        )
    any_sw = next(iter(sweeps.values()), None)
    eps = any_sw.eps if any_sw is not None else 1e-3
    steps = any_sw.steps if any_sw is not None else 1
    all_lrs = np.concatenate([sw.lrs for sw in sweeps.values()]) if sweeps else np.ones(1)
    fig.update_xaxes(**log_axis(all_lrs))
    fig.update_xaxes(title_text="learning rate η (log scale)", row=3, col=1)
    fig.update_yaxes(type="log", exponentformat="power", title_text="f(x_T) − f*", row=1, col=1)
    fig.update_yaxes(title_text=f"steps to f* + {eps:g}", range=[0, steps * 1.05], row=2, col=1)
    fig.update_yaxes(title_text="band", type="category", row=3, col=1)
    return _layout(fig, th, f"Learning-rate sweep: {steps} steps per rate", 780)


# --------------------------------------------------------------------------------------------
# Phase diagram


def phase_figure(
    pd: PhaseDiagram,
    *,
    closed_form: tuple[float, float] | None = None,
    title: str = "Learning rate × momentum",
    theme: str | Theme = "light",
    font_size: int | None = None,
) -> go.Figure:
    """Heatmap of steps to f* + eps over (log10 lr, momentum).

    Traces: "steps to f* + ε" (viridis, fewer steps darker... see the colour bar), "diverged"
    (vermillion cells), "not converged" (grey cells), the fastest cell ("best", a star) and, if
    given, Polyak's closed-form optimum ("closed form", a cross).
    """
    th = _theme(theme, font_size)
    x = np.log10(pd.lrs)
    hit = np.where(pd.hit_step >= 0, pd.hit_step, np.nan).astype(np.float32)
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=f32(x),
            y=f32(pd.momenta),
            z=hit,
            name="steps to f* + ε",
            colorscale="Viridis",
            reversescale=True,
            colorbar={"title": {"text": "steps"}},
            hovertemplate="log10 lr %{x:.2f}<br>"
            + pd.param
            + " %{y:.3f}<br>%{z} steps<extra></extra>",
        )
    )
    for name, mask, color in (
        ("diverged", pd.diverged, DIVERGED_COLOR),
        ("not converged", (pd.hit_step < 0) & ~pd.diverged, NOT_CONVERGED),
    ):
        fig.add_trace(
            go.Heatmap(
                x=f32(x),
                y=f32(pd.momenta),
                z=np.where(mask, 1.0, np.nan).astype(np.float32),
                name=name,
                colorscale=[[0, color], [1, color]],
                showscale=False,
                hovertemplate=f"{name}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=name,
                marker={"symbol": "square", "color": color, "size": 14},
            )
        )
    if math.isfinite(pd.best_lr):
        fig.add_trace(
            go.Scatter(
                x=[math.log10(pd.best_lr)],
                y=[pd.best_momentum],
                mode="markers",
                name=f"best: lr {fmt(pd.best_lr)}, {pd.param} {pd.best_momentum:.3f} ({pd.best_steps} steps)",
                marker={
                    "symbol": "star",
                    "size": 2 * th.marker_size,
                    "color": "#F0E442",
                    "line": {"color": "#000000", "width": 1.5},
                },
            )
        )
    if closed_form is not None:
        lr_c, mu_c = closed_form
        fig.add_trace(
            go.Scatter(
                x=[math.log10(lr_c)],
                y=[mu_c],
                mode="markers",
                name=f"closed form (Polyak): lr {fmt(lr_c)}, {pd.param} {mu_c:.3f}",
                marker={
                    "symbol": "x",
                    "size": 1.6 * th.marker_size,
                    "color": "#FFFFFF",
                    "line": {"color": "#000000", "width": 1.5},
                },
            )
        )
    tv, tt = power_ticks(float(x.min()), float(x.max()))
    fig.update_xaxes(title_text="learning rate η (log scale)", tickvals=tv, ticktext=tt)
    fig.update_yaxes(title_text=f"{pd.param} μ")
    return _layout(
        fig, th, f"{title}: steps to f* + {pd.eps:g} (of {pd.steps})", 620, legend_below=True
    )


# --------------------------------------------------------------------------------------------
# Basins of attraction


def basin_colorscale(n_minima: int) -> tuple[list, list[str]]:
    """A piecewise colorscale for z = class + brightness, class in 0..n_minima+1.

    Class k < n_minima (minimum k) spans [k, k+1): from the colour mixed 55 % with black (slow)
    to the full colour (fast); then "elsewhere" (grey) and "diverged" (vermillion), flat.
    Returns (colorscale, class colours).
    """
    palette = [c for c in OKABE_ITO if c != DIVERGED_COLOR]
    colors = [palette[k % len(palette)] for k in range(n_minima)] + [NOT_CONVERGED, DIVERGED_COLOR]
    total = n_minima + 2
    scale = []
    for k, c in enumerate(colors):
        lo, hi = k / total, (k + 1) / total
        dark = _mix(c, "#000000", 0.55) if k < n_minima else c
        scale += [[lo, dark], [hi, c]]
    return scale, colors


def _mix(a: str, b: str, t: float) -> str:
    ra, ga, ba = (int(a[i : i + 2], 16) for i in (1, 3, 5))
    rb, gb, bb = (int(b[i : i + 2], 16) for i in (1, 3, 5))
    r, g, bl = (round(u + (v - u) * t) for u, v in ((ra, rb), (ga, gb), (ba, bb)))
    return f"#{r:02X}{g:02X}{bl:02X}"


def basin_values(b: Basins) -> np.ndarray:
    """z of the basin heatmap: minimum k -> k + speed (speed in [0, 0.999], 1 = settled at
    step 0), elsewhere -> M + 0.5, diverged -> M + 1.5, with M minima."""
    m = len(b.minima)
    speed = np.clip(1.0 - b.settled_at / max(b.steps, 1), 0.0, 0.999)
    z = np.where(b.label >= 0, b.label + speed, 0.0)
    z = np.where(b.label == -1, m + 0.5, z)
    z = np.where(b.label == -2, m + 1.5, z)
    return z.astype(np.float32)


def basins_figure(
    b: Basins,
    landscape: Landscape,
    *,
    title: str = "Basins of attraction",
    theme: str | Theme = "light",
    font_size: int | None = None,
) -> go.Figure:
    """Each start point coloured by where its descent ended: one colour per minimum (brighter
    = settled sooner), grey "elsewhere", vermillion "diverged"; minima marked."""
    th = _theme(theme, font_size)
    m = len(b.minima)
    scale, colors = basin_colorscale(m)
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=f32(b.xs),
            y=f32(b.ys),
            z=basin_values(b),
            zmin=0.0,
            zmax=float(m + 2),
            colorscale=scale,
            showscale=False,
            name="basins",
            hovertemplate="start (%{x:.3g}, %{y:.3g})<extra></extra>",
        )
    )
    counts = [int((b.label == k).sum()) for k in range(m)] + [
        int((b.label == -1).sum()),
        int((b.label == -2).sum()),
    ]
    total = max(b.label.size, 1)
    names = [
        f"{'global' if k < b.n_global else 'local'} min ({fmt(x)}, {fmt(y)})"
        for k, (x, y) in enumerate(b.minima)
    ] + ["elsewhere", "diverged"]
    for name, color, count in zip(names, colors, counts, strict=True):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"{name}: {100 * count / total:.0f} %",
                marker={"symbol": "square", "color": color, "size": 14},
            )
        )
    for tr in landmark_traces(landscape, th):
        if tr.name in ("global minimum", "local minimum"):
            tr.update(showlegend=False)
            fig.add_trace(tr)
    (x0, x1), (y0, y1) = landscape.window
    fig.update_xaxes(title_text="start x", range=[x0, x1], constrain="domain")
    fig.update_yaxes(title_text="start y", range=[y0, y1], scaleanchor="x", constrain="domain")
    sub = (
        f"{b.label.shape[0]}×{b.label.shape[1]} starts, {b.steps} steps; brighter = settled sooner"
    )
    return _layout(fig, th, title, 600, subtitle=sub)


# --------------------------------------------------------------------------------------------
# Noise ensembles


def _thin(n: int, budget: int) -> np.ndarray:
    return np.unique(np.round(np.linspace(0, n - 1, min(n, budget))).astype(np.int64))


def ensemble_figure(
    ens: Ensemble,
    landscape: Landscape,
    *,
    title: str = "Noise ensemble",
    theme: str | Theme = "light",
    font_size: int | None = None,
    max_points: int = 400,
) -> go.Figure:
    """Left: the K noisy paths as a fan on the surface; right: the 10-90 % band and the median
    of f - f* over the K runs against the step (log scale). Paths are thinned to `max_points`
    points each (evenly in steps) to keep the figure light."""
    th = _theme(theme, font_size)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.1)
    xs, ys, z = evaluate_grid(landscape, 160)
    fig.add_layout_image(
        layout_image(surface_image(landscape, z, xs, ys, th, landscape.log_color), xs, ys, th)
    )
    k, t1 = ens.loss.shape
    idx = _thin(t1, max_points)
    px: list = []
    py: list = []
    for r in range(k):
        p = ens.points[r, idx].astype(np.float64)
        if ens.diverged_at[r] >= 0:
            p = p[idx < ens.diverged_at[r]]
        px += p[:, 0].round(5).tolist() + [None]
        py += p[:, 1].round(5).tolist() + [None]
    fig.add_trace(
        go.Scatter(
            x=px,
            y=py,
            mode="lines",
            name=f"{k} runs (seeds)",
            line={"color": th.color(0), "width": 1.2},
            opacity=0.5,
            hoverinfo="skip",
        ),
        row=1,
        col=1,
    )
    for tr in landmark_traces(landscape, th):
        tr.update(showlegend=False)
        fig.add_trace(tr, row=1, col=1)
    steps = np.arange(t1)[idx]
    q = ens.quantiles[:, idx]
    lo, med, hi = (loss_gap(landscape, np.where(np.isfinite(a), a, np.nan)) for a in q)
    band = th.color(4)
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=f32(lo),
            mode="lines",
            name="10 %",
            line={"color": band, "width": 0.5},
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=f32(hi),
            mode="lines",
            name="10–90 % band",
            fill="tonexty",
            line={"color": band, "width": 0.5},
            fillcolor=_rgba(band, 0.3),
        ),
        row=1,
        col=2,
    )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=f32(med),
            mode="lines",
            name="median",
            line={"color": band, "width": th.line_width},
        ),
        row=1,
        col=2,
    )
    (x0, x1), (y0, y1) = landscape.window
    fig.update_xaxes(title_text="x", range=[x0, x1], constrain="domain", row=1, col=1)
    fig.update_yaxes(
        title_text="y", range=[y0, y1], scaleanchor="x", constrain="domain", row=1, col=1
    )
    fig.update_xaxes(title_text="step t", row=1, col=2)
    fig.update_yaxes(
        title_text="f(x_t) − f* (log scale)", **log_axis(np.concatenate([lo, hi])), row=1, col=2
    )
    n_div = int((ens.diverged_at >= 0).sum())
    sub = f"gradient noise σ = {ens.noise:g}, {k} seeds" + (f", {n_div} diverged" if n_div else "")
    return _layout(fig, th, title, 520, subtitle=sub)


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
