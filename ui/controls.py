"""The sidebar: widgets built from the registries' specs, returning a `Settings`.

How state flows. ``st.session_state[keys.SETTINGS]`` holds the current `Settings` and is the one
source of truth. Every widget changes it through an ``on_change`` callback (which Streamlit runs
before the script); before drawing, `sync` writes every widget's value from the Settings. So a
change that does not come from the widget itself (a shared link, a click on the chart, "Add
run", the LR tools page's "apply this rate", a lesson) shows up in every widget at once, nothing
is lost when the user visits another page (whose run deletes these widgets' state), and a value
that a widget cannot show exactly (a rate between two notches of the log slider) is kept exactly.

The only widgets not overwritten are the formula box and its window while they hold text that
did not compile: the learner keeps the draft to fix, and the page keeps the last surface that
worked.

The rate widgets (each run's learning rate and hyperparameters, "one learning rate for all")
are not drawn by `sidebar` but by the Explore page's results fragment, into empty containers
the sidebar leaves for them (`RateSlots`, `rate_controls`): moving one reruns that fragment
only. They look and sit as the others do; `rate_controls` writes their values itself (a
fragment rerun does not pass through `sync`), once per run.

The runs' expanders are lazy (each widget costs server time on every rerun): a folded run draws
no widgets, so Streamlit forgets their state, and `sync` sets it again from the Settings before
the run is unfolded. Each expander's open state is its own widget state (`keys.run_expander`).

Adding an optimizer, a schedule or a hyperparameter is one entry in its registry: the widgets
come from the specs' `HParam` lists (log-scale ones move over log10, whole numbers get a number
box, the rest a slider).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from landscapes import LANDSCAPES, FormulaError, from_formula
from landscapes.formula import DEFAULT_WINDOW
from optim import OPTIMIZERS, SCHEDULES
from optim.hparams import HParam
from ui import keys
from ui.settings import (
    LR_MAX,
    LR_MIN,
    MAX_RUNS,
    MAX_STEPS,
    MIN_STEPS,
    NOISE_MAX,
    SEED_MAX,
    START_MAX,
    THEME_NAMES,
    RunConfig,
    Settings,
)
from ui.url_state import clip_lr, nondefault

EXAMPLE_FORMULA = "(x - 1)^2 + 3*sin(y)^2 + 0.1*y^2"
THEME_LABELS = {"light": "Light", "dark": "Dark", "lecture": "Lecture (projector)"}

# The learning-rate notches: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 per decade from 1e-6 to 10.
_MANTISSAS = ("1", "1.2", "1.5", "2", "2.5", "3", "4", "5", "6", "8")
LR_GRID: tuple[float, ...] = tuple(float(f"{m}e{k}") for k in range(-6, 1) for m in _MANTISSAS) + (
    10.0,
)


def nearest_notch(lr: float) -> float:
    """The notch of `LR_GRID` nearest `lr` on a log scale."""
    target = math.log10(clip_lr(lr))
    return min(LR_GRID, key=lambda v: abs(math.log10(v) - target))


def fmt_lr(v: float) -> str:
    return f"{v:g}"


# --------------------------------------------------------------------------------------------
# Settings in session state


def current() -> Settings:
    return st.session_state[keys.SETTINGS]


def update(**changes) -> None:
    """Replace fields of the current Settings (from a callback or before the widgets)."""
    st.session_state[keys.SETTINGS] = replace(current(), **changes)


def _set_run(i: int, **changes) -> None:
    s = current()
    if i >= len(s.runs):
        return
    runs = list(s.runs)
    runs[i] = replace(runs[i], **changes)
    update(runs=tuple(runs))


# --------------------------------------------------------------------------------------------
# Widget values from Settings


def _log_value(v: float) -> float:
    return round(math.log10(v), 2)


def _hparam_widget_value(h: HParam, v: float):
    if h.integer:
        return int(round(v))
    if h.log:
        return _log_value(h.clip(v))
    return float(h.clip(v))


def rate_values(s: Settings) -> dict:
    """The value every rate-control widget shows for Settings `s` (see `rate_controls`)."""
    shared = s.shared_lr if s.shared_lr is not None else s.runs[0].lr
    v: dict = {
        keys.SHARED_LR_ON: s.shared_lr is not None,
        keys.SHARED_LR: float(shared),
        keys.SHARED_LR_GRID: nearest_notch(shared),
    }
    for i, run in enumerate(s.runs):
        spec = OPTIMIZERS[run.optimizer]
        v[keys.run_lr(i)] = float(run.lr)
        v[keys.run_lr_grid(i)] = nearest_notch(run.lr)
        given = run.hparams_dict
        for h in spec.hparams:
            v[keys.run_hparam(i, h.name)] = _hparam_widget_value(h, given.get(h.name, h.default))
    return v


def widget_values(s: Settings, start: tuple[float, float]) -> dict:
    """The value every sidebar widget shows for Settings `s` (`start` is the resolved start
    point), except the rate widgets (`rate_values`, written by `rate_controls`)."""
    v: dict = {
        keys.LANDSCAPE: s.landscape,
        keys.SCHEDULE: s.schedule,
        keys.STEPS: int(s.steps),
        keys.START_X: float(start[0]),
        keys.START_Y: float(start[1]),
        keys.NOISE: float(s.noise),
        keys.SEED: int(s.seed),
    }
    for i, run in enumerate(s.runs):
        v[keys.run_optimizer(i)] = run.optimizer
    given = dict(s.schedule_params)
    for h in SCHEDULES[s.schedule].hparams:
        v[keys.schedule_param(h.name)] = _hparam_widget_value(h, given.get(h.name, h.default))
    window = s.window or DEFAULT_WINDOW
    v[keys.FORMULA] = s.formula or EXAMPLE_FORMULA
    (v[keys.WINDOW_X_MIN], v[keys.WINDOW_X_MAX]), (v[keys.WINDOW_Y_MIN], v[keys.WINDOW_Y_MAX]) = (
        (float(window[0][0]), float(window[0][1])),
        (float(window[1][0]), float(window[1][1])),
    )
    return v


_DRAFT_KEYS = (
    keys.FORMULA,
    keys.WINDOW_X_MIN,
    keys.WINDOW_X_MAX,
    keys.WINDOW_Y_MIN,
    keys.WINDOW_Y_MAX,
)


def apply_pending() -> None:
    """Apply a learning rate another page asked for, once: ``session_state[keys.APPLY_LR] =
    (run index or None for every run, lr)``, set by the LR tools page."""
    ss = st.session_state
    request = ss.pop(keys.APPLY_LR, None)
    if request is None:
        return
    try:
        index, lr = request
        lr = float(lr)
        if not math.isfinite(lr) or lr <= 0:
            return
        lr = clip_lr(lr)
    except (TypeError, ValueError):
        return
    s = current()
    if index is None:
        if s.shared_lr is not None:
            update(shared_lr=lr)
        else:
            update(runs=tuple(replace(r, lr=lr) for r in s.runs))
    elif isinstance(index, int) and 0 <= index < len(s.runs):
        # a rate for one run only: "one rate for all" would hide it, so it is switched off
        _set_run(index, lr=lr)
        update(shared_lr=None)


def sync(s: Settings, start: tuple[float, float]) -> None:
    """Write every sidebar widget's value from `s` (before any is drawn in this run); the rate
    widgets' values are written by `rate_controls`."""
    ss = st.session_state
    failed = ss.get(keys.FORMULA_ERROR)
    keep_draft = failed is not None and failed["base"] == (s.formula, s.window)
    if failed is not None and not keep_draft:
        del ss[keys.FORMULA_ERROR]  # the settings moved on (a link, a lesson): drop the draft
    for key, value in widget_values(s, start).items():
        if keep_draft and key in _DRAFT_KEYS:
            continue
        ss[key] = value


