"""Load test: many simulated visitors moving the learning rate, a flooding client, a soak.

Each simulated user is one Streamlit session over the app's websocket (bench/streamlit_client.py,
no browser): it loads the page, then repeatedly types a new learning rate for the first run and
waits for the rerun to finish. Latency is from sending the rerun to receiving its
``script_finished``: what a visitor waits for before the new figure arrives (the browser's
drawing time comes on top and is the same whatever the load).

Phases (each bounded in reruns and seconds; the whole test stops by itself):

1. users   N users (20, then 40) each doing `--reruns` reruns, a new learning rate each time,
           `--think` seconds apart on average; p50 / p95 / p99 latency, reruns/s, errors.
2. flood   `--flood-users` users (think `--flood-think`) measure while one more client sends a
           rerun every 5 ms (never waiting for the result) for `--flood-seconds`; their latency
           is compared with the same users measured without the flood just before.
3. soak    `--soak-reruns` reruns back to back from 20 users, every `--soak-change-every`-th
           with a new learning rate (hundreds of distinct rates: more than the page's caches
           hold, so they evict), the rest unchanged reruns; the server's RSS (psutil on its
           PID) is sampled through the run and its growth after the warm-up is reported.

Targets on the 2-core machine: 20 users p95 <= 250 ms with 0 errors; 40 users p95 <= 750 ms;
3000 reruns grow the server by at most 20 MB; a flooding client does not stall the others.

Loopback only: the test starts its own server on 127.0.0.1 or takes --url of one on this
machine (anything else is refused).

    python bench/load_test.py                 # everything, 10 to 20 minutes
    python bench/load_test.py --phases users --users 20
    python bench/load_test.py --replicas 2 --phases users   # users spread over two servers
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import streamlit_client as sc  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
LR_KEY = "run0_lr"  # ui.keys.run_lr(0): the first run's exact learning-rate box
MAX_PHASE_SECONDS = 300.0  # no phase runs longer than this, whatever the arguments
SOAK_MAX_SECONDS = 900.0  # ... but the soak, which must reach its rerun count


# --------------------------------------------------------------------------------------------
# Measuring


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between order statistics."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass
class Tally:
    """Latencies and errors shared by the user threads of one phase."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)

    def summary(self, wall: float) -> dict:
        ms = [1000 * s for s in self.latencies]
        return {
            "reruns": len(ms),
            "errors": len(self.errors),
            "error_examples": self.errors[:3],
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1) if ms else float("nan"),
            "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
            "reruns_per_s": round(len(ms) / wall, 2) if wall > 0 else float("nan"),
            "wall_s": round(wall, 1),
        }


class RssSampler(threading.Thread):
    """Samples the servers' resident memory (MB, summed) every `period` seconds until stopped."""

    def __init__(self, pids: list[int], period: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.procs = [psutil.Process(pid) for pid in pids]
        self.period = period
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()

    def rss_mb(self) -> float:
        return sum(p.memory_info().rss for p in self.procs) / 2**20

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stopped.is_set():
            try:
                self.samples.append((time.monotonic() - t0, self.rss_mb()))
            except psutil.Error:
                return
            self.stopped.wait(self.period)

    def stop(self) -> list[tuple[float, float]]:
        self.stopped.set()
        self.join(timeout=5)
        return self.samples


# --------------------------------------------------------------------------------------------
# Simulated users


def lr_for(user: int, i: int) -> float:
    """A learning rate no other user or step has asked for, so no cache answers for free."""
    return round(1e-3 * (1 + 0.0137 * ((user * 1009 + i) % 500)), 9)


def connect(url: str, tally: Tally) -> sc.Session | None:
    """Open a session and load the page (the first run), as a visitor arriving does."""
    try:
        session = sc.Session(url)
        first = session.rerun(timeout_s=180)
        if first.status not in sc.SUCCESS or first.exceptions:
            tally.error(f"first run: {first.status}, {first.exceptions} exceptions")
        if LR_KEY not in session.widgets:
            tally.error(f"no widget with key {LR_KEY!r} on the page")
            session.close()
            return None
        return session
    except Exception as e:  # a failed connection is a measured error, not a crash
        tally.error(f"connect: {type(e).__name__}: {e}")
        return None


def user_loop(
    session: sc.Session,
    user: int,
    reruns: int,
    think: float,
    deadline: float,
    tally: Tally,
    start_gate: threading.Barrier,
    change_every: int = 1,
) -> None:
    """Reruns with a new learning rate (every `change_every`-th; the others change nothing,
    like a click that only reruns the page), `think` seconds apart on average."""
    rng = random.Random(user)
    start_gate.wait()
    for i in range(reruns):
        if time.monotonic() > deadline:
            break
        if think > 0:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))
        values = {LR_KEY: lr_for(user, i)} if i % change_every == 0 else None
        try:
            result = session.rerun(values, timeout_s=60)
        except Exception as e:
            tally.error(f"user {user}: {type(e).__name__}: {e}")
            break
        if result.status not in sc.SUCCESS or result.exceptions:
            tally.error(f"user {user}: {result.status}, {result.exceptions} exceptions")
        elif result.elements.get("plotly_chart", 0) == 0:
            tally.error(f"user {user}: the rerun drew no chart")
        else:
            tally.ok(result.seconds)


