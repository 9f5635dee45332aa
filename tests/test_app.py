"""The Explore page, driven through Streamlit's AppTest: every control changes the figure the
way it says, wrong input gives a message and never a traceback, and numeric controls compile
nothing.

AppTest runs the real app.py in this process; the figure is read back as the JSON Streamlit
would send to the browser (``proto.spec``), so these tests check what a visitor receives.
"""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path

import jax.monitoring
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from landscapes import LANDSCAPES, from_formula
from optim import OPTIMIZERS, lr_schedule
from ui import keys
from ui.controls import nearest_notch
from ui.settings import DEFAULT_RUNS, MAX_RUNS, RunConfig, Settings
from ui.url_state import encode

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 300  # the first run of the session compiles every optimizer's scan

# --------------------------------------------------------------------------------------------
# Compile counter. JAX reports every XLA compilation through `jax.monitoring` as a
# "/jax/core/compile/backend_compile_duration" event, and every trace of a Python function into
# a jaxpr as ".../jaxpr_trace_duration": a cache hit of a jitted function reports neither. The
# listener is process-wide (AppTest runs the script in a thread of this process) and cannot be
# unregistered, so it is registered once and tests read differences of the counter.
_COMPILES = {"n": 0}


def _on_event(name: str, *args, **kwargs) -> None:
    if name in (
        "/jax/core/compile/backend_compile_duration",
        "/jax/core/compile/jaxpr_trace_duration",
    ):
        _COMPILES["n"] += 1


jax.monitoring.register_event_duration_secs_listener(_on_event)


# --------------------------------------------------------------------------------------------
# Helpers


def new_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ok(at: AppTest) -> AppTest:
    """No traceback and no unexpected error box on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "went wrong" in e.value], [e.value for e in at.error]
    return at


def figure(at: AppTest) -> dict:
    """The descent figure as sent to the browser."""
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if any(t.get("name") == "click-grid" for t in spec["data"]):
            return spec
    raise AssertionError("no descent figure on the page")


def arr(v) -> list:
    """A figure array as a list: plotly sends NumPy arrays as base64 typed arrays."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:
            a = a.reshape([int(n) for n in str(v["shape"]).split(",")])
        return [None if not np.isfinite(x) else float(x) for x in a.tolist()]
    return list(v or [])


def paths(spec: dict) -> list[dict]:
    """The static path of every run (the legend entries drawn as lines on the surface)."""
    return [
        t
        for t in spec["data"]
        if t.get("mode") == "lines"
        and t.get("xaxis", "x") == "x"
        and t.get("showlegend", True)
        and arr(t.get("x"))
    ]


def curves(spec: dict, axis: str) -> list[dict]:
    """The static curves on the loss ("x2") or learning-rate ("x3") panel."""
    return [t for t in spec["data"] if t.get("xaxis") == axis and t.get("mode") == "lines"]


def settings(at: AppTest) -> Settings:
    return at.session_state[keys.SETTINGS]


def first_points(spec: dict) -> list[tuple[float, float]]:
    return [(arr(p["x"])[0], arr(p["y"])[0]) for p in paths(spec)]


def close(a, b, rel=1e-4) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def shown_formula(at: AppTest) -> str:
    """The surface's formula as the page shows it, under its name (a $$ block: st.latex's)."""
    title = next(m.value for m in at.markdown if m.value.startswith("### "))
    return title.split("$$\n")[1].split("\n$$")[0]


def run_box(at: AppTest, i: int):
    """Run i's expander in the sidebar (found by its key)."""
    return at.expander(key=keys.run_expander(i))


def set_run_open(at: AppTest, i: int, is_open: bool = True) -> AppTest:
    """Open (or fold) run i's expander as a click on its header does: the expander's state
    changes and the app reruns. (AppTest's Expander has no click; its state is a widget value
    under its key, set here through session state, as the tests of the lazy tabs do.)"""
    at.session_state[keys.run_expander(i)] = is_open
    at.run()
    ok(at)
    assert run_box(at, i).proto.expanded is is_open
    return at


def run_widget_keys(at: AppTest) -> set[str]:
    """The keys of the per-run widgets drawn in the sidebar."""
    widgets = [*at.number_input, *at.select_slider, *at.slider, *at.selectbox, *at.button]
    return {w.key for w in widgets if w.key and w.key.startswith("run")}


