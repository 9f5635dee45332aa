"""The Explore page: controls in the sidebar; the descent, its loss and learning-rate curves, and
what each optimizer does inside, in the main area.

One rerun: read the Settings (session state), apply a click on the chart, draw the sidebar
(whose callbacks have already updated the Settings), compute what changed (ui.compute caches
every run separately), draw the figures, write the URL. The animation plays in the browser:
the script never reruns per frame.

What a learning rate changes is one `st.fragment` (`_results`): the rate and hyperparameter
widgets, which it draws into slots the sidebar leaves for them, the text, the figures, the
metrics and the link. Moving a rate reruns only that fragment; the rest of the sidebar and
app.py stay as they are (about a quarter less server CPU per change, bench/README.md).

Nothing here may show a traceback to a visitor: the body is wrapped, an unexpected error is
logged with its traceback on the server and the page says in one sentence what happened.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from landscapes import LANDSCAPES, FormulaError, Landscape
from optim import OPTIMIZERS, SCHEDULES
from optim.runner import DIVERGENCE_BOUND
from ui import compute, controls, keys, pacing, url_state
from ui.settings import Settings
from viz.descent import RunView, descent_dict
from viz.theme import get_theme

log = logging.getLogger(__name__)

MAX_FRAMES = 150  # animation frames, whatever the number of steps (DESIGN.md: size and fps)
TABS = ("Update rules", "3-D view", "Inside the optimizer", "Stability", "Export and share")
STEP_CHOSEN = "_step_3d_chosen"  # the step the user picked on the 3-D slider (not a widget)


def render() -> None:
    """Draw the page; never raises (an unexpected error becomes one message and a log entry)."""
    _shown_safely(_render)


def _shown_safely(draw) -> None:
    """Run `draw`; an error becomes one sentence and a way out, never a traceback."""
    try:
        draw()
    except FormulaError as e:  # a formula that compiled once but cannot be drawn now
        log.warning("formula failed while drawing: %s", e)
        st.error(f"This formula cannot be drawn: {e}")
        st.button(
            "Back to the default surface",
            on_click=controls.update,
            kwargs={"landscape": "rosenbrock"},
        )
    except Exception:
        log.exception("the Explore page failed")
        st.error(
            "Something went wrong while drawing this view (the details are in the server log). "
            "Your settings are kept: change the last value you moved, or reset."
        )
        st.button("Reset all settings", on_click=_reset)


def _reset() -> None:
    st.session_state[keys.SETTINGS] = Settings(theme=controls.current().theme)
    st.session_state.pop(keys.FORMULA_ERROR, None)


# --------------------------------------------------------------------------------------------
# Inputs that are not widgets: a click on the chart, and the surface


def clicked_point(selection) -> tuple[float, float] | None:
    """The (x, y) of a click on the surface panel, from the chart's selection state."""
    try:
        points = selection["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for p in points or ():
        try:
            axis = p.get("xaxis", "x") if isinstance(p, dict) else "x"
            x, y = float(p["x"]), float(p["y"])
        except (KeyError, TypeError, ValueError):
            continue
        # only the surface panel (x/y axes); the loss and rate panels share no coordinates
        curve = p.get("curve_number")
        if axis in ("x", None) and math.isfinite(x) and math.isfinite(y) and curve in (0, None):
            return (x, y)
    return None


def _apply_click() -> None:
    """A new click on the surface moves the start there, once (the selection persists across
    reruns until the figure changes, so a click is applied only when the point changes)."""
    ss = st.session_state
    point = clicked_point(ss.get(keys.CHART))
    if point == ss.get(keys.LAST_CLICK):
        return
    ss[keys.LAST_CLICK] = point
    if point is not None:
        controls.update(start=point)


def _landscape(s: Settings) -> Landscape:
    """The surface; a custom formula that no longer compiles falls back to the last good one
    (or the default surface) with a message."""
    try:
        return compute.landscape_of(s)
    except FormulaError as e:
        st.error(f"The formula could not be used: {e}")
        good = st.session_state.get(keys.LAST_GOOD_FORMULA)
        if good is not None:
            try:
                from landscapes import from_formula

                return from_formula(*good)
            except FormulaError:
                pass
        return LANDSCAPES[Settings().landscape]


# --------------------------------------------------------------------------------------------
# Text around the figures


def _run_views(s: Settings, jobs, trajs, theme) -> list[RunView]:
    names = [OPTIMIZERS[j.optimizer].name for j in jobs]
    sched = "" if s.schedule == "constant" else f" · {SCHEDULES[s.schedule].name}"
    views = []
    for i, (job, traj) in enumerate(zip(jobs, trajs, strict=True)):
        label = names[i] if names.count(names[i]) == 1 else f"{names[i]} #{i + 1}"
        views.append(
            RunView(label=label, color=theme.color(i), traj=traj, lr_text=f"{job.lr:g}{sched}")
        )
    return views


def divergence_message(view: RunView, m: dict) -> str | None:
    """Why a run diverged, in words, from its `run_metrics`: the step, and where lr x lambda_max
    first passed 2.

    Gradient descent on a quadratic with curvature lambda multiplies the error along that
    direction by (1 - lr lambda) each step, which grows in size once lr lambda > 2; lambda_max of
    the Hessian along the path gives the local version of that test.
    """
    k = m.get("diverged_at")
    if k is None:
        return None
    text = f"**{view.name}** diverged at step {k}: "
    j, peak = m.get("stability_crossed_at"), m.get("peak_sharpness")
    if j is not None and j >= 0 and peak is not None:
        text += (
            f"lr × λ_max passed 2 at step {j} (it reached {peak:.3g}; λ_max is the sharpest "
            "curvature of the surface where the run was), and past 2 every step overshoots more "
            "than the last."
        )
    else:
        text += (
            f"its steps grew without bound (beyond |x|, |y| ≤ {DIVERGENCE_BOUND:.0e}, or the loss "
            "overflowed) while lr × λ_max stayed below 2: the optimizer's own step, not the "
            "curvature, blew up."
        )
    return text + " Try a smaller learning rate."


METRIC_NOTES = (
    f"*Steps to f\\* + ε*: the first step with f − f\\* ≤ {compute.EPS:g}. *Oscillation*: how "
    "often a step reverses the previous one's direction along x or y (the larger of the two), "
    "from 0 (never) to 1 (every step). *Largest step*: the longest single update, ‖u‖."
)


def metrics_table(rows: list[dict]) -> str:
    """The runs' metrics as one Markdown table, every cell shown in full.

    A Markdown table and not `st.dataframe`: it takes the page's type size (lecture mode
    enlarges it for the back of the hall, where the data grid's canvas keeps its own small
    font), it never cuts a verdict short, and it costs the server one text element a rerun
    instead of a data frame converted to Arrow (a tenth of a learning-rate rerun's time).
    """
    if not rows:
        return ""
    cols = list(rows[0])  # the rows' keys are the headers
    text = ("run", "verdict", "nearest minimum")  # left-aligned; the numbers right-aligned
    align = "|".join(":--" if c in text else "--:" for c in cols)
    lines = ["| " + " | ".join(_md_escape(c) for c in cols) + " |", f"|{align}|"]
    lines += ["| " + " | ".join(_md_escape(str(r[c])) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def _num(v: float, digits: int = 4) -> str:
    # Written here, not by the table widget: its printf formats do not switch to exponents.
    return f"{v:.{digits}g}" if v is not None and math.isfinite(v) else "—"


def metrics_rows(views, ms) -> list[dict]:
    """One row per run for the table (keyed by the column headers), every number as text."""
    rows = []
    for view, m in zip(views, ms, strict=True):
        reached = m["steps_to_eps"]
        rows.append(
            {
                "run": view.name,
                "verdict": m["verdict"],
                "final loss": _num(m["final_loss"]),
                "f − f*": _num(m["final_gap"], 3),
                "nearest minimum": m["minimum_label"],
                "distance to it": _num(m["distance"], 3),
                "steps to f* + ε": str(reached) if reached >= 0 else "not reached",
                "diverged at step": "no" if m["diverged_at"] is None else str(m["diverged_at"]),
                "oscillation": _num(m["oscillation"], 2),
                "largest step": _num(m["largest_step"], 3),
            }
        )
    return rows


def rule_markdown(title: str, latex: str, source: str = "", notes: str = "") -> str:
    """One update rule as Markdown: its name, the formula displayed as `st.latex` displays it
    (a ``$$`` block), where it comes from, and notes on it."""
    return "\n\n".join(p for p in (f"**{title}**", f"$$\n{latex}\n$$", source, notes) if p)


def update_rules_markdown(s: Settings) -> str:
    """The update rule of every optimizer compared, then the schedule's, as one Markdown text:
    one element, not four per optimizer, since every element costs the server time on every
    rerun."""
    blocks = []
    for optimizer in dict.fromkeys(run.optimizer for run in s.runs):
        spec = OPTIMIZERS[optimizer]
        source = f"[{spec.paper}]({spec.url})" if spec.url else spec.paper
        blocks.append(rule_markdown(spec.name, spec.latex, source, spec.notes))
    sched = SCHEDULES[s.schedule]
    pytorch = f"Equals PyTorch's `{sched.pytorch}` step for step." if sched.pytorch else ""
    blocks.append(rule_markdown(f"Schedule: {sched.name}", sched.latex, notes=pytorch))
    return "\n\n---\n\n".join(blocks)


def _open_settings(settings: Settings) -> None:
    """Callback: show `settings` (a lesson's demo or comparison) in the visitor's theme."""
    st.session_state[keys.SETTINGS] = replace(settings, theme=controls.current().theme)


def _lesson_banner(s: Settings) -> None:
    """Which lesson these settings came from, its claim, and what to look at: a learner who
    opened a demo (or a shared lesson link) sees why the page looks as it does, can switch to the
    lesson's comparisons, get the demo back after changing it, and return to the gallery."""
    try:
        from ui.lessons import LESSONS
    except ImportError:  # the lessons are optional: the page works without them
        return
    lesson = LESSONS.get(s.lesson) if s.lesson else None
    if lesson is None:
        return
    variants = [("the demo", lesson.settings)] + [
        (f"the comparison “{c.label}”", c.settings) for c in lesson.compare
    ]
    shown = next((name for name, v in variants if replace(v, theme=s.theme) == s), None)
    with st.container(border=True, key="lesson_banner"):
        st.markdown(f"**Lesson: {lesson.text('title')}.** {lesson.text('claim')}")
        if shown is not None:
            st.caption(f"Showing {shown}. {lesson.text('caption')}")
        else:
            st.caption(
                "You have changed the lesson's settings: the claim may no longer show. "
                "“Back to the demo” restores them."
            )
        with st.expander("What to notice"):
            st.markdown(lesson.text("notice"))
        labels = [("Back to the demo" if shown is None else "The demo", lesson.settings)]
        labels += [(f"Compare: {c.label}", c.settings) for c in lesson.compare]
        if shown is not None and len(labels) == 1:
            labels = []  # the demo is on screen and there is nothing to switch to
        # at least four slots, so that one or two buttons keep a button's width
        cols = st.columns(max(4, len(labels) + 1), vertical_alignment="center")
        for k, (label, settings) in enumerate(labels):
            cols[k].button(
                label,
                key=f"lesson_banner_{k}",
                on_click=_open_settings,
                args=(settings,),
                disabled=replace(settings, theme=s.theme) == s,
                help=label,  # the full label, when a narrow column cuts it short
                width="stretch",
            )
        cols[len(labels)].page_link(_lessons_page(), label="All lessons", icon=":material/school:")


def _lessons_page():
    from ui import lessons_page

    return st.Page(
        lessons_page.render, title="Lessons", url_path="lessons", icon=":material/school:"
    )


def _md_escape(text: str) -> str:
    """`text` shown literally by st.markdown: a custom surface's name is its formula, whose
    ``*`` would otherwise turn into italics (``3*sin(y)^2 + 0.1*y^2``)."""
    for ch in "\\`*_[]<>#$~|":
        text = text.replace(ch, "\\" + ch)
    return text


def _formula_note() -> None:
    """Say in the main area, beside the picture, that the formula typed in the sidebar was not
    used and which surface is shown instead: the error itself sits under the formula box, out of
    sight of a learner looking at the chart."""
    failed = st.session_state.get(keys.FORMULA_ERROR)
    if not failed:
        return
    draft = st.session_state.get(keys.FORMULA)
    typed = f" `{draft}`" if isinstance(draft, str) and "`" not in draft else ""
    message = str(failed["message"]).rstrip()
    message += "" if message.endswith((".", "?", "!")) else "."
    st.error(
        f"The formula{typed} could not be used: {_md_escape(message)} The surface below is the "
        "last one that worked; fix the formula in the sidebar and press Enter."
    )


def _rejected_notes(s: Settings) -> None:
    """What a shared link (or another page) asked for that could not be used, and why: shown
    until the learner changes something."""
    rejected = st.session_state.get(keys.URL_REJECTED)
    if not rejected:
        return
    settings, notes = rejected
    if notes and settings == s:
        st.warning(
            "Parts of these settings could not be used, so defaults or the nearest allowed "
            "values are shown instead:\n" + "\n".join(f"- {n}" for n in notes)
        )


# --------------------------------------------------------------------------------------------
# The page


def _schedule_preview(s: Settings, theme) -> None:
    from viz.schedule import schedule_figure

    # Every schedule is proportional to the base rate: drawn for a base rate of 1, the preview
    # reads as "times each run's rate" and does not change when a rate moves.
    lrs = compute.schedule_lrs(s.schedule, s.schedule_params, 1.0, s.steps)
    key = ("schedule", s.schedule, s.schedule_params, s.steps, theme.name)
    fig = compute.figure(key, lambda: schedule_figure(lrs, theme, "lr(t) ÷ base rate"))
    st.plotly_chart(fig, theme=None, config={"displayModeBar": False}, key="schedule_preview")
    if SCHEDULES[s.schedule].loss_driven:
        st.caption(
            "The loss lowers this rate during the run: see the rate panel of the main figure."
        )


def _render() -> None:
    _apply_click()
    s = controls.current()
    landscape = _landscape(s)
    start = compute.start_of(s, landscape)
    theme = get_theme(s.theme)
    slots = controls.sidebar(
        start, schedule_plot=lambda: _schedule_preview(controls.current(), theme)
    )
    _results(controls.current(), landscape, start, slots)


def _fragment_rerun() -> bool:
    """True when only the results fragment is running (a widget inside it moved)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return bool(ctx is not None and ctx.fragment_ids_this_run)


@st.fragment
def _results(drawn: Settings, landscape: Landscape, start, slots: controls.RateSlots) -> None:
    """Everything a learning rate changes: the rate controls (in the sidebar's slots), the
    page's text, the figures, the metrics and the link.

    A fragment: moving a rate or a hyperparameter reruns this function only, not app.py and the
    sidebar around it. Its arguments are those of the last full run; anything else that
    changes the sidebar (a click on the surface, a lesson's button, a reset) asks for a full
    rerun first.
    """
    if _fragment_rerun():
        pacing.pace()  # app.py paces full runs; a fragment rerun does not pass through it
        _apply_click()
        if controls.layout_of(controls.current()) != controls.layout_of(drawn):
            st.rerun()
    _shown_safely(lambda: _results_body(landscape, start, slots))


def _results_body(landscape: Landscape, start, slots: controls.RateSlots) -> None:
    controls.rate_controls(slots)
    s = controls.current()
    theme = get_theme(s.theme)
    _lesson_banner(s)
    # The name and the formula in one element (every element costs time on every rerun); a
    # note about a formula that could not be used goes above both.
    _formula_note()
    st.markdown(f"### {_md_escape(landscape.name)}\n\n$$\nf(x, y) = {landscape.latex}\n$$")
    st.caption(landscape.lesson)
    _rejected_notes(s)
    (x0, x1), (y0, y1) = landscape.window
    if not (x0 <= start[0] <= x1 and y0 <= start[1] <= y1):
        st.info(
            f"The start ({start[0]:g}, {start[1]:g}) lies outside the plotted window "
            f"x ∈ [{x0:g}, {x1:g}], y ∈ [{y0:g}, {y1:g}]: its head is drawn on the border as an "
            "open circle until it enters."
        )

    jobs, trajs = compute.trajectories(s, landscape)
    views = _run_views(s, jobs, trajs, theme)
    ms = [compute.metrics(j) for j in jobs]
    for view, m in zip(views, ms, strict=True):
        msg = divergence_message(view, m)
        if msg:
            st.warning(msg)

    xs, ys, Z = compute.grid(landscape)
    fig = compute.figure(
        ("descent", tuple(jobs), theme.name),
        lambda: descent_dict(
            landscape,
            views,
            Z=Z,
            xs=xs,
            ys=ys,
            theme=theme,
            max_frames=MAX_FRAMES,
            clickable=True,
            frames_as_json=True,
        ),
    )
    st.plotly_chart(
        fig,
        key=keys.CHART,
        on_select="rerun",
        selection_mode="points",
        theme=None,
        config={"displaylogo": False, "scrollZoom": False},
    )
    st.caption(
        "Left: each run's path over the contours of f (darker is lower; ★ the global minimum, "
        "○ the start, ✕ where a run diverged). Right: how far each run is above the minimum, "
        "f − f*, on a log scale, and the learning rate it used at each step. Press ▶ to play; "
        "click the surface to start every run from that point."
    )
    st.markdown(metrics_table(metrics_rows(views, ms)))
    st.caption(METRIC_NOTES)

    # Lazy tabs: only the open one runs, so the 3-D view, the arrows and the curvature are
    # built only for a visitor who looks at them.
    tabs = st.tabs(list(TABS), key=keys.VIEW_TAB, on_change="rerun")
    rules, view3d, inside, stability, share = tabs
    if rules.open is not False:
        with rules:
            st.markdown(update_rules_markdown(s))
    if view3d.open:
        with view3d:
            from viz.surface3d import surface_figure

            step = _step_slider(s.steps)
            fig3 = compute.figure(
                ("3d", tuple(jobs), theme.name, step),
                lambda: surface_figure(landscape, views, Z=Z, xs=xs, ys=ys, step=step, theme=theme),
            )
            st.plotly_chart(fig3, theme=None, key="surface3d")
            st.caption(
                "The same runs on the surface itself, up to the step chosen above (the dots are "
                "where each run is then). Drag to rotate, scroll to zoom. The height is the "
                "one the contour map is coloured by: log₁₀(f − f*) on surfaces with a log "
                "colour scale, f itself otherwise (see the axis title)."
            )
    if inside.open:
        with inside:
            _internals(landscape, jobs, views, _step_slider(s.steps), (xs, ys, Z), theme)
    if stability.open:
        with stability:
            _stability(jobs, views, theme)
    if share.open:
        with share:
            _export(s, fig, trajs)

    url_state.write(controls.current())


def _export(s: Settings, fig: compute.SentFigure, trajs) -> None:
    try:
        from ui.export_panel import render_export
    except ImportError:  # the export panel is optional: the page works without it
        st.caption("Exports are not available on this server.")
        return
    render_export(s, fig.original, trajs)


def _step_slider(steps: int) -> int:
    """The step shown by the 3-D view and the internals (one slider, in whichever tab is open).

    Its range follows the step count, and a new range is a new widget for Streamlit, so the
    value chosen lives in a plain key: the last step picked (clipped), or the final step.
    """
    ss = st.session_state
    chosen = ss.get(STEP_CHOSEN)
    ss[keys.STEP_3D] = steps if chosen is None else min(int(chosen), steps)
    return st.slider(
        "Step shown",
        0,
        steps,
        key=keys.STEP_3D,
        on_change=lambda: ss.__setitem__(STEP_CHOSEN, ss[keys.STEP_3D]),
    )


def _internals(landscape, jobs, views, step, grid, theme) -> None:
    from viz.internals import effective_step_figure, internals_figure

    xs, ys, Z = grid
    fig = compute.figure(
        ("internals", tuple(jobs), theme.name, step),
        lambda: internals_figure(landscape, views, step=step, Z=Z, xs=xs, ys=ys, theme=theme),
    )
    st.plotly_chart(fig, theme=None, key="internals")
    st.caption(
        "At the chosen step: the negative gradient (dashed), the momentum or first moment "
        "(dotted) and the update actually taken (solid), scaled as the legend says."
    )
    fig = compute.figure(
        ("effective", tuple(jobs), theme.name), lambda: effective_step_figure(views, theme)
    )
    st.plotly_chart(fig, theme=None, key="effective_step")
    st.caption(
        "The step each coordinate really took per unit of gradient: SGD's is its learning rate."
    )


def _stability(jobs, views, theme) -> None:
    from viz.internals import stability_caption, stability_figure

    fig = compute.figure(
        ("stability", tuple(jobs), theme.name),
        lambda: stability_figure(views, [compute.path_eigs(j) for j in jobs], theme),
    )
    st.plotly_chart(fig, theme=None, key="stability")
    st.caption(stability_caption())
