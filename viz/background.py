"""The surface as a background picture: a filled contour with iso-lines, rendered to a PNG.

Why a picture and not a `go.Contour`: in an animated figure with ``redraw=False`` a contour or
heatmap trace vanishes as soon as Play is pressed (plotly.py #2151), and ``redraw=True`` drops to
about 7 fps. An image in ``layout.images`` is part of the layout, which animation frames never
touch, so it stays while only the scatter traces move.

The picture: the value field c = f (or log10(f - f_min + offset) on surfaces with a huge range)
is cut into `LEVELS` equal bands between robust limits, each band filled with one colour of a
sequential, colour-blind-safe map (viridis or cividis, interpolated in NumPy from plotly's
stops), and every pixel whose band differs from its right or lower neighbour is darkened: those
pixels are the iso-lines. Few distinct colours in large flat regions compress to about 10-20 KB
of PNG (palette mode). Pixels where f is undefined are transparent.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections import OrderedDict

import numpy as np
import plotly.colors
from PIL import Image

from landscapes.spec import Landscape
from viz.identity_cache import IdentityCache
from viz.theme import Theme

LEVELS = 24
"""Number of colour bands (iso-lines sit between them)."""

IMAGE_PX = 480
"""Pixels along the longer side of the image."""

_CACHE_SIZE = 32
_cache: OrderedDict = OrderedDict()
_BY_ARRAYS = IdentityCache(_CACHE_SIZE)  # the same picture, found by the grid arrays
_lock = threading.Lock()

_STOPS = {
    "viridis": plotly.colors.sequential.Viridis,
    "cividis": plotly.colors.sequential.Cividis,
}


def colormap(name: str, t: np.ndarray) -> np.ndarray:
    """RGB (uint8, shape t.shape + (3,)) of a sequential map at positions t in [0, 1].

    Linear interpolation between plotly's ten stops of the map, which lie on the original
    matplotlib curves (error below 2 units of 255 for viridis).
    """
    stops = np.array([plotly.colors.hex_to_rgb(c) for c in _STOPS[name]], np.float64)
    pos = np.linspace(0.0, 1.0, len(stops))
    t = np.clip(np.asarray(t, np.float64), 0.0, 1.0)
    rgb = np.stack([np.interp(t, pos, stops[:, k]) for k in range(3)], axis=-1)
    return np.round(rgb).astype(np.uint8)


def color_field(Z: np.ndarray, log_color: bool, f_min: float) -> np.ndarray:
    """The values coloured: f itself, or log10(f - f_min + offset) for a log colour scale.

    The offset (1e-6 of the range, at least 1e-12) keeps the logarithm finite at the minimum
    and where float rounding puts f a hair below f_min.
    """
    z = np.asarray(Z, np.float64)
    if not log_color:
        return z
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return z
    lo = min(float(f_min), float(finite.min()))
    offset = max(1e-6 * float(finite.max() - lo), 1e-12)
    with np.errstate(invalid="ignore"):
        return np.log10(np.maximum(z - lo, 0.0) + offset)


def color_limits(c: np.ndarray, log_color: bool) -> tuple[float, float]:
    """Robust colour limits: a few extreme pixels must not squeeze every band into a corner.

    Linear scale: from the minimum to the 99.5th percentile (a tall wall at the window's edge
    would otherwise leave the interesting basin one colour). Log scale: from the 0.2th
    percentile (a grid point landing exactly on the minimum gives log10(offset), decades below
    the rest) to the maximum.
    """
    finite = c[np.isfinite(c)]
    if finite.size == 0:
        return 0.0, 1.0
    if log_color:
        lo, hi = float(np.percentile(finite, 0.2)), float(finite.max())
    else:
        lo, hi = float(finite.min()), float(np.percentile(finite, 99.5))
    if not hi > lo:
        hi = lo + 1.0
    return lo, hi


def _resample(c: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear interpolation of the grid c (rows = y ascending) at the pixel centres,
    returned with row 0 at the top (y descending), as images are stored."""
    ny, nx = c.shape
    u = (np.arange(width) + 0.5) / width * (nx - 1)
    v = (np.arange(height) + 0.5) / height * (ny - 1)
    i0 = np.minimum(u.astype(int), nx - 2)
    j0 = np.minimum(v.astype(int), ny - 2)
    fu = (u - i0)[None, :]
    fv = (v - j0)[:, None]
    a = c[j0][:, i0]
    b = c[j0][:, i0 + 1]
    d = c[j0 + 1][:, i0]
    e = c[j0 + 1][:, i0 + 1]
    out = (1 - fv) * ((1 - fu) * a + fu * b) + fv * ((1 - fu) * d + fu * e)
    return out[::-1]