@pytest.fixture(scope="module")
def warm() -> AppTest:
    """One app run up front so the module's tests find the default runs compiled."""
    return new_app()


# --------------------------------------------------------------------------------------------
# The default view


def test_default_view_shows_four_runs_from_the_recommended_start(warm):
    at = ok(new_app())
    spec = figure(at)
    assert len(paths(spec)) == len(DEFAULT_RUNS) == 4
    start = LANDSCAPES["rosenbrock"].start
    assert all(p == pytest.approx(start) for p in first_points(spec))
    assert spec["frames"] and spec["frames"][-1]["name"] == "1000"
    assert at.session_state[keys.SETTINGS] == Settings()
    assert not any(k in at.query_params for k in ("ls", "run", "steps"))  # defaults stay out


def _sent_size(at: AppTest) -> int:
    """Bytes of the descent figure's JSON as Streamlit sends it to the browser."""
    return max(len(c.proto.spec.encode()) for c in at.get("plotly_chart"))


def test_default_figure_is_under_one_megabyte_and_long_runs_under_two(warm):
    at = ok(new_app())
    assert _sent_size(at) < 1_000_000
    at.number_input(key=keys.STEPS).set_value(5000).run()
    spec = figure(ok(at))
    assert _sent_size(at) < 2_000_000
    assert len(spec["frames"]) <= 151 and spec["frames"][-1]["name"] == "5000"


# --------------------------------------------------------------------------------------------
# Every control moves the figure the way it says


def test_learning_rate_box_changes_that_run_only(warm):
    at = ok(new_app())
    before = paths(figure(at))
    at.number_input(key=keys.run_lr(0)).set_value(0.0005).run()
    after = paths(figure(ok(at)))
    assert settings(at).runs[0].lr == 0.0005
    assert arr(after[0]["x"]) != arr(before[0]["x"])
    assert [arr(p["x"]) for p in after[1:]] == [arr(p["x"]) for p in before[1:]]
    assert "0.0005" in after[0]["name"]
    # the log slider follows the box to the nearest notch
    assert at.select_slider(key=keys.run_lr_grid(0)).value == 0.0005


def test_learning_rate_slider_sets_the_rate_and_the_box(warm):
    at = set_run_open(ok(new_app()), 3)
    at.select_slider(key=keys.run_lr_grid(3)).set_value(0.2).run()
    ok(at)
    assert settings(at).runs[3].lr == 0.2
    assert at.number_input(key=keys.run_lr(3)).value == 0.2
    lr_curve = curves(figure(at), "x3")[3]
    assert all(close(v, 0.2) for v in arr(lr_curve["y"]) if v is not None)


def test_hyperparameter_changes_the_path(warm):
    at = ok(new_app())
    before = arr(paths(figure(at))[1]["x"])
    set_run_open(at, 1)
    at.slider(key=keys.run_hparam(1, "momentum")).set_value(0.5).run()
    ok(at)
    assert settings(at).runs[1].hparams == (("momentum", 0.5),)
    assert arr(paths(figure(at))[1]["x"]) != before


def test_log_hyperparameter_moves_over_log10(warm):
    at = set_run_open(ok(new_app()), 3)
    at.slider(key=keys.run_hparam(3, "eps")).set_value(-2.0).run()
    ok(at)
    assert dict(settings(at).runs[3].hparams)["eps"] == pytest.approx(0.01)


def test_steps_set_the_frames_and_the_step_axis(warm):
    at = ok(new_app())
    at.number_input(key=keys.STEPS).set_value(250).run()
    spec = figure(ok(at))
    assert spec["frames"][-1]["name"] == "250"
    assert spec["layout"]["xaxis2"]["range"] == [0, 250]
    assert max(arr(curves(spec, "x2")[0]["x"])) == 250


def test_start_point_numbers_move_every_path(warm):
    at = ok(new_app())
    at.number_input(key=keys.START_X).set_value(-1.5).run()
    at.number_input(key=keys.START_Y).set_value(0.5).run()
    spec = figure(ok(at))
    assert all(p == pytest.approx((-1.5, 0.5)) for p in first_points(spec))
    at.button(key=keys.START_RESET).click().run()
    assert all(
        p == pytest.approx(LANDSCAPES["rosenbrock"].start) for p in first_points(figure(ok(at)))
    )


