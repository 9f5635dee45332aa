"""The Explore page in headless Chromium against a real `streamlit run` server.

Each test opens a fresh session, does what a visitor would (load, move the learning rate, press
Play, click the surface, open a shared link, type a formula) and checks what the page then shows,
reading the figure's numbers from the DOM.
"""

from __future__ import annotations

import io
import math
import time

import pytest
from app_driver import AppPage
from PIL import Image

from landscapes import LANDSCAPES
from optim import OPTIMIZERS
from ui import keys
from ui.controls import LR_GRID
from ui.settings import Settings

DEFAULT = Settings()
ROSENBROCK = LANDSCAPES[DEFAULT.landscape]


def _close(a, b, tol=1e-6) -> bool:
    return all(math.isclose(u, v, rel_tol=tol, abs_tol=tol) for u, v in zip(a, b, strict=True))


def test_page_loads_without_error(app: AppPage) -> None:
    app.open()
    assert app.exceptions() == []
    text = app.main_text()
    assert ROSENBROCK.name in text
    assert "Something went wrong" not in text
    fig = app.figure()
    # one faint full path per run of the default comparison
    assert len(app.paths(fig)) == len(DEFAULT.runs)
    assert fig["frames"] > 1, "the figure carries no animation frames"


def test_chart_draws_something(app: AppPage) -> None:
    app.open()
    png = Image.open(io.BytesIO(app.chart_png())).convert("RGB")
    box = app.surface_box()
    surface = png.crop(box)
    width, height = surface.size
    assert width > 200 and height > 200, (png.size, box)
    colours = surface.getcolors(maxcolors=width * height)
    # A blank panel has one colour; the shaded surface with its contours and paths has hundreds.
    assert len(colours) > 300, f"only {len(colours)} distinct colours: the surface looks blank"
    most_common = max(count for count, _ in colours)
    assert most_common < 0.3 * width * height, "one colour covers most of the surface panel"


def test_moving_the_learning_rate_changes_the_path(app: AppPage) -> None:
    run = DEFAULT.runs[0]
    name = OPTIMIZERS[run.optimizer].name
    # two notches up the log slider from the default rate (e.g. 0.001 -> 0.0012 -> 0.0015)
    new_lr = LR_GRID[LR_GRID.index(run.lr) + 2]
    app.open()
    before = app.figure()
    sgd_before = app.paths(before)[0]
    assert sgd_before["name"] == f"{name} (lr {run.lr:g})", sgd_before["name"]

    app.expand_run(0)
    sent, finished = len(app.reruns_sent), len(app.runs_finished)
    # one notch at a time, as a person steps it
    app.rerun_after(lambda: app.nudge_slider(keys.run_lr_grid(0)))
    app.rerun_after(lambda: app.nudge_slider(keys.run_lr_grid(0)))
    after = app.wait_figure_change(before)

    # The browser asked for the results fragment only, and the server ran just that: the
    # sidebar around the rate is not redrawn (explore_page._results).
    asked = [m.rerun_script.fragment_id for m in app.reruns_sent[sent:]]
    assert len(asked) == 2 and all(asked), asked
    assert set(app.runs_finished[finished:]) == {"FINISHED_FRAGMENT_RUN_SUCCESSFULLY"}, (
        app.runs_finished[finished:]
    )

    sgd_after = app.paths(after)[0]
    assert sgd_after["name"] == f"{name} (lr {new_lr:g})", sgd_after["name"]
    assert sgd_after["x"] != sgd_before["x"] or sgd_after["y"] != sgd_before["y"]
    # same start, different descent: the first point is shared, later ones are not
    assert _close(
        sgd_after["x"][:1] + sgd_after["y"][:1], sgd_before["x"][:1] + sgd_before["y"][:1]
    )
    # the other runs did not move
    for b, a in zip(app.paths(before)[1:], app.paths(after)[1:], strict=True):
        assert (a["name"], a["x"], a["y"]) == (b["name"], b["x"], b["y"])
    # the exact-value box followed the slider, and the link carries the new rate
    assert float(app.widget(keys.run_lr(0)).locator("input").input_value()) == new_lr
    runs = app.query_params().get("run", [])
    assert runs and runs[0] == f"{run.optimizer}:{new_lr:g}", app.page.url