def run_users(
    urls: list[str],
    users: int,
    reruns: int,
    think: float,
    seconds: float,
    flood: bool = False,
    change_every: int = 1,
    max_seconds: float = MAX_PHASE_SECONDS,
) -> dict:
    """`users` sessions doing `reruns` each (and optionally one flooding client). With several
    replicas, user u goes to urls[u % len(urls)], as a sticky load balancer spreads sessions."""
    tally = Tally()
    sessions = []
    connect_tally = Tally()
    for u in range(users):  # connect one by one: arrival is not what is measured here
        s = connect(urls[u % len(urls)], connect_tally)
        if s is not None:
            sessions.append(s)
    gate = threading.Barrier(len(sessions) + 1)
    deadline = time.monotonic() + min(seconds, max_seconds)
    threads = [
        threading.Thread(
            target=user_loop,
            args=(s, u, reruns, think, deadline, tally, gate, change_every),
            daemon=True,
        )
        for u, s in enumerate(sessions)
    ]
    for t in threads:
        t.start()
    flood_stats = {}
    flood_thread = None
    if flood:
        flood_stop = threading.Event()
        flood_thread = threading.Thread(
            target=flooder, args=(urls[0], flood_stop, deadline, flood_stats), daemon=True
        )
        flood_thread.start()
    gate.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + 60)
    wall = time.monotonic() - t0
    if flood_thread is not None:
        flood_stop.set()
        flood_thread.join(timeout=60)
    for s in sessions:
        s.close()
    out = tally.summary(wall)
    out["users"] = len(sessions)
    out["replicas"] = len(urls)
    # The machine's load while measuring (on a shared 2-core machine latency scales with it).
    out["loadavg_1m"] = round(os.getloadavg()[0], 1)
    out["connect_errors"] = connect_tally.errors[:3] + (
        [f"{users - len(sessions)} users never connected"] if len(sessions) < users else []
    )
    if flood:
        out["flood"] = flood_stats
    return out


def flooder(url: str, stop: threading.Event, deadline: float, stats: dict) -> None:
    """One client that sends reruns every 5 ms without waiting for them (a stuck key, a bot).

    A reader thread drains its socket so the server never blocks on a full buffer: what is
    measured is whether the server's script threads and event loop serve everyone else.
    """
    tally = Tally()
    session = connect(url, tally)
    if session is None:
        stats["errors"] = tally.errors
        return
    finished: dict[str, int] = {}

    def drain() -> None:
        while not stop.is_set():
            try:
                r = session.wait_finished(timeout_s=10)
                finished[r.status] = finished.get(r.status, 0) + 1
            except Exception:
                if stop.is_set():
                    return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    sent = 0
    i = 0
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            session.send_rerun({LR_KEY: lr_for(10_000, i)})
        except Exception as e:
            stats["send_error"] = f"{type(e).__name__}: {e}"
            break
        sent += 1
        i += 1
        time.sleep(0.005)
    stop.set()
    session.close()
    reader.join(timeout=15)
    stats.update({"sent": sent, "finished": finished})