def test_click_on_the_surface_moves_the_start_once(warm):
    at = ok(new_app())
    point = {"x": 0.5, "y": -0.5, "curve_number": 0, "point_number": 7, "point_index": 7}
    at.session_state[keys.CHART] = {
        "selection": {"points": [point], "point_indices": [7], "box": [], "lasso": []}
    }
    at.run()
    ok(at)
    assert settings(at).start == (0.5, -0.5)
    assert all(p == pytest.approx((0.5, -0.5)) for p in first_points(figure(at)))
    # the same selection again (a rerun for another reason) does not reset a typed start
    at.number_input(key=keys.START_X).set_value(1.5).run()
    assert settings(ok(at)).start == (1.5, -0.5)


def test_landscape_choice_sets_the_axes_to_its_window(warm):
    at = ok(new_app())
    at.selectbox(key=keys.LANDSCAPE).set_value("ill_conditioned_bowl").run()
    spec = figure(ok(at))
    (x0, x1), (y0, y1) = LANDSCAPES["ill_conditioned_bowl"].window
    assert spec["layout"]["xaxis"]["range"] == [x0, x1]
    assert spec["layout"]["yaxis"]["range"] == [y0, y1]
    assert all(
        p == pytest.approx(LANDSCAPES["ill_conditioned_bowl"].start) for p in first_points(spec)
    )
    assert shown_formula(at) == f"f(x, y) = {LANDSCAPES['ill_conditioned_bowl'].latex}"
    assert "0.1" in shown_formula(at)


def test_schedule_and_its_parameters_shape_the_rate_curve(warm):
    at = ok(new_app())
    at.selectbox(key=keys.SCHEDULE).set_value("step").run()
    at.number_input(key=keys.schedule_param("step_size")).set_value(200).run()
    spec = figure(ok(at))
    assert settings(at).schedule_params == (("step_size", 200.0),)
    for run, curve in zip(settings(at).runs, curves(spec, "x3"), strict=True):
        expected = lr_schedule("step", run.lr, 1000, {"step_size": 200})
        for step, value in zip(arr(curve["x"]), arr(curve["y"]), strict=True):
            assert close(value, float(expected[int(step)])), (step, value)


def test_noise_and_seed_change_the_paths(warm):
    at = ok(new_app())
    clean = arr(paths(figure(at))[3]["x"])
    at.number_input(key=keys.NOISE).set_value(5.0).run()
    noisy = arr(paths(figure(ok(at)))[3]["x"])
    assert noisy != clean
    at.number_input(key=keys.SEED).set_value(7).run()
    other_seed = arr(paths(figure(ok(at)))[3]["x"])
    assert other_seed != noisy
    at.number_input(key=keys.SEED).set_value(0).run()
    assert arr(paths(figure(ok(at)))[3]["x"]) == noisy  # the same seed gives the same path


def test_one_learning_rate_for_all(warm):
    at = ok(new_app())
    at.toggle(key=keys.SHARED_LR_ON).set_value(True).run()
    at.number_input(key=keys.SHARED_LR).set_value(0.003).run()
    spec = figure(ok(at))
    assert settings(at).shared_lr == 0.003
    for curve in curves(spec, "x3"):
        assert all(close(v, 0.003) for v in arr(curve["y"]) if v is not None)
    assert all("lr 0.003" in p["name"] for p in paths(spec))
    at.toggle(key=keys.SHARED_LR_ON).set_value(False).run()
    assert settings(ok(at)).shared_lr is None