# --------------------------------------------------------------------------------------------
# Callbacks (run by Streamlit before the script, with the widget's new value in session state)


def _on_theme() -> None:
    update(theme=st.session_state[keys.THEME])


def _on_landscape() -> None:
    key = st.session_state[keys.LANDSCAPE]
    s = current()
    if key == keys.CUSTOM:
        formula = s.formula or EXAMPLE_FORMULA
        _compile_custom(formula, s.window)
        return
    update(landscape=key, start=None)


def _compile_custom(formula: str, window) -> None:
    """Try the formula; on success it becomes the surface, on failure the previous one stays."""
    s = current()
    try:
        landscape = from_formula(formula, window)
    except FormulaError as e:
        st.session_state[keys.FORMULA_ERROR] = {"message": str(e), "base": (s.formula, s.window)}
        return
    st.session_state.pop(keys.FORMULA_ERROR, None)
    st.session_state[keys.LAST_GOOD_FORMULA] = (formula, window)
    start = s.start
    if start is not None and not _inside(start, landscape.window):
        start = None
    update(landscape=keys.CUSTOM, formula=formula, window=window, start=start)


def _inside(p, window) -> bool:
    (x0, x1), (y0, y1) = window
    return x0 <= p[0] <= x1 and y0 <= p[1] <= y1


