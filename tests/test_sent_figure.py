"""What the Explore page sends for a figure is what plotly would send for it.

The page builds its descent figure as a plain dict whose frames are JSON text already
(`descent_dict(frames_as_json=True)`), reduces it once to what `st.plotly_chart` sends
(`ui.compute.SentFigure`: arrays base64-encoded, by a cache keyed on the array object) and
writes its JSON once. Each shortcut is checked here against plotly's own route: the validated
`go.Figure` of the same figure, written by `plotly.io.to_json`.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import orjson
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from _plotly_utils.utils import to_typed_array_spec

import optim
from landscapes import LANDSCAPES
from landscapes.grid import evaluate_grid
from optim.runner import cut
from ui import compute
from viz.background import surface_png
from viz.descent import RunView, descent_dict
from viz.theme import THEMES

ROSEN = LANDSCAPES["rosenbrock"]
BOWL = LANDSCAPES["ill_conditioned_bowl"]
LIGHT = THEMES["light"]
RUNS = (("sgd", 1e-3), ("momentum", 1e-3), ("rmsprop", 1e-2), ("adam", 1e-2))


@pytest.fixture(scope="module")
def rosen_runs() -> list[RunView]:
    return [
        RunView(
            optim.get_optimizer(key).name,
            LIGHT.color(i),
            cut(optim.run(ROSEN, key, lr=lr, steps=300), 300),
            f"{lr:g}",
        )
        for i, (key, lr) in enumerate(RUNS)
    ]


@pytest.fixture(scope="module")
def diverged_run() -> list[RunView]:
    # GD at lr 0.6 on the bowl's curvature 4 diverges (|1 - 2.4| > 1): heads stop, tails gap.
    return [RunView("SGD", LIGHT.color(0), optim.run(BOWL, "sgd", lr=0.6, steps=200), "0.6")]


def _sent_json(fig) -> dict:
    """What `st.plotly_chart` puts in its proto for `fig`, parsed."""
    return json.loads(pio.to_json(fig.to_dict(), validate=False))


def _plotly_json(plain: dict) -> dict:
    """What plotly itself sends for the same figure: validated, then written."""
    return json.loads(pio.to_json(go.Figure(plain), validate=False))


def _decode_arrays(obj):
    """Typed-array specs back to lists (plotly sends them base64; the comparison is of values)."""
    if isinstance(obj, dict):
        if set(obj) == {"dtype", "bdata"}:
            return np.frombuffer(base64.b64decode(obj["bdata"]), obj["dtype"]).tolist()
        return {k: _decode_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_arrays(v) for v in obj]
    return obj


@pytest.mark.parametrize("case", ["rosenbrock, 4 runs", "diverged", "no runs"])
def test_sent_figure_json_is_plotlys(case, rosen_runs, diverged_run):
    ls, runs = {
        "rosenbrock, 4 runs": (ROSEN, rosen_runs),
        "diverged": (BOWL, diverged_run),
        "no runs": (BOWL, []),
    }[case]
    kw = {"theme": LIGHT, "max_frames": 40, "clickable": True}
    as_json = descent_dict(ls, runs, frames_as_json=True, **kw)
    as_dicts = descent_dict(ls, runs, **kw)
    expected = _decode_arrays(_plotly_json(as_dicts))
    if runs:
        assert isinstance(as_json["frames"], bytes)
        assert orjson.loads(as_json["frames"]) == as_dicts["frames"]
    for plain in (as_json, as_dicts):
        sent = compute.SentFigure(plain)
        first = pio.to_json(sent.to_dict(), validate=False)
        assert _decode_arrays(json.loads(first)) == expected
        # written once, then the same text on every rerun
        assert pio.to_json(sent.to_dict(), validate=False) == first
        # the export's figure is the same figure, validated
        assert _decode_arrays(_plotly_json(sent.original.to_dict())) == expected


def test_frames_json_needs_no_escaping(rosen_runs, diverged_run):
    # The frames' JSON is spliced in after plotly escaped the rest (SentFigure): it must hold
    # nothing plotly escapes, and be strict JSON (no NaN).
    for ls, runs in ((ROSEN, rosen_runs), (BOWL, diverged_run)):
        frames = descent_dict(ls, runs, theme=LIGHT, max_frames=150, frames_as_json=True)["frames"]
        text = frames.decode("ascii")
        for ch in ("<", ">", "/", "\u2028", "\u2029", "NaN", "Infinity"):
            assert ch not in text
        assert len(json.loads(text)) == 150


def test_sent_figure_from_a_go_figure():
    fig = go.Figure(
        data=[go.Scatter(x=np.arange(5.0), y=np.arange(5.0) ** 2, name="<b>sq</b>")],
        frames=[go.Frame(data=[go.Scatter(x=[1.0], y=[2.0])], name="1")],
    )
    assert _decode_arrays(_sent_json(compute.SentFigure(fig))) == _decode_arrays(
        json.loads(pio.to_json(fig, validate=False))
    )


def test_typed_array_cache_is_per_array_object():
    a = np.linspace(0, 1, 50, dtype=np.float32)
    b = a.copy()
    b[0] = 7.0
    assert compute._typed_array(a) == to_typed_array_spec(a)
    assert compute._typed_array(a) is compute._typed_array(a)  # cached
    assert compute._typed_array(b) == to_typed_array_spec(b)  # equal shape, other values
    # Many arrays come and go (their ids are reused): each still gets its own values.
    for k in range(600):
        c = np.full(8, float(k), np.float64)
        assert compute._typed_array(c) == to_typed_array_spec(c)
    assert len(compute.TYPED_ARRAYS) <= compute.TYPED_ARRAYS.size


def test_surface_png_by_array_identity_agrees_with_the_digest():
    xs, ys, Z = evaluate_grid(BOWL, 40)
    png = surface_png(BOWL, Z, xs, ys, LIGHT, False)
    assert surface_png(BOWL, Z, xs, ys, LIGHT, False) is png  # same arrays: no digest
    assert surface_png(BOWL, Z.copy(), xs.copy(), ys.copy(), LIGHT, False) == png
    Z2 = Z.copy()
    Z2[0, 0] += 1.0  # other values in a new array: another picture
    assert surface_png(BOWL, Z2, xs, ys, LIGHT, False) != png
