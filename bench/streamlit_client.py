"""A browser-less Streamlit client: one session over the app's websocket, as the frontend does it.

The browser opens ``ws://host/_stcore/stream`` with the subprotocol "streamlit", then sends a
``BackMsg{rerun_script: ClientState}`` carrying the query string and the widget values it holds;
the server answers with ``ForwardMsg``s (``new_session``, one ``delta`` per element, and
``script_finished`` when the run ends). A widget is named by the id in its element's proto
(``delta.new_element.number_input.id``), which ends with the user's key, and its new value goes
in ``ClientState.widget_states``. Widgets left out keep their previous value on the server, so a
rerun that moves one control sends only that control, as the frontend's changed-widget path does.
A widget drawn by an ``st.fragment`` carries that fragment's id (``delta.fragment_id``); moving
it sends the id in ``ClientState.fragment_id``, as the frontend does, and the server reruns that
fragment only (its run ends with FINISHED_FRAGMENT_RUN_SUCCESSFULLY).

Used by `load_test.py` and `bench_server.py`; loopback only (see `check_loopback`).
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import websocket  # websocket-client
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

REPO_ROOT = Path(__file__).resolve().parent.parent

FINISHED = ForwardMsg.ScriptFinishedStatus.Name
SUCCESS = ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY")  # a whole run, a fragment


def check_loopback(url: str) -> None:
    """Refuse any target that is not this machine: load goes to loopback addresses only."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing to load {url}: only loopback targets (127.0.0.0/8, ::1, localhost)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    started: float  # time.perf_counter() just before the process was spawned

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(log_path: Path | None = None, timeout_s: float = 120.0) -> Server:
    """`streamlit run app.py` on a free loopback port with the repo's config; wait for health."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
        ],
        cwd=REPO_ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    server = Server(url, process, started)
    deadline = time.monotonic() + timeout_s
    while not healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the server did not start (log: {log_path})")
        time.sleep(0.05)
    return server


@dataclass
class Widget:
    id: str
    kind: str  # the element type: "number_input", "slider", ...
    fragment_id: str = ""  # the fragment that drew it, if any


@dataclass
class RunResult:
    status: str  # FINISHED_SUCCESSFULLY, FINISHED_EARLY_FOR_RERUN, ...
    seconds: float
    elements: dict[str, int] = field(default_factory=dict)  # element type -> count
    exceptions: int = 0
    bytes: int = 0


class Session:
    """One browser tab's worth of Streamlit session."""

    def __init__(self, url: str, query_string: str = "", timeout_s: float = 120.0) -> None:
        check_loopback(url)
        parts = urlsplit(url)
        self.query_string = query_string
        self.widgets: dict[str, Widget] = {}  # user key -> widget
        self.ws = websocket.create_connection(
            f"ws://{parts.netloc}/_stcore/stream",
            subprotocols=["streamlit"],
            origin=f"{parts.scheme}://{parts.netloc}",
            timeout=timeout_s,
            enable_multithread=True,
        )

    def close(self) -> None:
        try:
            self.ws.close()
        except OSError:
            pass

    # ---- sending ---------------------------------------------------------------------------

    def send_rerun(self, values: dict[str, float] | None = None) -> None:
        """Ask for a rerun, with new values for the widgets named by their keys."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = ""
        state.context_info.timezone = "UTC"
        state.context_info.url = ""
        moved = [(self.widgets[key], value) for key, value in (values or {}).items()]
        fragments = {widget.fragment_id for widget, _ in moved}
        if len(fragments) == 1:  # the widgets moved all belong to one fragment (or to none)
            state.fragment_id = fragments.pop()
        for widget, value in moved:
            w = state.widget_states.widgets.add()
            w.id = widget.id
            if widget.kind == "number_input" and isinstance(value, int):
                w.int_value = value
            else:
                w.double_value = float(value)
        self.ws.send_binary(msg.SerializeToString())

    # ---- receiving -------------------------------------------------------------------------

    def _learn_widget(self, element, fragment_id: str = "") -> None:
        kind = element.WhichOneof("type")
        if kind is None:
            return
        proto = getattr(element, kind)
        wid = getattr(proto, "id", "") if hasattr(proto, "id") else ""
        if not wid or not wid.startswith("$$ID"):
            return
        # "$$ID-<hash>-<user key>": the user key is what follows the hash
        key = wid.split("-", 2)[2] if wid.count("-") >= 2 else ""
        if key and key != "None":
            self.widgets[key] = Widget(wid, kind, fragment_id)

    def wait_finished(self, timeout_s: float = 120.0) -> RunResult:
        """Read messages until this run's script_finished; count what it drew."""
        t0 = time.perf_counter()
        elements: dict[str, int] = {}
        exceptions = 0
        nbytes = 0
        deadline = time.monotonic() + timeout_s
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no script_finished within {timeout_s} s")
            data = self.ws.recv()
            if isinstance(data, str):
                continue
            nbytes += len(data)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                etype = element.WhichOneof("type") or "?"
                elements[etype] = elements.get(etype, 0) + 1
                if etype == "exception":
                    exceptions += 1
                self._learn_widget(element, msg.delta.fragment_id)
            elif kind == "script_finished":
                status = FINISHED(msg.script_finished)
                return RunResult(status, time.perf_counter() - t0, elements, exceptions, nbytes)

    def rerun(self, values: dict[str, float] | None = None, timeout_s: float = 120.0) -> RunResult:
        """Send a rerun and wait for it to finish; `seconds` counts from the send."""
        t0 = time.perf_counter()
        self.send_rerun(values)
        result = self.wait_finished(timeout_s)
        result.seconds = time.perf_counter() - t0
        return result
