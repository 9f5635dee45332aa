"""Settings -> trajectories and the numbers derived from them, behind bounded caches.

Why the caches live here: Streamlit re-executes the page script on every interaction, but this
module is imported once per server, so what it holds survives reruns (a `jax.jit` or a cache
defined in the script would be rebuilt every time). `st.cache_data` would also work, but any
client can clear it for everyone; these LRUs are bounded (the public server has ~1 GB) and only
this module can empty them.

Speed (DESIGN.md): every run is computed on its own, keyed by everything that changes its path
(landscape, optimizer, rate, hyperparameters, schedule, steps, start, noise, seed). Changing one
run's learning rate recomputes that run only. Every descent is one scan of `PAD_TO` = 5000 steps
cut back to the requested count, so changing the number of steps never compiles anything; a warm
run costs 1 to 4 ms.

Caps are applied here too (not only in the widgets and the URL codec), before anything is
computed: at most `MAX_RUNS` runs, 1..5000 steps, rates in [1e-6, 10], hyperparameters clipped
to their ranges, a finite start within +-1e4, noise in [0, 1000].
"""

from __future__ import annotations

import base64
import copy
import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import plotly.graph_objects as go
import plotly.io
from _plotly_utils.utils import to_typed_array_spec

from landscapes import LANDSCAPES, Landscape, from_formula
from landscapes.grid import evaluate_grid, hessian_eigs
from optim import OPTIMIZERS, SCHEDULES, Trajectory, lr_schedule
from optim.runner import PLATEAU_DEFAULTS, PLATEAU_FIELDS, hparam_values, run_arrays
from optim.schedules import schedule_params as schedule_params_filled
from ui import keys
from ui.settings import (
    LR_MAX,
    LR_MIN,
    MAX_RUNS,
    MAX_STEPS,
    MIN_STEPS,
    NOISE_MAX,
    SEED_MAX,
    START_MAX,
    RunConfig,
    Settings,
)
from viz.identity_cache import IdentityCache

PAD_TO = MAX_STEPS  # one scan length for every step count: a steps change never compiles
GRID_N = 160  # surface grid per side (the background image and the 3-D view)
EPS = 1e-3  # "reached the minimum": loss <= f* + EPS


class LRU:
    """A small thread-safe least-recently-used map (sessions are served from threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
        value = compute()  # outside the lock: two threads may both compute; both agree
        with self._lock:
            self.misses += 1
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


# A 5000-step trajectory is about 0.3 MB: 64 of them bound this cache near 20 MB.
TRAJECTORIES = LRU(64)
METRICS = LRU(64)
EIGS = LRU(32)
FIGURES = LRU(8)  # built figures (a few MB each with plotly's objects), for unchanged reruns
# Base64 of the arrays figures send, by array object: a run's static traces are cached with its
# trajectory (viz.descent), so a figure that changed one run re-sends the others' arrays.
TYPED_ARRAYS = IdentityCache(256)


# --------------------------------------------------------------------------------------------
# Settings -> what to compute


def landscape_of(settings: Settings) -> Landscape:
    """The surface the settings name. A custom formula is compiled by `landscapes.from_formula`
    (cached there); it raises `landscapes.FormulaError` with a message for the learner."""
    if settings.landscape == keys.CUSTOM:
        return from_formula(settings.formula, settings.window)
    return LANDSCAPES[settings.landscape]


def start_of(settings: Settings, landscape: Landscape) -> tuple[float, float]:
    """The start point: the chosen one (finite, within +-START_MAX) or the surface's own."""
    if settings.start is None:
        return (float(landscape.start[0]), float(landscape.start[1]))
    x, y = (float(v) if math.isfinite(float(v)) else 0.0 for v in settings.start)
    return (min(max(x, -START_MAX), START_MAX), min(max(y, -START_MAX), START_MAX))