def image_size(xs: np.ndarray, ys: np.ndarray, px: int = IMAGE_PX) -> tuple[int, int]:
    """(width, height) in pixels: `px` along the longer side, the window's aspect ratio kept."""
    w = float(xs[-1] - xs[0])
    h = float(ys[-1] - ys[0])
    if w >= h:
        return px, max(32, round(px * h / w))
    return max(32, round(px * w / h)), px


def _render(Z, xs, ys, theme: Theme, log_color: bool, f_min: float, px: int) -> bytes:
    width, height = image_size(xs, ys, px)
    c = color_field(Z, log_color, f_min)
    lo, hi = color_limits(c, log_color)
    pix = _resample(c, width, height)
    nan = ~np.isfinite(pix)
    scaled = np.where(nan, 0.0, (pix - lo) / (hi - lo) * LEVELS)
    band = np.clip(scaled, 0, LEVELS - 1).astype(np.int64)
    edge = np.zeros_like(nan)
    edge[:, :-1] |= band[:, :-1] != band[:, 1:]
    edge[:-1, :] |= band[:-1, :] != band[1:, :]
    edge &= ~nan
    # Palette: LEVELS band colours, LEVELS iso-line colours, one transparent entry.
    fill = colormap(theme.colorscale, (np.arange(LEVELS) + 0.5) / LEVELS).astype(np.float64)
    toward, weight = (255.0, 0.45) if theme.dark else (0.0, 0.4)
    line = fill * (1 - weight) + toward * weight
    palette = np.concatenate([fill, line, np.zeros((1, 3))]).round().astype(np.uint8)
    index = band + LEVELS * edge
    index[nan] = 2 * LEVELS
    img = Image.fromarray(index.astype(np.uint8), mode="P")
    img.putpalette(palette.ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True, transparency=2 * LEVELS)
    return buf.getvalue()


def surface_png(
    landscape: Landscape,
    Z: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    theme: Theme,
    log_color: bool,
    *,
    px: int = IMAGE_PX,
) -> bytes:
    """The PNG bytes of the background (see the module docstring), cached.

    The cache key holds the landscape, theme, scale, size and a digest of the grid, so a grid
    evaluated on another window or resolution is never served a stale picture.
    """
    # The page hands the same cached grid arrays back rerun after rerun: known arrays skip
    # the digest of the grid (a third of a millisecond per 100 KB).
    return _BY_ARRAYS.get_or_compute(
        (Z, xs, ys),
        (landscape, theme, bool(log_color), int(px)),
        lambda: _surface_png(landscape, Z, xs, ys, theme, log_color, px),
    )


def _surface_png(landscape, Z, xs, ys, theme, log_color, px) -> bytes:
    z = np.ascontiguousarray(Z, np.float64)
    digest = hashlib.blake2b(z.tobytes(), digest_size=16)
    digest.update(np.asarray([xs[0], xs[-1], ys[0], ys[-1]], np.float64).tobytes())
    key = (landscape, theme, bool(log_color), int(px), z.shape, digest.hexdigest())
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    png = _render(
        z, np.asarray(xs), np.asarray(ys), theme, bool(log_color), landscape.min_value, px
    )
    with _lock:
        _cache[key] = png
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return png


def surface_image(
    landscape: Landscape,
    Z: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    theme: Theme,
    log_color: bool,
    *,
    px: int = IMAGE_PX,
) -> str:
    """The background as a ``data:image/png;base64,...`` URI for ``layout.images``."""
    png = surface_png(landscape, Z, xs, ys, theme, log_color, px=px)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def layout_image(
    uri: str, xs: np.ndarray, ys: np.ndarray, theme: Theme, *, xref="x", yref="y"
) -> dict:
    """The ``layout.images`` entry that stretches the picture exactly over the window."""
    x0, x1 = float(xs[0]), float(xs[-1])
    y0, y1 = float(ys[0]), float(ys[-1])
    return {
        "source": uri,
        "xref": xref,
        "yref": yref,
        "x": x0,
        "y": y1,
        "sizex": x1 - x0,
        "sizey": y1 - y0,
        "xanchor": "left",
        "yanchor": "top",
        "sizing": "stretch",
        "layer": "below",
        "opacity": theme.surface_opacity,
    }
