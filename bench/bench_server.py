"""Server benchmarks: cold start to the first chart, and memory per session.

- cold start: from spawning `streamlit run app.py` to the end of the first session's first run
  with a plotly chart in it (what the first visitor after a deploy or a restart waits for,
  less the browser's drawing), split into "server healthy" and "first run".
- memory: the server's RSS (psutil on its PID) idle before any session, with 1 session, and
  with 20 sessions that each loaded the page once (sessions stay open while measured).
- CPU per rerun: the server process's CPU time (all its threads; psutil) over `--reruns`
  reruns from one session, per rerun, for a learning-rate change (the results fragment reruns,
  as when a visitor moves a rate) and for a whole-page rerun that changes nothing. What limits
  how many visitors one server answers: its Python holds the GIL, so one process does one
  such piece of work at a time (bench/load_test.py measures the crowd).

Loopback only; it starts and stops its own server.

    python bench/bench_server.py              # add --repeat 3 for the spread of cold starts
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import streamlit_client as sc  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def settle_rss(pid: int, seconds: float = 3.0) -> float:
    """RSS after the server has been quiet for a moment (the median of a few samples)."""
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(rss_mb(pid))
        time.sleep(0.25)
    return statistics.median(samples)


LR_KEY = "run0_lr"  # ui.keys.run_lr(0): the first run's exact learning-rate box


def cpu_per_rerun(server: sc.Server, session: sc.Session, n: int, change_lr: bool) -> dict:
    """The server's CPU per rerun over `n` reruns of `session`, split into the event loop (the
    process's main thread: messages and the websocket) and the rest (the script runs)."""
    proc = psutil.Process(server.pid)

    def threads() -> dict[int, float]:
        return {t.id: t.user_time + t.system_time for t in proc.threads()}

    before, cpu0 = threads(), sum(proc.cpu_times()[:2])
    statuses = set()
    for i in range(n):
        values = {LR_KEY: round(2e-3 + 1.37e-5 * i, 9)} if change_lr else None
        result = session.rerun(values, timeout_s=120)
        if result.status not in sc.SUCCESS or result.exceptions:
            raise RuntimeError(f"a rerun failed: {result.status}, {result.exceptions} exceptions")
        statuses.add(result.status)
        time.sleep(0.12)  # past the page's pacing gap: a visitor's pace, not a flood
    after, cpu1 = threads(), sum(proc.cpu_times()[:2])
    loop = after.get(server.pid, 0.0) - before.get(server.pid, 0.0)
    return {
        "ms": round(1000 * (cpu1 - cpu0) / n, 1),
        "event_loop_ms": round(1000 * loop / n, 1),
        "status": sorted(statuses),
    }


def cold_start(reruns: int = 60) -> dict:
    RESULTS.mkdir(exist_ok=True)
    server = sc.start_server(RESULTS / "bench_server.log")
    healthy = time.perf_counter() - server.started
    try:
        idle = rss_mb(server.pid)  # nothing runs before the first session: one sample will do
        t0 = time.perf_counter()
        session = sc.Session(server.url)
        first = session.rerun(timeout_s=300)
        first_chart = time.perf_counter() - server.started
        if first.elements.get("plotly_chart", 0) == 0:
            raise RuntimeError(f"the first run drew no chart: {first.elements}")
        if first.status not in sc.SUCCESS or first.exceptions:
            raise RuntimeError(
                f"the first run failed: {first.status}, {first.exceptions} exceptions"
            )
        run_s = time.perf_counter() - t0
        one = settle_rss(server.pid)
        for i in range(5):  # warm: the engine's other paths, the caches
            session.rerun({LR_KEY: 1.1e-3 + 1e-5 * i}, timeout_s=120)
        lr_change = cpu_per_rerun(server, session, reruns, change_lr=True)
        unchanged = cpu_per_rerun(server, session, reruns, change_lr=False)

        # A second visitor: the engine is compiled, the figure cached.
        t1 = time.perf_counter()
        second = sc.Session(server.url)
        second.rerun(timeout_s=120)
        second_s = time.perf_counter() - t1

        sessions = [session, second]
        for _ in range(18):
            s = sc.Session(server.url)
            s.rerun(timeout_s=120)
            sessions.append(s)
        twenty = settle_rss(server.pid)
        for s in sessions:
            s.close()
        return {
            "healthy_s": round(healthy, 2),
            "first_run_s": round(run_s, 2),
            "cold_start_to_first_chart_s": round(first_chart, 2),
            "second_visitor_first_run_s": round(second_s, 3),
            "first_run_bytes": first.bytes,
            "rss_idle_mb": round(idle, 1),
            "rss_1_session_mb": round(one, 1),
            "rss_20_sessions_mb": round(twenty, 1),
            "rss_per_extra_session_mb": round((twenty - one) / 19, 2),
            "cpu_per_lr_change": lr_change,
            "cpu_per_unchanged_rerun": unchanged,
        }
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--repeat", type=int, default=1, help="cold starts to measure (each a new server)"
    )
    p.add_argument("--reruns", type=int, default=60, help="reruns per CPU measurement")
    args = p.parse_args(argv)
    runs = []
    for i in range(args.repeat):
        r = cold_start(args.reruns)
        runs.append(r)
        print(f"run {i + 1}:")
        print(f"  server healthy after           {r['healthy_s']:8.2f} s")
        print(f"  first session's first run      {r['first_run_s']:8.2f} s")
        print(f"  cold start to first chart      {r['cold_start_to_first_chart_s']:8.2f} s")
        print(f"  a second visitor's first run   {r['second_visitor_first_run_s']:8.3f} s")
        print(f"  first run sent                 {r['first_run_bytes'] / 1e3:8.0f} KB")
        print(f"  RSS idle (no session)          {r['rss_idle_mb']:8.1f} MB")
        print(f"  RSS with 1 session             {r['rss_1_session_mb']:8.1f} MB")
        print(f"  RSS with 20 sessions           {r['rss_20_sessions_mb']:8.1f} MB")
        print(f"  per extra session              {r['rss_per_extra_session_mb']:8.2f} MB")
        for label, k in (
            ("learning-rate change", "cpu_per_lr_change"),
            ("rerun changing nothing", "cpu_per_unchanged_rerun"),
        ):
            c = r[k]
            print(
                f"  server CPU, {label:22} {c['ms']:6.1f} ms "
                f"(event loop {c['event_loop_ms']:.1f} ms; {', '.join(c['status'])})",
                flush=True,
            )
    if len(runs) > 1:
        cs = [r["cold_start_to_first_chart_s"] for r in runs]
        print(
            f"cold start to first chart: median {statistics.median(cs):.2f} s, min {min(cs):.2f}, max {max(cs):.2f}"
        )
    out = RESULTS / "bench_server.json"
    out.write_text(json.dumps(runs, indent=2))
    print(f"figures written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