@dataclass(frozen=True)
class Job:
    """Everything one descent depends on: the cache key of its trajectory."""

    landscape: Landscape
    optimizer: str
    lr: float
    hparams: tuple[tuple[str, float], ...]
    schedule: str
    schedule_params: tuple[tuple[str, float], ...]
    steps: int
    start: tuple[float, float]
    noise: float
    seed: int


def jobs(settings: Settings, landscape: Landscape) -> list[Job]:
    """One `Job` per run (at most `MAX_RUNS`), every number clipped into its range."""
    steps = int(min(max(int(settings.steps), MIN_STEPS), MAX_STEPS))
    noise = float(min(max(float(settings.noise), 0.0), NOISE_MAX))
    if not math.isfinite(noise):
        noise = 0.0
    seed = int(min(max(int(settings.seed), 0), SEED_MAX))
    schedule = settings.schedule if settings.schedule in SCHEDULES else "constant"
    sched_params = settings.schedule_params if schedule == settings.schedule else ()
    start = start_of(settings, landscape)
    out = []
    for i, run in enumerate(settings.runs[:MAX_RUNS]):
        if run.optimizer not in OPTIMIZERS:
            continue
        lr = float(settings.effective_lr(i))
        lr = (
            min(max(lr, LR_MIN), LR_MAX)
            if math.isfinite(lr)
            else OPTIMIZERS[run.optimizer].default_lr
        )
        out.append(
            Job(
                landscape,
                run.optimizer,
                lr,
                run.hparams,
                schedule,
                sched_params,
                steps,
                start,
                noise,
                seed,
            )
        )
    return out


def schedule_lrs(schedule: str, schedule_params, base_lr: float, steps: int) -> np.ndarray:
    """The learning rate of every step (float32), as `optim.lr_schedule` gives it."""
    return lr_schedule(schedule, base_lr, steps, dict(schedule_params))


def _run(job: Job) -> Trajectory:
    spec = OPTIMIZERS[job.optimizer]
    known = {h.name for h in spec.hparams}
    hp = hparam_values(spec, job.landscape, {k: v for k, v in job.hparams if k in known})
    sched = SCHEDULES[job.schedule]
    plateau_settings = PLATEAU_DEFAULTS
    if sched.loss_driven:
        merged = schedule_params_filled(job.schedule, dict(job.schedule_params))
        plateau_settings = tuple(float(merged[k]) for k in PLATEAU_FIELDS)
    return run_arrays(
        job.landscape,
        spec,
        lrs=schedule_lrs(job.schedule, job.schedule_params, job.lr, job.steps),
        start=job.start,
        hparams=hp,
        noise=job.noise,
        seed=job.seed,
        plateau=sched.loss_driven,
        plateau_settings=plateau_settings,
        eps=EPS,
        pad_to=PAD_TO,
    )


def trajectory(job: Job) -> Trajectory:
    """The descent of one job (cached)."""
    return TRAJECTORIES.get_or_compute(job, lambda: _run(job))


def trajectories(settings: Settings, landscape: Landscape) -> tuple[list[Job], list[Trajectory]]:
    """Every run's job and trajectory; only runs whose job changed are computed."""
    js = jobs(settings, landscape)
    return js, [trajectory(j) for j in js]


def metrics(job: Job) -> dict:
    """`optim.diagnostics.run_metrics` of the job's trajectory (cached), with lambda_max along
    the path given, so the stability numbers are there for every run and computing them never
    compiles (see `path_eigs`)."""
    from optim.diagnostics import run_metrics

    return METRICS.get_or_compute(
        job, lambda: run_metrics(job.landscape, trajectory(job), EPS, lam_max=path_eigs(job)[:, 1])
    )


def grid(landscape: Landscape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, Z) of the surface (cached in `landscapes.grid`)."""
    return evaluate_grid(landscape, GRID_N)


def _path_eigs(job: Job) -> np.ndarray:
    points = np.asarray(trajectory(job).points, np.float64)
    n = points.shape[0]
    # Always PAD_TO + 1 points (the last one repeated): `hessian_eigs` compiles once per point
    # count bucket, and one fixed count means a steps change never compiles (it costs ~1 ms).
    padded = np.concatenate([points, np.repeat(points[-1:], PAD_TO + 1 - n, axis=0)])
    return hessian_eigs(job.landscape, padded)[:n]


def path_eigs(job: Job) -> np.ndarray:
    """Hessian eigenvalues (N, 2), ascending, at every point of the job's path (cached)."""
    return EIGS.get_or_compute(job, lambda: _path_eigs(job))