def _on_formula() -> None:
    ss = st.session_state
    window = (
        (float(ss[keys.WINDOW_X_MIN]), float(ss[keys.WINDOW_X_MAX])),
        (float(ss[keys.WINDOW_Y_MIN]), float(ss[keys.WINDOW_Y_MAX])),
    )
    _compile_custom(str(ss[keys.FORMULA]), None if window == DEFAULT_WINDOW else window)


def _on_shared_toggle() -> None:
    s = current()
    if st.session_state[keys.SHARED_LR_ON]:
        update(shared_lr=s.runs[0].lr)
    else:
        update(shared_lr=None)


def _on_shared_lr(source: str) -> None:
    update(shared_lr=clip_lr(st.session_state[source]))


def _on_run_lr(i: int, source: str) -> None:
    _set_run(i, lr=clip_lr(st.session_state[source]))


def _on_run_optimizer(i: int) -> None:
    key = st.session_state[keys.run_optimizer(i)]
    _set_run(i, optimizer=key, lr=OPTIMIZERS[key].default_lr, hparams=())


def _hparam_from_widget(h: HParam, value) -> float:
    if h.log:
        return h.clip(float(f"{10.0 ** float(value):.4g}"))
    return h.clip(float(value))


def _on_run_hparam(i: int, h: HParam) -> None:
    s = current()
    run = s.runs[i]
    values = run.hparams_dict
    values[h.name] = _hparam_from_widget(h, st.session_state[keys.run_hparam(i, h.name)])
    _set_run(i, hparams=nondefault(values, OPTIMIZERS[run.optimizer].hparams))


def _on_add_run() -> None:
    s = current()
    if len(s.runs) >= MAX_RUNS:
        return
    key = st.session_state.get(keys.ADD_OPTIMIZER) or "sgd"
    update(runs=(*s.runs, RunConfig(key, OPTIMIZERS[key].default_lr)))


def _on_remove_run(i: int) -> None:
    s = current()
    n = len(s.runs)
    if n > 1:
        update(runs=s.runs[:i] + s.runs[i + 1 :])
        # The runs after i move up one place, and each box's open state goes with its run.
        ss = st.session_state
        for j in range(i, n - 1):
            ss[keys.run_expander(j)] = bool(ss.get(keys.run_expander(j + 1), False))
        ss.pop(keys.run_expander(n - 1), None)


def _on_schedule() -> None:
    update(schedule=st.session_state[keys.SCHEDULE], schedule_params=())


def _on_schedule_param(h: HParam) -> None:
    s = current()
    values = dict(s.schedule_params)
    values[h.name] = _hparam_from_widget(h, st.session_state[keys.schedule_param(h.name)])
    update(schedule_params=nondefault(values, SCHEDULES[s.schedule].hparams))


def _on_steps() -> None:
    update(steps=int(min(max(int(st.session_state[keys.STEPS]), MIN_STEPS), MAX_STEPS)))


def _on_start() -> None:
    ss = st.session_state
    update(start=(float(ss[keys.START_X]), float(ss[keys.START_Y])))


def _on_start_reset() -> None:
    update(start=None)


def _on_noise() -> None:
    update(noise=float(min(max(float(st.session_state[keys.NOISE]), 0.0), NOISE_MAX)))


def _on_seed() -> None:
    update(seed=int(st.session_state[keys.SEED]))


# --------------------------------------------------------------------------------------------
# Widgets


def theme_picker() -> str:
    """The theme selectbox (drawn by app.py at the top of the sidebar on every page)."""
    st.session_state[keys.THEME] = current().theme
    st.sidebar.selectbox(
        "Look",
        THEME_NAMES,
        key=keys.THEME,
        format_func=THEME_LABELS.get,
        on_change=_on_theme,
        help="Lecture: large type and thick lines for a projector. Kept in the link.",
    )
    return current().theme


def _lr_pair(label: str, num_key: str, grid_key: str, on_change, args=(), disabled=False) -> None:
    """A learning rate: a log-scale slider over notches, and a box for the exact value."""
    st.select_slider(
        label,
        options=LR_GRID,
        key=grid_key,
        format_func=fmt_lr,
        on_change=on_change,
        args=(*args, grid_key),
        disabled=disabled,
        help="Log scale from 1e-6 to 10. Type an exact value in the box below.",
    )
    st.number_input(
        "exact value",
        min_value=LR_MIN,
        max_value=LR_MAX,
        format="%g",
        step=None,
        key=num_key,
        on_change=on_change,
        args=(*args, num_key),
        disabled=disabled,
        label_visibility="collapsed",
    )


