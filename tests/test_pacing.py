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


def test_reruns_in_quick_succession_are_spaced_by_the_gap():
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert not at.exception
    first = at.session_state[pacing._LAST_START]
    at.run()  # straight away: this run waits out the gap before it does anything
    second = at.session_state[pacing._LAST_START]
    assert second - first >= pacing.MIN_GAP
    time.sleep(pacing.MIN_GAP)
    t = time.monotonic()
    at.run()  # after the gap: no wait
    assert at.session_state[pacing._LAST_START] - t < pacing.MIN_GAP
