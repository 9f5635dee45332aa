"""Reruns are paced per session, so a client flooding reruns cannot stall everyone else.

The load itself is measured by `bench/load_test.py --phases flood`; here: the pacing rule, and
that the app applies it to every run before doing any work.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import pacing

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.mark.parametrize(
    ("last", "now", "expected"),
    [
        (None, 5.0, 0.0),  # a session's first run never waits
        (5.0, 5.0, 0.1),  # right after the last start: the whole gap
        (5.0, 5.03, 0.07),  # part of the gap left
        (5.0, 5.1, 0.0),  # the gap is over
        (5.0, 9.0, 0.0),  # long after
        (5.2, 5.0, 0.1),  # the clock reads earlier than the last start: never more than the gap
    ],
)
def test_a_run_waits_out_the_rest_of_the_gap(last, now, expected):
    assert pacing.delay(last, now, min_gap=0.1) == pytest.approx(expected)


def test_reruns_in_quick_succession_are_spaced_by_the_gap(monkeypatch):
    # What the app decides is recorded, not how long a run took: wall-clock bounds on a run's
    # latency failed on a loaded CI machine (a run took 146 ms to reach pace()).
    waits: list[float] = []
    rule = pacing.delay

    def recorded(*args, **kwargs) -> float:
        waits.append(rule(*args, **kwargs))
        return waits[-1]

    monkeypatch.setattr(pacing, "delay", recorded)
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert not at.exception
    assert waits == [0.0]  # a session's first run never waits
    marker = time.monotonic()
    at.session_state[pacing._LAST_START] = marker  # as if a run had just got going
    at.run()
    assert len(waits) == 2
    # it started no earlier than the gap after the last start (it slept out what was left)
    assert at.session_state[pacing._LAST_START] - marker >= pacing.MIN_GAP
    time.sleep(pacing.MIN_GAP)
    at.run()  # after the gap: no wait
    assert len(waits) == 3 and waits[-1] == 0.0