def test_add_and_remove_runs_and_the_same_optimizer_twice(warm):
    at = ok(new_app())
    at.selectbox(key=keys.ADD_OPTIMIZER).set_value("sgd").run()
    at.button(key=keys.ADD_RUN).click().run()
    ok(at)
    assert len(paths(figure(at))) == 5
    assert not run_box(at, 4).proto.expanded  # a new run comes folded, like runs 2 to 4
    set_run_open(at, 4)
    at.number_input(key=keys.run_lr(4)).set_value(0.0001).run()
    names = [p["name"] for p in paths(figure(ok(at)))]
    assert any("0.001" in n for n in names if n.startswith("SGD")) and any(
        "0.0001" in n for n in names
    )
    at.button(key=keys.run_remove(0)).click().run()
    ok(at)
    assert len(paths(figure(at))) == 4
    assert settings(at).runs[0].optimizer == "momentum" and settings(at).runs[-1] == RunConfig(
        "sgd", 0.0001
    )
    # each box's open state moves with its run: momentum's box was folded, the new run 5 open
    assert [run_box(at, i).proto.expanded for i in range(4)] == [False, False, False, True]
    assert at.number_input(key=keys.run_lr(3)).value == 0.0001
    # the widgets follow the shift: run 0's box now shows momentum's rate
    set_run_open(at, 0)
    assert at.selectbox(key=keys.run_optimizer(0)).value == "momentum"
    assert at.number_input(key=keys.run_lr(0)).value == 0.001


def test_runs_are_capped_with_a_message(warm):
    at = ok(new_app({"run": ["sgd:0.001"] * MAX_RUNS}))
    assert len(paths(figure(at))) == MAX_RUNS
    assert at.button(key=keys.ADD_RUN).disabled
    assert any(f"At most {MAX_RUNS}" in c.value for c in at.caption)


def test_changing_a_runs_optimizer_resets_its_rate(warm):
    at = ok(new_app())
    at.selectbox(key=keys.run_optimizer(0)).set_value("adagrad").run()
    ok(at)
    assert settings(at).runs[0] == RunConfig("adagrad", 0.5)
    assert "Adagrad" in paths(figure(at))[0]["name"] or "AdaGrad" in paths(figure(at))[0]["name"]


# --------------------------------------------------------------------------------------------
# The runs' boxes are lazy: a folded run draws no widgets, and nothing is lost by folding


def test_only_the_open_run_draws_its_widgets(warm):
    at = ok(new_app())
    labels = [f"Run {i + 1}: {OPTIMIZERS[r.optimizer].name}" for i, r in enumerate(DEFAULT_RUNS)]
    assert [run_box(at, i).label for i in range(4)] == labels
    assert [run_box(at, i).proto.expanded for i in range(4)] == [True, False, False, False]
    assert [w.key for w in at.number_input if w.key.startswith("run")] == [keys.run_lr(0)]
    assert [w.key for w in at.select_slider if w.key.startswith("run")] == [keys.run_lr_grid(0)]
    assert run_widget_keys(at) == {
        keys.run_optimizer(0),
        keys.run_lr_grid(0),
        keys.run_lr(0),
        keys.run_remove(0),
    }
    assert len(paths(figure(at))) == 4  # the folded runs are still computed and drawn


def test_opening_a_run_draws_its_widgets_with_its_current_values(warm):
    link = {
        "run": [
            "sgd:0.001",
            "momentum:0.002:momentum=0.5",
            "rmsprop:0.03:decay=0.8:eps=0.0001",
            "adam:0.01",
        ]
    }
    at = ok(new_app(link))
    assert not any(k.startswith("run2_") for k in run_widget_keys(at))
    set_run_open(at, 2)
    assert run_widget_keys(at) == {
        *(keys.run_optimizer(i) for i in (0, 2)),
        *(keys.run_lr_grid(i) for i in (0, 2)),
        *(keys.run_lr(i) for i in (0, 2)),
        *(keys.run_remove(i) for i in (0, 2)),
        *(keys.run_hparam(2, h.name) for h in OPTIMIZERS["rmsprop"].hparams),
    }
    assert at.selectbox(key=keys.run_optimizer(2)).value == "rmsprop"
    assert at.number_input(key=keys.run_lr(2)).value == 0.03
    assert at.select_slider(key=keys.run_lr_grid(2)).value == 0.03
    assert at.slider(key=keys.run_hparam(2, "decay")).value == pytest.approx(0.8)
    assert at.slider(key=keys.run_hparam(2, "eps")).value == pytest.approx(-4.0)  # log10
    # a rate another page sets for a folded run is what the run shows when opened
    set_run_open(at, 2, False)
    at.session_state[keys.APPLY_LR] = (2, 0.0042)
    at.run()
    assert settings(ok(at)).runs[2].lr == 0.0042
    assert not any(k.startswith("run2_") for k in run_widget_keys(at))
    set_run_open(at, 2)
    assert at.number_input(key=keys.run_lr(2)).value == 0.0042
    assert at.slider(key=keys.run_hparam(2, "decay")).value == pytest.approx(0.8)