# --------------------------------------------------------------------------------------------
# Phases


def phase_users(urls: list[str], args) -> list[dict]:
    out = []
    for n in args.users:
        print(
            f"\n--- {n} users x {args.reruns} reruns, think {args.think} s, "
            f"{len(urls)} replica(s) ---",
            flush=True,
        )
        r = run_users(urls, n, args.reruns, args.think, args.phase_seconds)
        r["phase"] = f"users={n}"
        print_summary(r)
        out.append(r)
    return out


def phase_flood(urls: list[str], args) -> list[dict]:
    n = args.flood_users
    print(
        f"\n--- flood: {n} users measured without, then with, one flooding client ---", flush=True
    )
    base = run_users(urls, n, args.reruns, args.flood_think, args.flood_seconds)
    base["phase"] = f"flood baseline ({n} users)"
    print_summary(base)
    flood = run_users(urls, n, args.reruns, args.flood_think, args.flood_seconds, flood=True)
    flood["phase"] = f"flood ({n} users + 1 flooder)"
    print_summary(flood)
    print(f"    flooder: {flood.get('flood')}")
    return [base, flood]


def phase_soak(urls: list[str], args, pids: list[int]) -> list[dict]:
    if not pids:
        print("\n--- soak skipped: memory needs the server's PID (run without --url) ---")
        return []
    users = 20
    per_user = max(1, args.soak_reruns // users)
    print(
        f"\n--- soak: {users} users x {per_user} reruns back to back, a new learning rate "
        f"every {args.soak_change_every} reruns, RSS sampled ---",
        flush=True,
    )
    sampler = RssSampler(pids)
    rss_before = sampler.rss_mb()
    sampler.start()
    r = run_users(
        urls,
        users,
        per_user,
        0.0,
        SOAK_MAX_SECONDS,
        change_every=args.soak_change_every,
        max_seconds=SOAK_MAX_SECONDS,
    )
    samples = sampler.stop()
    rss_after = sampler.rss_mb()
    # Growth is measured from the end of the warm-up (the first 10% of the run, while caches
    # fill up to their bounds) to the end, by the median of the first and last few samples.
    n = len(samples)
    head = [m for _, m in samples[max(1, n // 10) : max(2, n // 10 + 5)]]
    tail = [m for _, m in samples[-5:]]
    r.update(
        {
            "phase": f"soak ({r['reruns']} reruns)",
            "rss_before_mb": round(rss_before, 1),
            "rss_after_warmup_mb": round(statistics.median(head), 1) if head else None,
            "rss_end_mb": round(statistics.median(tail), 1) if tail else None,
            "rss_peak_mb": round(max(m for _, m in samples), 1) if samples else None,
            "rss_after_mb": round(rss_after, 1),
        }
    )
    if head and tail:
        r["growth_after_warmup_mb"] = round(statistics.median(tail) - statistics.median(head), 1)
    print_summary(r)
    print(
        f"    RSS: before {r['rss_before_mb']} MB, after warm-up {r['rss_after_warmup_mb']} MB, "
        f"end {r['rss_end_mb']} MB (peak {r['rss_peak_mb']} MB): "
        f"growth {r.get('growth_after_warmup_mb')} MB"
    )
    return [r]


def print_summary(r: dict) -> None:
    print(
        f"    {r['users']} users: {r['reruns']} reruns in {r['wall_s']} s "
        f"({r['reruns_per_s']}/s), p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
        f"p99 {r['p99_ms']} ms, max {r['max_ms']} ms, errors {r['errors']} "
        f"(load average {r['loadavg_1m']})",
        flush=True,
    )
    for e in r["error_examples"] + r["connect_errors"]:
        print(f"      error: {e}")


def verdicts(results: list[dict]) -> list[str]:
    """The targets, checked against the figures."""
    lines = []
    by = {r["phase"]: r for r in results}
    if "users=20" in by:
        r = by["users=20"]
        ok = r["p95_ms"] <= 250 and r["errors"] == 0
        lines.append(
            f"{'PASS' if ok else 'MISS'} 20 users: p95 {r['p95_ms']} ms <= 250, errors {r['errors']} == 0"
        )
    if "users=40" in by:
        r = by["users=40"]
        ok = r["p95_ms"] <= 750
        lines.append(f"{'PASS' if ok else 'MISS'} 40 users: p95 {r['p95_ms']} ms <= 750")
    soak = [r for r in results if r["phase"].startswith("soak")]
    if soak and "growth_after_warmup_mb" in soak[0]:
        g = soak[0]["growth_after_warmup_mb"]
        lines.append(
            f"{'PASS' if g <= 20 else 'MISS'} soak: memory growth {g} MB <= 20 over {soak[0]['reruns']} reruns"
        )
    flood = [r for r in results if r["phase"].startswith("flood (")]
    base = [r for r in results if r["phase"].startswith("flood baseline")]
    if flood and base:
        f, b = flood[0], base[0]
        ok = f["errors"] == 0 and f["p95_ms"] <= max(3 * b["p95_ms"], 250)
        lines.append(
            f"{'PASS' if ok else 'MISS'} flood: others' p95 {f['p95_ms']} ms with the flood vs "
            f"{b['p95_ms']} ms without (allowed: 3x or 250 ms), errors {f['errors']}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--url", help="a running server on this machine (default: start one)")
    p.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="start this many servers and spread the users over them, as a sticky load "
        "balancer would (the balancer's own cost is not measured)",
    )
    p.add_argument("--phases", default="users,flood,soak", help="comma list of users, flood, soak")
    p.add_argument("--users", type=int, nargs="+", default=[20, 40])
    p.add_argument("--reruns", type=int, default=30, help="reruns per user in the users phases")
    p.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's reruns")
    p.add_argument("--phase-seconds", type=float, default=120.0)
    p.add_argument("--flood-users", type=int, default=5)
    p.add_argument("--flood-think", type=float, default=2.0)
    p.add_argument("--flood-seconds", type=float, default=40.0)
    p.add_argument("--soak-reruns", type=int, default=3000)
    p.add_argument(
        "--soak-change-every",
        type=int,
        default=10,
        help="in the soak, every n-th rerun sets a new learning rate (more of them than the "
        "caches hold, so they evict); the others rerun unchanged",
    )
    args = p.parse_args(argv)

    servers = []
    if args.url:
        sc.check_loopback(args.url)
        urls, pids = [args.url.rstrip("/")], []
    else:
        RESULTS.mkdir(exist_ok=True)
        for i in range(max(1, args.replicas)):
            servers.append(sc.start_server(RESULTS / f"load_test_server{i}.log"))
            print(f"server {servers[-1].url} (pid {servers[-1].pid}) started")
        urls, pids = [s.url for s in servers], [s.pid for s in servers]
    try:
        # Warm-up: the first session compiles the engine; nobody is measured on that.
        for url in urls:
            warm = sc.Session(url)
            warm.rerun(timeout_s=300)
            for i in range(3):
                warm.rerun({LR_KEY: lr_for(99_999, i)}, timeout_s=120)
            warm.close()
        results = []
        phases = [x.strip() for x in args.phases.split(",") if x.strip()]
        if "users" in phases:
            results += phase_users(urls, args)
        if "flood" in phases:
            results += phase_flood(urls, args)
        if "soak" in phases:
            results += phase_soak(urls, args, pids)
    finally:
        for server in servers:
            server.stop()
    print("\n=== targets ===")
    for line in verdicts(results):
        print(line)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "load_test.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nfigures written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