def _hparam_widget(h: HParam, key: str, on_change, args=(), disabled=False) -> None:
    if h.integer:
        st.number_input(
            h.label,
            min_value=int(h.low),
            max_value=int(h.high),
            step=1,
            key=key,
            on_change=on_change,
            args=args,
            help=h.help or None,
            disabled=disabled,
        )
    elif h.log:
        lo, hi = math.log10(h.low), math.log10(h.high)
        st.slider(
            f"{h.label} (log₁₀)",
            min_value=round(lo, 2),
            max_value=round(hi, 2),
            step=0.01,
            format="10^%.2f",
            key=key,
            on_change=on_change,
            args=args,
            help=h.help or None,
            disabled=disabled,
        )
        st.caption(f"= {10 ** float(st.session_state[key]):.3g}")
    else:
        span = h.high - h.low
        step = 10.0 ** math.floor(math.log10(span / 1000)) if span > 0 else 0.01
        digits = max(0, -int(math.floor(math.log10(step))))
        st.slider(
            h.label,
            min_value=float(h.low),
            max_value=float(h.high),
            step=step,
            format=f"%.{digits}f",
            key=key,
            on_change=on_change,
            args=args,
            help=h.help or None,
            disabled=disabled,
        )


def _landscape_section(s: Settings, error: str | None) -> None:
    st.subheader("Surface")
    options = [*LANDSCAPES, keys.CUSTOM]
    st.selectbox(
        "Landscape",
        options,
        key=keys.LANDSCAPE,
        format_func=lambda k: LANDSCAPES[k].name if k in LANDSCAPES else "Custom formula…",
        on_change=_on_landscape,
    )
    if st.session_state[keys.LANDSCAPE] == keys.CUSTOM or s.landscape == keys.CUSTOM:
        st.text_input(
            "f(x, y) =",
            key=keys.FORMULA,
            on_change=_on_formula,
            max_chars=300,
            help="x, y, numbers, + - * / ^, sin cos tan exp log sqrt abs tanh arctan min max …",
        )
        c1, c2 = st.columns(2)
        c1.number_input(
            "x min", key=keys.WINDOW_X_MIN, on_change=_on_formula, format="%g", step=None
        )
        c2.number_input(
            "x max", key=keys.WINDOW_X_MAX, on_change=_on_formula, format="%g", step=None
        )
        c1.number_input(
            "y min", key=keys.WINDOW_Y_MIN, on_change=_on_formula, format="%g", step=None
        )
        c2.number_input(
            "y max", key=keys.WINDOW_Y_MAX, on_change=_on_formula, format="%g", step=None
        )
        if error:
            st.error(error)


def _run_box(i: int, optimizer_name: str):
    """Run i's expander, lazy: ``.open`` says whether its widgets are to be drawn.

    The label holds nothing the learner moves inside the box (no rate): a changed label is a
    new expander for Streamlit, its key notwithstanding, and a new expander starts in its
    default state. The label does change with the optimizer, so the open state kept under the
    key is written back before the expander is drawn: the box stays as it was and does not fold
    up under the learner's hand.
    """
    key = keys.run_expander(i)
    ss = st.session_state
    ss[key] = bool(ss.get(key, i == 0))
    return st.expander(
        f"Run {i + 1}: {optimizer_name}", expanded=i == 0, key=key, on_change="rerun"
    )


@dataclass
class RateSlots:
    """Where the rate controls go: empty sidebar containers the sidebar leaves for them, filled
    by the Explore page's results fragment (`rate_controls`). A rate or a hyperparameter moved
    there reruns that fragment only, not the sidebar around it (see explore_page)."""

    shared: DeltaGenerator  # the "one learning rate for all" toggle and its rate
    runs: dict[int, DeltaGenerator] = field(default_factory=dict)  # open run boxes only


def _runs_section(s: Settings) -> RateSlots:
    st.subheader("Optimizers")
    slots = RateSlots(shared=st.container())
    names = {k: spec.name for k, spec in OPTIMIZERS.items()}
    for i, run in enumerate(s.runs):
        spec = OPTIMIZERS[run.optimizer]
        box = _run_box(i, spec.name)
        if not box.open:
            continue  # lazy: a folded run draws no widgets (sync keeps their values ready)
        with box:
            st.selectbox(
                "Optimizer",
                list(OPTIMIZERS),
                key=keys.run_optimizer(i),
                format_func=names.get,
                on_change=_on_run_optimizer,
                args=(i,),
            )
            slots.runs[i] = st.container()
            st.button(
                "Remove this run",
                key=keys.run_remove(i),
                on_click=_on_remove_run,
                args=(i,),
                disabled=len(s.runs) <= 1,
            )
    full = len(s.runs) >= MAX_RUNS
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    c1.selectbox(
        "Add an optimizer", list(OPTIMIZERS), key=keys.ADD_OPTIMIZER, format_func=names.get
    )
    c2.button("Add run", key=keys.ADD_RUN, on_click=_on_add_run, disabled=full)
    if full:
        st.caption(f"At most {MAX_RUNS} runs are compared at once: remove one to add another.")
    return slots