def _keys_in_order(node) -> list[str]:
    """The keys of the widgets under an AppTest node, in the order the page shows them."""
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        return [k for _, child in sorted(children.items()) for k in _keys_in_order(child)]
    key = getattr(node, "key", None)
    return [key] if key else []


def test_the_rate_widgets_sit_in_their_run_box(warm):
    """The results fragment draws each open run's rate and hyperparameters into a slot the
    sidebar leaves in the run's box: where a learner expects them, between the optimizer and
    "Remove this run"; "one learning rate for all" heads the Optimizers section."""
    at = set_run_open(ok(new_app()), 2)
    hparams = [keys.run_hparam(2, h.name) for h in OPTIMIZERS["rmsprop"].hparams]
    assert _keys_in_order(run_box(at, 2)) == [
        keys.run_optimizer(2),
        keys.run_lr_grid(2),
        keys.run_lr(2),
        *hparams,
        keys.run_remove(2),
    ]
    order = _keys_in_order(at.sidebar)
    assert order.index(keys.SHARED_LR_ON) < order.index(keys.run_optimizer(0))
    assert order.index(keys.run_remove(2)) < order.index(keys.ADD_OPTIMIZER)
    at.toggle(key=keys.SHARED_LR_ON).set_value(True).run()
    order = _keys_in_order(ok(at).sidebar)
    shared = order.index(keys.SHARED_LR_ON)
    assert order[shared : shared + 3] == [keys.SHARED_LR_ON, keys.SHARED_LR_GRID, keys.SHARED_LR]
    assert at.number_input(key=keys.run_lr(2)).disabled


def test_a_rate_change_keeps_the_sidebar_layout():
    """What the results fragment may change without a full rerun (explore_page._results): the
    rates and hyperparameters; anything else changes the sidebar, so it needs one."""
    from dataclasses import replace

    from ui.controls import layout_of

    s = Settings()
    same = [
        replace(s, runs=(replace(s.runs[0], lr=0.5), *s.runs[1:])),
        replace(s, runs=(*s.runs[:3], RunConfig("adam", 0.2, (("b1", 0.8),)))),
        replace(s, shared_lr=0.01),
    ]
    for t in same:
        assert layout_of(t) == layout_of(s), t
    different = [
        replace(s, runs=(RunConfig("adam", 1e-3), *s.runs[1:])),
        replace(s, runs=s.runs[:3]),
        replace(s, start=(0.5, 0.5)),
        replace(s, steps=500),
        replace(s, landscape="himmelblau"),
        replace(s, schedule="step"),
        replace(s, lesson="too_high"),
        replace(s, theme="dark"),
    ]
    for t in different:
        assert layout_of(t) != layout_of(s), t


def test_a_changed_run_keeps_its_values_when_folded_and_reopened(warm):
    at = set_run_open(ok(new_app()), 1)
    at.number_input(key=keys.run_lr(1)).set_value(0.0007).run()
    at.slider(key=keys.run_hparam(1, "momentum")).set_value(0.6).run()
    changed = RunConfig("momentum", 0.0007, (("momentum", 0.6),))
    assert settings(ok(at)).runs[1] == changed
    path = arr(paths(figure(at))[1]["x"])
    set_run_open(at, 1, False)
    assert not any(k.startswith("run1_") for k in run_widget_keys(at))
    assert settings(at).runs[1] == changed
    assert arr(paths(figure(at))[1]["x"]) == path
    # another control moved while the run is folded: the figure still uses the run's values,
    # the same as a fresh page given them by a link
    at.number_input(key=keys.STEPS).set_value(500).run()
    assert settings(ok(at)).runs[1] == changed
    folded = paths(figure(at))[1]
    assert "0.0007" in folded["name"]
    assert arr(folded["x"]) == arr(paths(figure(ok(new_app(encode(settings(at))))))[1]["x"])
    set_run_open(at, 1)
    assert at.number_input(key=keys.run_lr(1)).value == 0.0007
    assert at.select_slider(key=keys.run_lr_grid(1)).value == nearest_notch(0.0007)
    assert at.slider(key=keys.run_hparam(1, "momentum")).value == pytest.approx(0.6)
    assert settings(at).runs[1] == changed
    assert arr(paths(figure(at))[1]["x"]) == arr(folded["x"])


