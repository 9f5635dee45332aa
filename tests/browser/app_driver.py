"""Drive the Explore page the way a person does, and read what it shows.

Widgets are found by the CSS class Streamlit gives a keyed element's container, ``st-key-<key>``,
with the keys from `ui.keys`. The main figure is read from the DOM: plotly keeps what it drew in
the chart's div (``gd._fullData``: every trace with its arrays decoded; ``gd._fullLayout``: axis
ranges, slider position), so a test compares numbers, not pixels, except where pixels are the
point (is the chart blank?).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Locator, Page, WebSocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from ui import keys

FIRST_LOAD_TIMEOUT_MS = 180_000  # the first session compiles the engine (JAX)
RERUN_TIMEOUT_MS = 60_000

CHART = f".st-key-{keys.CHART} .js-plotly-plot"

# The figure as plain data: traces (with decoded arrays), axis ranges, animation state.
_FIGURE_JS = """
(sel) => {
  const g = document.querySelector(sel);
  if (!g || !g._fullData || !g._fullLayout) return null;
  const arr = (a) => (a == null ? null : Array.from(a, (v) => (v == null ? null : Number(v))));
  const L = g._fullLayout;
  const sliders = (L.sliders || []).map((s) => ({active: s.active, steps: s.steps.length}));
  return {
    traces: g._fullData.map((t) => ({
      name: t.name, mode: t.mode, type: t.type, xaxis: t.xaxis, yaxis: t.yaxis,
      x: arr(t.x), y: arr(t.y),
    })),
    xrange: L.xaxis ? Array.from(L.xaxis.range) : null,
    yrange: L.yaxis ? Array.from(L.yaxis.range) : null,
    x2range: L.xaxis2 ? Array.from(L.xaxis2.range) : null,
    sliders: sliders,
    frames: g._transitionData ? g._transitionData._frames.length : 0,
    annotations: (L.annotations || []).map((a) => a.text),
    images: (L.images || []).length,
  };
}
"""


_RUN_COUNTER_JS = """
() => {
  if (window.__descentLabRuns === undefined) {
    window.__descentLabRuns = 0;
    const root = document.querySelector('[data-testid="stApp"]');
    new MutationObserver(() => {
      if (root.getAttribute('data-test-script-state') === 'running') window.__descentLabRuns++;
    }).observe(root, {attributes: true, attributeFilter: ['data-test-script-state']});
  }
  return window.__descentLabRuns;
}
"""


def _short(value: Any, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


class AppPage:
    """The Explore page in one browser tab."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        # What the page and the server said to each other over Streamlit's websocket, decoded:
        # the rerun requests sent (with the fragment they name, if any) and how runs ended.
        self.reruns_sent: list[BackMsg] = []
        self.runs_finished: list[str] = []
        page.on("websocket", self._watch_websocket)

    def _watch_websocket(self, ws: WebSocket) -> None:
        if not ws.url.endswith("/_stcore/stream"):
            return
        ws.on("framesent", self._on_frame_sent)
        ws.on("framereceived", self._on_frame_received)

    def _on_frame_sent(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            msg = BackMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "rerun_script":
                self.reruns_sent.append(msg)

    def _on_frame_received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "script_finished":
                self.runs_finished.append(ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished))

    # ---- navigation and waiting ------------------------------------------------------------

    def open(self, query: str = "", timeout_ms: int = FIRST_LOAD_TIMEOUT_MS) -> AppPage:
        """Load the page (optionally with a shared link's query string) and wait for the chart."""
        url = f"{self.base_url}/" + (f"?{query.lstrip('?')}" if query else "")
        self.page.goto(url)
        self.wait_idle(timeout_ms)
        self.page.wait_for_function(
            "(sel) => { const g = document.querySelector(sel); return g && g._fullLayout; }",
            arg=CHART,
            timeout=timeout_ms,
        )
        return self

    def _install_run_counter(self) -> int:
        """Count the script runs the page sees (each flip of the app root to "running")."""
        return self.page.evaluate(_RUN_COUNTER_JS)

    def rerun_after(self, action: Callable[[], object], timeout_ms: int = RERUN_TIMEOUT_MS) -> None:
        """Do `action` (a click, a key press) and wait for the rerun it causes to finish.

        Waiting for "not running" alone races: right after the action the app is still idle
        from the previous run. The counter says a new run started; then its end is awaited.
        """
        before = self._install_run_counter()
        action()
        self.page.wait_for_function(
            """(n) => window.__descentLabRuns > n && document.querySelector(
                '[data-testid="stApp"]').getAttribute('data-test-script-state') === 'notRunning'""",
            arg=before,
            timeout=timeout_ms,
        )

    def wait_idle(self, timeout_ms: int = RERUN_TIMEOUT_MS) -> None:
        """Wait until the script is not running (Streamlit marks the app root with its state)."""
        self.page.wait_for_selector(
            '[data-testid="stApp"][data-test-script-state="notRunning"]',
            state="attached",
            timeout=timeout_ms,
        )

    def wait_until(
        self, probe: Callable[[], Any], ok: Callable[[Any], bool], timeout_ms: int, what: str
    ) -> Any:
        """Poll `probe()` until `ok(value)`; fail with the last value seen."""
        deadline = time.monotonic() + timeout_ms / 1000
        value = probe()
        while not ok(value):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout_ms} ms waiting for {what}; last: {_short(value)}"
                )
            time.sleep(0.2)
            value = probe()
        return value

    def wait_figure_change(self, before: dict, timeout_ms: int = RERUN_TIMEOUT_MS) -> dict:
        """Wait for a rerun to redraw the main figure differently from `before`."""
        self.wait_until(
            self.figure, lambda f: f is not None and f != before, timeout_ms, "the figure to change"
        )
        self.wait_idle(timeout_ms)
        return self.figure()

    # ---- reading ---------------------------------------------------------------------------

    def figure(self) -> dict | None:
        return self.page.evaluate(_FIGURE_JS, CHART)

    @staticmethod
    def trace(fig: dict, name: str) -> dict:
        found = [t for t in fig["traces"] if t["name"] == name]
        assert found, f"no trace named {name!r}; traces: {[t['name'] for t in fig['traces']]}"
        return found[0]

    @staticmethod
    def paths(fig: dict) -> list[dict]:
        """The faint full paths on the surface panel (one line trace per run)."""
        return [
            t
            for t in fig["traces"]
            if t["mode"] == "lines" and t["xaxis"] == "x" and t["yaxis"] == "y"
        ]

    def widget(self, key: str) -> Locator:
        return self.page.locator(f".st-key-{key}")

    def main_text(self) -> str:
        """The text of the main area (not the sidebar)."""
        return self.page.locator('[data-testid="stMain"]').inner_text()

    def text(self) -> str:
        """All the text of the page, sidebar included."""
        return self.page.locator('[data-testid="stApp"]').inner_text()

    def alerts(self) -> list[str]:
        return self.page.locator('[data-testid="stAlert"]').all_inner_texts()

    def query_params(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.page.url).query)

    def exceptions(self) -> list[str]:
        return self.page.locator('[data-testid="stException"]').all_inner_texts()

    # ---- acting ----------------------------------------------------------------------------

    def run_open(self, i: int) -> bool:
        """Whether run i's expander in the sidebar is open (folding takes an animation)."""
        details = self.widget(keys.run_expander(i)).locator("details").first
        return details.get_attribute("open") is not None

    def expand_run(self, i: int, timeout_ms: int = RERUN_TIMEOUT_MS) -> None:
        """Open run i's expander in the sidebar and wait for its widgets.

        The expander is lazy: a folded run's widgets are not drawn at all; the click on its
        header starts a rerun that draws them. That rerun is quick (nothing is recomputed), too
        quick for `rerun_after` to see the app root flip to "running", so this waits for the
        widgets themselves.
        """
        if not self.run_open(i):
            self.widget(keys.run_expander(i)).locator("summary").first.click()
        self.widget(keys.run_lr(i)).locator("input").wait_for(state="visible", timeout=timeout_ms)
        self.wait_idle(timeout_ms)

    def fold_run(self, i: int, timeout_ms: int = RERUN_TIMEOUT_MS) -> None:
        """Fold run i's expander; wait for the rerun to remove its widgets and for the
        expander to finish closing."""
        if self.run_open(i):
            self.widget(keys.run_expander(i)).locator("summary").first.click()
        self.widget(keys.run_lr(i)).wait_for(state="detached", timeout=timeout_ms)
        self.wait_until(lambda: self.run_open(i), lambda v: not v, timeout_ms, "the fold")
        self.wait_idle(timeout_ms)

    def set_number(self, key: str, value: float | int | str) -> None:
        """Type a value into a number_input and commit it (Enter), as a person does."""
        box = self.widget(key).locator("input")
        box.fill(str(value))
        box.press("Enter")

    def set_text(self, key: str, value: str) -> None:
        box = self.widget(key).locator("input")
        box.fill(value)
        box.press("Enter")

    def selected(self, key: str) -> str:
        """The label a selectbox shows."""
        return self.widget(key).locator('input[role="combobox"]').input_value()

    def choose(self, key: str, option_label: str) -> None:
        """Pick an option of a selectbox by its visible label."""
        self.widget(key).locator('input[role="combobox"]').click()
        self.page.get_by_role("option", name=option_label, exact=True).click()

    def nudge_slider(self, key: str, presses: int = 1, direction: str = "ArrowRight") -> None:
        """Move a slider by the keyboard, one notch per key press (its thumb is a range input)."""
        thumb = self.widget(key).locator('input[type="range"]').first
        thumb.focus()
        for _ in range(presses):
            thumb.press(direction)

    def click_plot(self, x: float, y: float) -> None:
        """Click the surface panel at data coordinates (x, y)."""
        chart = self.page.locator(CHART)
        chart.scroll_into_view_if_needed()
        px, py = self.page.evaluate(
            """([sel, x, y]) => {
                const g = document.querySelector(sel);
                const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
                const r = g.getBoundingClientRect();
                return [r.left + xa._offset + xa.l2p(x), r.top + ya._offset + ya.l2p(y)];
            }""",
            [CHART, x, y],
        )
        self.page.mouse.click(px, py)

    def press_figure_button(self, label: str) -> None:
        """Click one of the plotly figure's own buttons (Play, Pause, speeds)."""
        self.page.locator(f"{CHART} g.updatemenu-button", has_text=label).first.click()

    def chart_png(self) -> bytes:
        self.page.locator(CHART).scroll_into_view_if_needed()
        return self.page.locator(CHART).screenshot()

    def surface_box(self) -> tuple[int, int, int, int]:
        """The surface panel's plot area in the chart's screenshot: (left, top, right, bottom)."""
        left, top, width, height = self.page.evaluate(
            """(sel) => {
                const L = document.querySelector(sel)._fullLayout;
                return [L.xaxis._offset, L.yaxis._offset, L.xaxis._length, L.yaxis._length];
            }""",
            CHART,
        )
        return round(left), round(top), round(left + width), round(top + height)
