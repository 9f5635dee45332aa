"""How long the Explore page takes to answer a learning-rate change, and how big its figure is.

Targets (issue 3): after a learning-rate change the server finishes the rerun in 100 ms or less
(warm, default view: 4 runs x 1000 steps); the descent figure is under 1 MB for the default view
and under 2 MB for 4 runs x 5000 steps.

What is measured:
  - "script": the Explore page's render (all of the script but app.py's few lines), timed
    inside the AppTest thread: what the server spends before the browser gets the last delta.
    "wall" is elapsed time; "cpu" is the script thread's CPU time, which does not count time
    spent waiting for a core, so it stays meaningful on a shared, loaded machine;
  - "apptest": the whole `AppTest.run()` round trip, which adds AppTest's own polling (it
    sleeps in 10 ms ticks while waiting for the script thread);
  - the parts of one rerun, timed directly: recomputing the changed run, building the descent
    figure, and serialising it as `st.plotly_chart` does;
  - the figure's JSON size as sent to the browser (`proto.spec`).

AppTest reruns the whole script for every change. On a real server a learning-rate change
reruns only the Explore page's results fragment (explore_page._results), so the figures here
are an upper bound for it; `bench_server.py` measures the server's CPU per rate change as a
browser causes it.

Run: ``python bench/bench_rerun.py [--repeats N]``. Prints a table; the medians are what the
targets refer to.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from ui import compute, explore_page, keys  # noqa: E402

APP = str(ROOT / "app.py")
_script_ms: list[float] = []
_script_cpu_ms: list[float] = []
_render = explore_page._render


def _timed_render() -> None:
    t, c = time.perf_counter(), time.thread_time()
    try:
        _render()
    finally:
        _script_ms.append(1000 * (time.perf_counter() - t))
        _script_cpu_ms.append(1000 * (time.thread_time() - c))


def _descent_size(at: AppTest) -> int:
    for chart in at.get("plotly_chart"):
        if '"click-grid"' in chart.proto.spec:
            return len(chart.proto.spec.encode())
    raise RuntimeError("no descent figure on the page")


def _wall_ms(f, repeats: int) -> float:
    """Median elapsed time of f(), in ms (XLA may run on threads of its own)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


def _ms(f, repeats: int) -> float:
    """Median CPU time of f() in this thread, in ms (robust to other processes' load)."""
    times = []
    for _ in range(repeats):
        t = time.thread_time()
        f()
        times.append(1000 * (time.thread_time() - t))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    explore_page._render = _timed_render

    at = AppTest.from_file(APP, default_timeout=600)
    t = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t
    assert not at.exception, [e.value for e in at.exception]
    default_size = _descent_size(at)

    # Warm: every rate below is new (a cache miss), as when a lecturer drags the slider.
    lrs = [0.0011 + 1e-5 * i for i in range(args.repeats + 3)]
    at.number_input(key=keys.run_lr(0)).set_value(lrs[0]).run()
    at.number_input(key=keys.run_lr(0)).set_value(lrs[1]).run()
    _script_ms.clear()
    _script_cpu_ms.clear()
    round_trip = []
    for lr in lrs[2:]:
        t = time.perf_counter()
        at.number_input(key=keys.run_lr(0)).set_value(lr).run()
        round_trip.append(1000 * (time.perf_counter() - t))
    lr_script, lr_cpu = list(_script_ms), list(_script_cpu_ms)

    _script_ms.clear()
    _script_cpu_ms.clear()
    for _ in range(args.repeats):
        at.run()
    idle_script, idle_cpu = list(_script_ms), list(_script_cpu_ms)

    # The parts of one rerun after a rate change, timed directly.
    s = at.session_state[keys.SETTINGS]
    landscape = compute.landscape_of(s)
    job = compute.jobs(s, landscape)[0]
    from dataclasses import replace

    counter = iter(range(10**6))
    traj_ms = _wall_ms(
        lambda: compute._run(replace(job, lr=0.002 + 1e-6 * next(counter))), args.repeats
    )
    from viz.descent import RunView, descent_dict, descent_figure
    from viz.theme import get_theme

    theme = get_theme(s.theme)
    jobs, trajs = compute.trajectories(s, landscape)
    views = [
        RunView(j.optimizer, theme.color(i), tr, f"{j.lr:g}")
        for i, (j, tr) in enumerate(zip(jobs, trajs, strict=True))
    ]
    xs, ys, Z = compute.grid(landscape)
    kwargs = dict(
        Z=Z, xs=xs, ys=ys, theme=theme, max_frames=explore_page.MAX_FRAMES, clickable=True
    )
    build = lambda: descent_dict(landscape, views, **kwargs)  # noqa: E731  (what the page does)
    build_ms = _ms(build, args.repeats)
    validated_ms = _ms(
        lambda: descent_figure(landscape, views, **kwargs), max(3, args.repeats // 3)
    )
    import plotly.io

    built = [build() for _ in range(args.repeats)]
    serialise_ms = _ms(
        lambda: plotly.io.to_json(compute.SentFigure(built.pop()).to_dict(), validate=False),
        args.repeats,
    )
    plain = descent_figure(landscape, views, **kwargs)
    plotly_ms = _ms(lambda: plotly.io.to_json(plain.to_dict(), validate=False), args.repeats)
    metrics_ms = _ms(lambda: compute.METRICS.clear() or compute.metrics(job), args.repeats)

    at.number_input(key=keys.STEPS).set_value(5000).run()
    long_size = _descent_size(at)
    frames = len(
        json.loads(
            next(c.proto.spec for c in at.get("plotly_chart") if '"click-grid"' in c.proto.spec)
        )["frames"]
    )

    def med(xs: list[float]) -> str:
        return f"median {statistics.median(xs):7.1f} ms   p90 {sorted(xs)[int(0.9 * (len(xs) - 1))]:7.1f} ms"

    import os

    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall times grow with it, cpu times do not"
    )
    print(f"first run (compiles every default optimizer): {cold:.1f} s")
    print(f"rerun after a learning-rate change, script wall: {med(lr_script)}   (target <= 100 ms)")
    print(f"rerun after a learning-rate change, script cpu:  {med(lr_cpu)}")
    print(f"rerun after a learning-rate change, AppTest.run: {med(round_trip)}")
    print(f"rerun with nothing changed, script wall:         {med(idle_script)}")
    print(f"rerun with nothing changed, script cpu:          {med(idle_cpu)}")
    print("parts of a learning-rate rerun (cpu):")
    print(f"  recompute the changed run (5000-step scan, cut): {traj_ms:7.1f} ms (wall)")
    print(f"  its metrics (incl. Hessian along the path):      {metrics_ms:7.1f} ms")
    print(f"  build the descent figure dict (4 x 1000 steps):  {build_ms:7.1f} ms")
    print(f"    (as a validated go.Figure, for comparison:     {validated_ms:7.1f} ms)")
    print(f"  reduce it to the dict sent and serialise it:     {serialise_ms:7.1f} ms")
    print(
        f"    (plotly's own to_dict + to_json of a go.Figure, for comparison: {plotly_ms:.1f} ms)"
    )
    print(
        f"descent figure, default view (4 runs x 1000 steps): {default_size / 1e6:.3f} MB   (target < 1 MB)"
    )
    print(
        f"descent figure, 4 runs x 5000 steps:                {long_size / 1e6:.3f} MB   (target < 2 MB), {frames} frames"
    )


if __name__ == "__main__":
    main()