def test_an_open_run_stays_open_when_its_optimizer_changes(warm):
    at = set_run_open(ok(new_app()), 2)
    at.selectbox(key=keys.run_optimizer(2)).set_value("adam").run()
    ok(at)
    # the label names the optimizer, so this is a new expander for Streamlit: it must open
    assert run_box(at, 2).label == f"Run 3: {OPTIMIZERS['adam'].name}"
    assert run_box(at, 2).proto.expanded
    assert at.number_input(key=keys.run_lr(2)).value == OPTIMIZERS["adam"].default_lr
    assert {keys.run_hparam(2, h.name) for h in OPTIMIZERS["adam"].hparams} <= run_widget_keys(at)
    at.number_input(key=keys.STEPS).set_value(300).run()
    assert run_box(ok(at), 2).proto.expanded  # and stays open on later reruns
    assert not run_box(at, 1).proto.expanded and not run_box(at, 3).proto.expanded


def test_theme_changes_the_figures_colours_and_type(warm):
    at = ok(new_app())
    light = figure(at)["layout"]
    at.selectbox(key=keys.THEME).set_value("lecture").run()
    lecture = figure(ok(at))["layout"]
    assert (
        lecture["template"]["layout"]["font"]["size"] > light["template"]["layout"]["font"]["size"]
    )
    at.selectbox(key=keys.THEME).set_value("dark").run()
    dark = figure(ok(at))["layout"]
    assert (
        dark["template"]["layout"]["paper_bgcolor"] != light["template"]["layout"]["paper_bgcolor"]
    )
    assert at.query_params["theme"] == ["dark"] or at.query_params["theme"] == "dark"


# --------------------------------------------------------------------------------------------
# The formula box


def test_custom_formula_good_then_bad_keeps_the_last_good_surface(warm):
    at = ok(new_app())
    at.selectbox(key=keys.LANDSCAPE).set_value(keys.CUSTOM).run()
    ok(at)
    at.text_input(key=keys.FORMULA).set_value("(x-1)^2 + 2*(y+0.5)^2").run()
    ok(at)
    good = from_formula("(x-1)^2 + 2*(y+0.5)^2")
    spec = figure(at)
    assert settings(at).landscape == keys.CUSTOM
    assert spec["layout"]["xaxis"]["range"] == list(good.window[0])
    assert shown_formula(at) == f"f(x, y) = {good.latex}"  # the parsed formula's LaTeX
    before = paths(spec)
    at.text_input(key=keys.FORMULA).set_value("(x-1)^2 + sinn(y)").run()
    ok(at)
    assert any("column" in e.value and "sin" in e.value for e in at.error)
    assert settings(at).formula == "(x-1)^2 + 2*(y+0.5)^2"  # the previous surface stays
    assert paths(figure(at)) == before
    assert at.text_input(key=keys.FORMULA).value == "(x-1)^2 + sinn(y)"  # the draft is kept to fix


# --------------------------------------------------------------------------------------------
# The link, other pages, wrong input


def test_settings_are_written_to_the_url_and_read_back(warm):
    at = ok(new_app())
    at.number_input(key=keys.run_lr(0)).set_value(0.002).run()
    at.number_input(key=keys.STEPS).set_value(300).run()
    ok(at)
    q = {k: at.query_params[k] for k in at.query_params}
    assert "steps" in q and "run" in q
    again = ok(new_app(q))
    assert settings(again) == settings(at)
    assert at.number_input(key=keys.STEPS).value == 300


def test_a_tampered_link_falls_back_and_says_which_fields(warm):
    at = ok(
        new_app(
            {"ls": "atlantis", "steps": "-4", "run": ["adam:lots", "sgd:0.01"], "theme": "neon"}
        )
    )
    text = "\n".join(w.value for w in at.warning)
    assert "atlantis" in text and "steps" in text and "lots" in text and "neon" in text
    assert settings(at).landscape == "rosenbrock" and settings(at).steps == 1
    assert len(paths(figure(at))) == 2