def test_play_advances_the_frames(app: AppPage) -> None:
    app.open()
    fig = app.figure()
    heads0 = app.trace(fig, "heads")
    assert fig["sliders"][0]["active"] == 0

    app.press_figure_button("Play")
    fig1 = app.wait_until(
        app.figure,
        lambda f: f["sliders"][0]["active"] >= 5,
        timeout_ms=15_000,
        what="the animation slider to advance",
    )
    heads1 = app.trace(fig1, "heads")
    assert (heads1["x"], heads1["y"]) != (heads0["x"], heads0["y"]), "the heads did not move"

    # it keeps going while it plays ...
    time.sleep(0.5)
    fig2 = app.figure()
    assert fig2["sliders"][0]["active"] > fig1["sliders"][0]["active"]
    # ... and Pause stops it
    app.press_figure_button("Pause")
    time.sleep(0.3)
    paused = app.figure()["sliders"][0]["active"]
    time.sleep(0.6)
    assert app.figure()["sliders"][0]["active"] == paused
    assert app.exceptions() == []


def test_clicking_the_surface_moves_the_start(app: AppPage) -> None:
    app.open()
    before = app.figure()
    start0 = app.trace(before, "start")
    assert _close([start0["x"][0], start0["y"][0]], ROSENBROCK.start)

    target = (-1.5, -0.5)  # lower left: no path passes there, so the click lands on the grid
    grid = app.trace(before, "click-grid")
    expected = min(
        zip(grid["x"], grid["y"], strict=True),
        key=lambda p: (p[0] - target[0]) ** 2 + (p[1] - target[1]) ** 2,
    )
    finished = len(app.runs_finished)
    app.click_plot(*target)
    after = app.wait_figure_change(before)
    # The chart is in the results fragment, but a new start changes the sidebar's start boxes
    # too: the fragment asks for a whole run (explore_page._results).
    app.wait_until(
        lambda: app.runs_finished[finished:],
        lambda ends: "FINISHED_SUCCESSFULLY" in ends,
        timeout_ms=30_000,
        what="a whole run after the click",
    )

    start1 = app.trace(after, "start")
    assert _close([start1["x"][0], start1["y"][0]], expected, tol=1e-4), (start1, expected)
    for path in app.paths(after):
        assert _close([path["x"][0], path["y"][0]], expected, tol=1e-4), path["name"]
    x_box = float(app.widget(keys.START_X).locator("input").input_value())
    y_box = float(app.widget(keys.START_Y).locator("input").input_value())
    assert _close([x_box, y_box], expected, tol=1e-4)
    start_param = app.query_params().get("start", [""])[0]
    assert _close([float(v) for v in start_param.split(",")], expected, tol=1e-4), app.page.url


def test_a_shared_link_restores_its_state(app: AppPage) -> None:
    app.open("ls=himmelblau&run=adam:0.05&run=sgd:0.002&steps=300&start=1,-1")
    himmelblau = LANDSCAPES["himmelblau"]
    assert himmelblau.name in app.main_text()
    assert app.alerts() == [] or not any("could not be used" in a for a in app.alerts())

    fig = app.figure()
    names = [t["name"] for t in app.paths(fig)]
    assert names == ["Adam (lr 0.05)", "SGD (lr 0.002)"], names
    assert _close(fig["xrange"], himmelblau.window[0])
    assert _close(fig["yrange"], himmelblau.window[1])
    assert _close(fig["x2range"], [0, 300])  # the loss panel spans the 300 steps
    for path in app.paths(fig):
        assert _close([path["x"][0], path["y"][0]], [1.0, -1.0])

    assert app.selected(keys.LANDSCAPE) == himmelblau.name
    assert app.widget(keys.STEPS).locator("input").input_value() == "300"
    app.expand_run(0)
    assert app.widget(keys.run_lr(0)).locator("input").input_value() == "0.05"


@pytest.mark.parametrize("form", ["full", "short"])
def test_a_lessons_link_reproduces_its_demo(app: AppPage, form: str) -> None:
    from ui.lessons import LESSONS, share_link, short_link

    lesson = LESSONS["too_high_diverges"]
    s = lesson.settings
    link = share_link(s) if form == "full" else short_link(lesson)
    app.open(link)

    assert LANDSCAPES[s.landscape].name in app.main_text()
    fig = app.figure()
    paths = app.paths(fig)
    assert len(paths) == len(s.runs), [p["name"] for p in paths]
    for path, run in zip(paths, s.runs, strict=True):
        assert f"(lr {run.lr:g})" in path["name"], (path["name"], run)
    assert _close(fig["xrange"], LANDSCAPES[s.landscape].window[0])
    assert _close(fig["x2range"], [0, s.steps])
    # the demo's point: the higher rate diverges, and the page says so
    assert "diverged at step" in "\n".join(app.alerts())
    # and the page says which lesson this is (ui.lessons.describe)
    assert f"Lesson: {lesson.text('title')}" in app.main_text(), "the page does not name the lesson"


