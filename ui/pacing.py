"""Pace each session's reruns, so that one client flooding the server cannot stall the others.

Every rerun request a browser sends interrupts the session's running script at its next
`st.*` call and starts it again from the top. A client that sends requests every few
milliseconds (a stuck key, a script) thus restarts its script hundreds of times a second, and
each start does a few milliseconds of Python work under the GIL that every other session
shares: measured here, one such client raised five other users' p95 from 0.27 s to 12.8 s.

So a run that starts less than `MIN_GAP` after the session's last run got going first sleeps
out the rest of the gap, holding nothing. The requests that arrive meanwhile are merged by
Streamlit into one (`runner.fastReruns = false` in .streamlit/config.toml: with fast reruns
every request would instead start a new script thread at once, which alone kept a core busy),
and that one interrupts the sleeper at its next `st.*` call. A flooding session thus does real
work at most once per gap; an ordinary visitor (one rerun per control change) never waits, and
one changing controls faster than that waits at most `MIN_GAP`.
"""

from __future__ import annotations

import time

import streamlit as st

MIN_GAP = 0.1  # seconds between the starts of a session's runs
_LAST_START = "_pacing_last_start"


def delay(last_start: float | None, now: float, min_gap: float = MIN_GAP) -> float:
    """How long a run arriving at `now` waits, given when the session's last run got going."""
    if last_start is None:
        return 0.0
    return min(min_gap, max(0.0, last_start + min_gap - now))


def pace() -> None:
    """Called first thing in every run: sleep out the gap if needed, then note the start."""
    wait = delay(st.session_state.get(_LAST_START), time.monotonic())
    if wait:
        time.sleep(wait)
    st.session_state[_LAST_START] = time.monotonic()