def test_a_link_reproduces_the_view(warm):
    q = {
        "ls": "ill_conditioned_bowl",
        "run": ["sgd:0.1", "sgd:0.001"],
        "steps": "200",
        "start": "-4,2",
    }
    at = ok(new_app(q))
    spec = figure(at)
    assert len(paths(spec)) == 2 and spec["frames"][-1]["name"] == "200"
    assert all(p == pytest.approx((-4.0, 2.0)) for p in first_points(spec))
    assert at.number_input(key=keys.run_lr(0)).value == 0.1


def test_learning_rate_applied_by_another_page_is_applied_once(warm):
    at = ok(new_app())
    at.session_state[keys.APPLY_LR] = (1, 0.0042)
    at.run()
    ok(at)
    assert settings(at).runs[1].lr == 0.0042
    assert keys.APPLY_LR not in at.session_state
    set_run_open(at, 1)
    assert at.number_input(key=keys.run_lr(1)).value == 0.0042
    at.session_state[keys.APPLY_LR] = (None, 0.02)
    at.run()
    assert all(r.lr == 0.02 for r in settings(ok(at)).runs)


def test_divergence_is_said_in_words_and_marked_on_the_plot(warm):
    at = ok(new_app())
    at.number_input(key=keys.run_lr(0)).set_value(10.0).run()
    ok(at)
    warnings = [w.value for w in at.warning if "diverged" in w.value]
    assert warnings and "step" in warnings[0] and "passed 2" in warnings[0] and "SGD" in warnings[0]
    spec = figure(at)
    assert any(
        "diverged at step" in str(a.get("text")) for a in spec["layout"].get("annotations", [])
    )


def test_extreme_input_never_shows_a_traceback(warm):
    at = ok(new_app())
    at.number_input(key=keys.START_X).set_value(50.0).run()
    assert any("outside the plotted window" in i.value for i in ok(at).info)
    at.number_input(key=keys.STEPS).set_value(5000).run()
    at.number_input(key=keys.NOISE).set_value(1000.0).run()
    ok(at)
    at.toggle(key=keys.SHARED_LR_ON).set_value(True).run()
    at.number_input(key=keys.SHARED_LR).set_value(10.0).run()
    ok(at)
    assert figure(at)["frames"]


def metrics_table(at: AppTest) -> list[dict[str, str]]:
    """The rows of the page's metrics table (a Markdown table), by column header, unescaped."""
    text = next(m.value for m in at.markdown if m.value.startswith("| run |"))

    def cells(line: str) -> list[str]:
        parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        return [re.sub(r"\\(.)", r"\1", c.strip()) for c in parts]

    header, _align, *rows = text.splitlines()
    return [dict(zip(cells(header), cells(r), strict=True)) for r in rows]


def test_metrics_table_and_update_rules_are_shown(warm):
    at = ok(new_app())
    table = metrics_table(at)
    assert [r["run"] for r in table] == [
        f"{OPTIMIZERS[r.optimizer].name} (lr {r.lr:g})" for r in DEFAULT_RUNS
    ]
    assert all(r["verdict"] and r["diverged at step"] == "no" for r in table)
    # each optimizer's rule, displayed as st.latex displays a formula (a $$ block)
    rules = [m.value for m in at.markdown if "$$" in m.value and m.value.startswith("**")]
    for run in DEFAULT_RUNS:
        spec = OPTIMIZERS[run.optimizer]
        assert f"**{spec.name}**\n\n$$\n{spec.latex}\n$$" in "\n".join(rules)


def test_view_tabs_run_only_when_open(warm):
    at = ok(new_app())
    assert len(at.get("plotly_chart")) == 2  # the schedule preview and the descent
    at.session_state[keys.VIEW_TAB] = "3-D view"
    at.run()
    assert at.slider(key=keys.STEP_3D).value == 1000  # the final step until one is chosen
    at.slider(key=keys.STEP_3D).set_value(10).run()
    assert len(ok(at).get("plotly_chart")) == 3
    at.session_state[keys.VIEW_TAB] = "Inside the optimizer"
    at.run()
    assert at.slider(key=keys.STEP_3D).value == 10  # the same step for the internals
    assert len(ok(at).get("plotly_chart")) == 4
    at.number_input(key=keys.STEPS).set_value(5).run()
    assert at.slider(key=keys.STEP_3D).value == 5  # clipped to the shorter run
    at.session_state[keys.VIEW_TAB] = "Stability"
    at.run()
    assert len(ok(at).get("plotly_chart")) == 3
    assert any("lr × λ_max" in c.value for c in at.caption)
    at.session_state[keys.VIEW_TAB] = "Export and share"
    at.run()
    ok(at)


