"""The `Landscape` spec: an analytic 2-D loss surface described as plain data.

A landscape carries everything the app and the tests need beside its formula: the plot window,
every global minimum with its value, the other stationary points, a recommended start. Keeping
them in one frozen record (tuples, not arrays) means it hashes, so it can be a static argument
of `jax.jit`, and a wrong minimum can be caught by one shared test over the registry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Point = tuple[float, float]
Window = tuple[tuple[float, float], tuple[float, float]]
Kind = Literal["local_min", "saddle", "max"]


@dataclass(frozen=True)
class StationaryPoint:
    """A point where the gradient vanishes that is not a global minimum."""

    x: float
    y: float
    kind: Kind

    @property
    def xy(self) -> Point:
        return (self.x, self.y)


def _inside(p: Point, window: Window) -> bool:
    (x0, x1), (y0, y1) = window
    return x0 <= p[0] <= x1 and y0 <= p[1] <= y1


@dataclass(frozen=True)
class Landscape:
    """An analytic surface f(x, y).

    Attributes:
      key: registry key, lower_snake_case (used in URLs).
      name: display name.
      fn: loss written with jax.numpy. Takes ``p`` of shape ``(2, ...)`` and broadcasts over
        the trailing axes, so the same function serves one point and a whole plotting grid.
      latex: the formula in LaTeX (no surrounding dollars).
      window: ``((xmin, xmax), (ymin, ymax))``, the plot window.
      minima: every global minimum, as ``(x, y)`` tuples.
      min_value: f at the global minima.
      stationary: other stationary points (local minima, saddles, maxima) where known.
      start: the recommended start point.
      log_color: draw the contour on a log colour scale (for surfaces with a huge range).
      lesson: one line: what this surface teaches about the learning rate.
      source: where the formula and its minima come from.
    """

    key: str
    name: str
    fn: Callable
    latex: str
    window: Window
    minima: tuple[Point, ...]
    min_value: float
    start: Point
    lesson: str
    source: str
    stationary: tuple[StationaryPoint, ...] = ()
    log_color: bool = False

    def __post_init__(self) -> None:
        (x0, x1), (y0, y1) = self.window
        window = self.window
        if not (x0 < x1 and y0 < y1):
            raise ValueError(
                f"{self.key}: {window=} is not ordered as ((xmin, xmax), (ymin, ymax))"
            )
        start = self.start
        if not _inside(start, window):
            raise ValueError(f"{self.key}: {start=} lies outside {window=}")
        if not self.minima:
            raise ValueError(f"{self.key}: a landscape needs at least one global minimum")
        for minimum in self.minima:
            if not _inside(minimum, window):
                raise ValueError(f"{self.key}: {minimum=} lies outside {window=}")
        if not math.isfinite(self.min_value):
            raise ValueError(f"{self.key}: min_value={self.min_value} is not finite")

    def nearest_minimum(self, p: Point) -> tuple[int, float]:
        """Index into ``all_minima`` of the minimum nearest ``p``, and the distance to it."""
        pts = self.all_minima
        dists = [math.hypot(p[0] - m[0], p[1] - m[1]) for m in pts]
        i = min(range(len(pts)), key=dists.__getitem__)
        return i, dists[i]

    @property
    def all_minima(self) -> tuple[Point, ...]:
        """Global minima first, then the local minima."""
        return self.minima + tuple(s.xy for s in self.stationary if s.kind == "local_min")