_SKIPPED_KEYS = frozenset(("geojson", "layer", "layers", "range"))  # as plotly's is_skipped_key


_SHORT = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4"}
_SHORT |= {"float32": "f4", "float64": "f8"}


def _typed_array(v: np.ndarray):
    """plotly.js's typed-array spec of a numeric array, cached by the array object (arrays in
    figures are never written to after they are built)."""
    return TYPED_ARRAYS.get_or_compute((v,), None, lambda: _typed_array_spec(v))


def _typed_array_spec(v: np.ndarray):
    """plotly.js's typed-array spec of a numeric array (what `to_typed_array_spec` returns for
    it, without its defensive copy); anything else goes through plotly's own function."""
    if v.size == 0 or not v.dtype.isnative or str(v.dtype) not in _SHORT or v.ndim != 1:
        return to_typed_array_spec(v)
    return {
        "dtype": _SHORT[str(v.dtype)],
        "bdata": base64.b64encode(np.ascontiguousarray(v)).decode("ascii"),
    }


_SCALAR_TYPES = frozenset({int, float, str, bool, type(None)})


def encoded(obj):
    """A figure dict with every NumPy array base64-encoded, as plotly's `convert_to_base64`
    does, built as a new structure: containers are new, leaves (numbers, strings, lists of plain
    numbers) are shared, so the figure it came from is left intact. Unlike `BaseFigure.to_dict`
    it neither deep-copies nor walks lists of plain numbers element by element, which was most
    of the cost of sending an animated figure."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key in _SKIPPED_KEYS:
                out[key] = value
            elif isinstance(value, np.ndarray):
                out[key] = _typed_array(value)
            elif isinstance(value, dict | list | tuple):
                out[key] = encoded(value)
            else:
                out[key] = value
        return out
    if isinstance(obj, list | tuple):
        if set(map(type, obj)) <= _SCALAR_TYPES:  # set(map(type)) runs in C: lists are long
            return obj
        if not any(isinstance(v, dict | list | tuple | np.ndarray) for v in obj):
            return obj
        return [encoded(v) if isinstance(v, dict | list | tuple) else v for v in obj]
    return obj


class _SentDict(dict):
    """The dict a `SentFigure` sends, which also carries its own JSON once it has been written.

    `st.plotly_chart` serialises the figure on every rerun (`plotly.io.to_json`, 0.4 MB for
    the animated descent), even when the figure is the cached one. plotly asks an object for
    `to_plotly_json()` before it serialises it, and orjson writes an `orjson.Fragment` as the
    JSON it holds: so the JSON is written once per figure, by plotly itself, and reused.
    """

    _json: bytes | None = None
    # The frames when they came as JSON (`descent_dict(frames_as_json=True)`); the dict then
    # holds them as an `orjson.Fragment` of these bytes.
    _frames_json: bytes | None = None

    def to_plotly_json(self):
        if plotly.io.json.config.default_engine not in ("auto", "orjson"):
            # plotly's "json" engine knows no Fragment
            return self if self._frames_json is None else {**self, "frames": self.frames()}
        if self._json is None:  # two sessions may both write it: they agree
            self._json = self._write()
        return orjson.Fragment(self._json)

    def _write(self) -> bytes:
        if self._frames_json is None:
            return plotly.io.json.to_json_plotly(dict(self), engine="orjson").encode()
        # Frames that came as JSON are spliced in after plotly wrote the rest: plotly escapes
        # "<", ">" and "/" in the whole text it writes (a search and a copy of 0.4 MB each),
        # and frames hold only numbers, nulls and the word "scatter" (a test checks this).
        head = plotly.io.json.to_json_plotly(
            {k: v for k, v in self.items() if k != "frames"}, engine="orjson"
        ).encode()
        comma = b"," if len(head) > 2 else b""
        return head[:-1] + comma + b'"frames":' + self._frames_json + b"}"

    def frames(self) -> list:
        """The frames as dicts."""
        if self._frames_json is not None:
            return orjson.loads(self._frames_json)
        return list(self.get("frames") or ())


@functools.cache
def _empty_figure() -> go.Figure:
    # An explicit (empty) template: an empty `go.Figure()` deep-copies plotly's default
    # template, several ms a figure, for a layout that `to_dict` never shows.
    return go.Figure(layout={"template": {}})


class SentFigure(go.Figure):
    """A figure reduced, once, to the dict `st.plotly_chart` sends.

    `st.plotly_chart` calls ``figure.to_dict()`` on every rerun, which deep-copies the whole
    figure and walks it to base64-encode its arrays: for the animated descent (150 frames) that
    was most of a rerun's time. Here that is done once, when the figure is built; later reruns
    only serialise the ready dict (orjson: a few ms).

    Built from a `go.Figure`, or from a plain figure dict (``{"data", "layout", "frames"}``, as
    `viz.descent.descent_dict` returns): a dict skips plotly's validation, which for the
    descent figure was most of a learning-rate rerun. `original` is the figure as a real
    `go.Figure`, for exports that need one (HTML, PNG); from a dict it is built (and validated)
    on first use.
    """

    def __init__(self, fig: go.Figure | dict) -> None:
        # The `go.Figure` side of this object is never used (`st.plotly_chart` only asks it for
        # `to_dict()`; exports use `original`): it shares the state of one empty figure, built
        # once, instead of building its own (2 ms a figure, plotly parsing its property paths).
        # So never update a SentFigure through plotly's API.
        self.__dict__.update(_empty_figure().__dict__)
        if isinstance(fig, dict):
            # Only the traces are walked for arrays to encode. The layout and the frames (plain
            # lists, viz.descent) are shared as they are: any NumPy array left in them is
            # written by the JSON encoder as a list, which plotly.js reads too, and walking the
            # descent figure's layout (a slider step per frame, the template) cost more than
            # walking its traces.
            frames = fig.get("frames") or ()
            sent = {"data": encoded(list(fig.get("data") or [])), "layout": fig.get("layout") or {}}
            self._plain: dict | None = fig
            self._original: go.Figure | None = None
        else:
            frames = [frame._props for frame in fig._frame_objs]
            sent = encoded({"data": fig._data, "layout": fig._layout})
            self._plain = None
            self._original = fig
        self._sent = _SentDict(sent)
        if isinstance(frames, bytes):  # already JSON: sent as it is
            self._sent._frames_json = frames
            frames = orjson.Fragment(frames)
        if frames:
            self._sent["frames"] = frames

    @property
    def original(self) -> go.Figure:
        if self._original is None:  # two threads may both build it: they agree
            # A copy: plotly's validation pops and re-adds each trace's "type" in the dict it
            # is given, and the frames are shared with what other sessions are sending.
            plain = copy.deepcopy({k: v for k, v in self._plain.items() if k != "frames"})
            if self._sent._frames_json is not None:
                plain["frames"] = self._sent.frames()  # parsed: new dicts
            elif "frames" in self._plain:
                plain["frames"] = copy.deepcopy(self._plain["frames"])
            self._original = go.Figure(plain)
        return self._original

    def to_dict(self) -> dict:
        return self._sent


def figure(key: Hashable, build: Callable[[], go.Figure | dict]) -> SentFigure:
    """A built figure (a `go.Figure` or a plain figure dict), cached by `key` (reruns that
    change nothing it shows reuse it)."""
    return FIGURES.get_or_compute(key, lambda: SentFigure(build()))


def run_label(run: RunConfig) -> str:
    return OPTIMIZERS[run.optimizer].name if run.optimizer in OPTIMIZERS else run.optimizer