# --------------------------------------------------------------------------------------------
# Speed: moving a numeric control compiles nothing


def test_numeric_controls_compile_nothing(warm):
    at = ok(new_app())
    at.selectbox(key=keys.SCHEDULE).set_value("step").run()  # a structural choice: may compile
    at.number_input(key=keys.run_lr(0)).set_value(10.0).run()  # warm the divergence message
    at.session_state[keys.VIEW_TAB] = "Stability"
    at.run()
    at.session_state[keys.VIEW_TAB] = "3-D view"
    at.run()
    for i in (1, 2, 3):
        set_run_open(at, i)
    ok(at)
    before = _COMPILES["n"]
    moves = [
        lambda: at.number_input(key=keys.run_lr(0)).set_value(0.0021),
        lambda: at.select_slider(key=keys.run_lr_grid(2)).set_value(0.05),
        lambda: at.slider(key=keys.run_hparam(1, "momentum")).set_value(0.7),
        lambda: at.slider(key=keys.run_hparam(3, "b1")).set_value(0.8),
        lambda: at.number_input(key=keys.STEPS).set_value(1234),
        lambda: at.number_input(key=keys.STEPS).set_value(37),
        lambda: at.number_input(key=keys.START_X).set_value(-1.0),
        lambda: at.number_input(key=keys.START_Y).set_value(1.5),
        lambda: at.number_input(key=keys.NOISE).set_value(0.3),
        lambda: at.number_input(key=keys.SEED).set_value(11),
        lambda: at.number_input(key=keys.schedule_param("step_size")).set_value(10),
        lambda: at.slider(key=keys.schedule_param("gamma")).set_value(0.3),
        lambda: at.slider(key=keys.STEP_3D).set_value(5),
        lambda: at.number_input(key=keys.run_lr(0)).set_value(10.0),
    ]
    for move in moves:
        move().run()
        ok(at)
    assert _COMPILES["n"] == before, f"{_COMPILES['n'] - before} compilations"
    assert np.isfinite(settings(at).runs[0].lr)


# --------------------------------------------------------------------------------------------
# The numbers the page shows, against independent sources


def _numpy_gd(lr: float, steps: int, start=(-2.0, 2.0)) -> tuple[np.ndarray, int]:
    """Plain gradient descent on Rosenbrock in float64 with scipy's gradient: the last point,
    and the first step whose new point leaves |x|, |y| <= 1e6 or is not finite (or -1)."""
    from scipy.optimize import rosen_der

    p = np.array(start, np.float64)
    for k in range(1, steps + 1):
        with np.errstate(all="ignore"):
            q = p - lr * rosen_der(p)
        if not (np.isfinite(q).all() and np.abs(q).max() <= 1e6):
            return p, k
        p = q
    return p, -1


def test_table_and_divergence_numbers_match_numpy_and_scipy(warm):
    from scipy.optimize import rosen, rosen_hess

    at = ok(new_app({"run": ["sgd:0.001", "sgd:0.01"], "steps": "300"}))
    table = metrics_table(at)
    # the final loss of SGD at lr 0.001 is what plain float64 gradient descent reaches
    p, k = _numpy_gd(0.001, 300)
    assert k == -1
    assert float(table[0]["final loss"]) == pytest.approx(rosen(p), rel=1e-3)
    assert table[0]["diverged at step"] == "no"
    # at lr 0.01 it diverges at the same step as in NumPy, and the page says why:
    # lr * lambda_max of scipy's Hessian at the start already exceeds 2
    _, k = _numpy_gd(0.01, 300)
    assert k > 0 and table[1]["diverged at step"] == str(k)
    lam = np.linalg.eigvalsh(rosen_hess(np.array([-2.0, 2.0])))[-1]
    warning = next(w.value for w in at.warning if "diverged" in w.value)
    assert f"diverged at step {k}" in warning
    assert f"{0.01 * lam:.3g}" in warning and "step 0" in warning