def rate_controls(slots: RateSlots) -> None:
    """The learning rates and each open run's hyperparameters, drawn into the sidebar slots.

    Called from the results fragment, so its widgets' values are written here (a fragment
    rerun does not pass through `sync`)."""
    s = current()
    shared = s.shared_lr is not None
    ss = st.session_state
    for key, value in rate_values(s).items():
        ss[key] = value
    with slots.shared:
        st.toggle(
            "One learning rate for all",
            key=keys.SHARED_LR_ON,
            on_change=_on_shared_toggle,
            help="Every run uses the same rate, so the optimizers are compared at equal footing.",
        )
        if shared:
            _lr_pair("Learning rate (all runs)", keys.SHARED_LR, keys.SHARED_LR_GRID, _on_shared_lr)
    for i, slot in slots.runs.items():
        if i >= len(s.runs):
            continue
        spec = OPTIMIZERS[s.runs[i].optimizer]
        with slot:
            label = "Learning-rate multiplier" if spec.lr_free else "Learning rate"
            _lr_pair(
                label, keys.run_lr(i), keys.run_lr_grid(i), _on_run_lr, args=(i,), disabled=shared
            )
            if shared:
                st.caption("Set by “one learning rate for all”.")
            for h in spec.hparams:
                _hparam_widget(h, keys.run_hparam(i, h.name), _on_run_hparam, args=(i, h))


def layout_of(s: Settings) -> Settings:
    """`s` without what `rate_controls` sets: two Settings with the same layout draw the same
    sidebar around the rate slots, so a change of rates alone needs no sidebar rerun."""
    runs = tuple(RunConfig(r.optimizer, 0.0) for r in s.runs)
    return replace(s, runs=runs, shared_lr=None)


def _schedule_section(s: Settings, schedule_plot) -> None:
    st.subheader("Learning-rate schedule")
    st.selectbox(
        "Schedule",
        list(SCHEDULES),
        key=keys.SCHEDULE,
        format_func=lambda k: SCHEDULES[k].name,
        on_change=_on_schedule,
    )
    spec = SCHEDULES[s.schedule]
    st.caption(spec.description)
    for h in spec.hparams:
        _hparam_widget(h, keys.schedule_param(h.name), _on_schedule_param, args=(h,))
    if schedule_plot is not None:
        schedule_plot()


def _run_section() -> None:
    st.subheader("Steps and start")
    st.number_input(
        "Steps",
        min_value=MIN_STEPS,
        max_value=MAX_STEPS,
        step=50,
        key=keys.STEPS,
        on_change=_on_steps,
    )
    c1, c2 = st.columns(2)
    c1.number_input(
        "start x",
        min_value=-START_MAX,
        max_value=START_MAX,
        format="%g",
        step=0.1,
        key=keys.START_X,
        on_change=_on_start,
    )
    c2.number_input(
        "start y",
        min_value=-START_MAX,
        max_value=START_MAX,
        format="%g",
        step=0.1,
        key=keys.START_Y,
        on_change=_on_start,
    )
    st.button(
        "Recommended start",
        key=keys.START_RESET,
        on_click=_on_start_reset,
        help="Or click the surface.",
    )
    st.number_input(
        "Gradient noise (std)",
        min_value=0.0,
        max_value=NOISE_MAX,
        step=0.1,
        format="%g",
        key=keys.NOISE,
        on_change=_on_noise,
        help="Gaussian noise added to every gradient: a stand-in for minibatch noise.",
    )
    st.number_input(
        "Noise seed", min_value=0, max_value=SEED_MAX, step=1, key=keys.SEED, on_change=_on_seed
    )


def sidebar(start: tuple[float, float], schedule_plot=None) -> RateSlots:
    """Draw the Explore page's sidebar around empty slots for the rate controls (which
    `rate_controls` fills) and return the slots.

    Args:
      start: the resolved start point (the surface's own when the settings leave it open).
      schedule_plot: a callable that draws the lr(t) preview under the schedule picker.
    """
    s = current()
    sync(s, start)
    failed = st.session_state.get(keys.FORMULA_ERROR)
    with st.sidebar:
        _landscape_section(s, failed["message"] if failed else None)
        slots = _runs_section(s)
        _schedule_section(s, schedule_plot)
        _run_section()
    return slots