def test_a_rejected_link_says_why(app: AppPage) -> None:
    app.open("ls=no_such_surface&steps=300")
    text = app.main_text()
    assert ROSENBROCK.name in text  # fell back to the default surface
    assert "no_such_surface" in text, "the page does not say which part of the link was rejected"
    assert _close(app.figure()["x2range"], [0, 300])  # the valid part was kept


def test_a_bad_formula_shows_its_message(app: AppPage) -> None:
    app.open()
    app.rerun_after(lambda: app.choose(keys.LANDSCAPE, "Custom formula…"))
    before = app.figure()
    app.rerun_after(lambda: app.set_text(keys.FORMULA, "x**2 + sinn(y)"))
    app.wait_until(app.text, lambda t: "unknown name" in t, 30_000, "the formula's error message")
    text = app.text()
    assert "sinn" in text and "did you mean sin" in text, text[-2000:]
    assert app.exceptions() == []
    # the page still draws a surface (the last good one), not an empty chart
    fig = app.figure()
    assert fig is not None and len(app.paths(fig)) == len(app.paths(before))


def test_a_good_formula_draws_its_surface(app: AppPage) -> None:
    app.open()
    app.rerun_after(lambda: app.choose(keys.LANDSCAPE, "Custom formula…"))
    before = app.figure()
    app.rerun_after(lambda: app.set_text(keys.FORMULA, "(x - 1)^2 + 2*(y + 0.5)^2"))
    after = app.wait_figure_change(before)
    assert app.exceptions() == []
    assert "unknown name" not in app.text()
    # Adam at lr 0.01 heads for the minimum (1, -0.5) of the bowl
    adam = [t for t in app.paths(after) if t["name"].startswith("Adam")][0]
    end = (adam["x"][-1], adam["y"][-1])
    start = (adam["x"][0], adam["y"][0])
    dist = lambda p: math.hypot(p[0] - 1, p[1] + 0.5)  # noqa: E731
    assert dist(end) < dist(start), (start, end)


def test_a_diverging_run_says_so_and_keeps_the_axes(app: AppPage) -> None:
    app.open("run=sgd:10")
    alerts = "\n".join(app.alerts())
    assert "diverged at step" in alerts, alerts
    assert "smaller learning rate" in alerts
    fig = app.figure()
    assert _close(fig["xrange"], ROSENBROCK.window[0]), fig["xrange"]
    assert _close(fig["yrange"], ROSENBROCK.window[1]), fig["yrange"]
    assert any("diverged at step" in (a or "") for a in fig["annotations"]), fig["annotations"]
    # nothing huge was sent to the plot: every path point is finite and of modest size
    for path in app.paths(fig):
        coords = [v for v in path["x"] + path["y"] if v is not None]
        assert all(abs(v) < 1e7 for v in coords), path["name"]


@pytest.mark.parametrize("theme", ["dark", "lecture"])
def test_themes_render(app: AppPage, theme: str) -> None:
    app.open(f"theme={theme}")
    assert app.exceptions() == []
    assert app.widget(keys.THEME).count() == 1
    fig = app.figure()
    assert len(app.paths(fig)) == len(DEFAULT.runs)


@pytest.mark.parametrize("theme", ["light", "lecture"])
def test_the_metrics_table_stays_inside_the_page(app: AppPage, theme: str) -> None:
    # One row per run, every verdict in full; a table wider than the main area (large type)
    # scrolls sideways inside it instead of spilling past its edge.
    app.open(f"theme={theme}")
    table = app.page.locator("[data-testid='stMain'] table").first
    table.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == len(DEFAULT.runs)
    verdict = rows.first.locator("td").nth(1).inner_text()
    assert verdict.startswith(("still crawling", "reached", "diverged", "stalled")), verdict
    main = app.page.locator("[data-testid='stMainBlockContainer']").bounding_box()
    box = table.bounding_box()
    assert box["x"] + box["width"] <= main["x"] + main["width"] + 1, (box, main)
    overflow = table.evaluate("t => getComputedStyle(t).overflowX")
    assert overflow == "auto"
