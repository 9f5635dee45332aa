"""What a descent's end is judged from: the `OutcomeStats` every scan can keep per run.

This module is the contract between the engine (whose outcome observer emits these fields from
inside its one `lax.scan`, for sweeps that keep no paths) and the one classification of how a
run ended (`optim.outcome`), which reads them. `outcome_stats_from_path` computes the same
fields from a recorded path in plain NumPy: it is the reference the engine's observer is
tested against, and what the page uses for the runs whose paths it draws.

Definitions. A run has T active steps; loss[0..T] is f along its kept path (frozen at its last
good point after a divergence), f* the surface's global minimum value, eps the tolerance of
"reached the minimum". "Kept" steps are those before the divergence, if any.

- start_loss: loss[0].
- final_loss: loss at the last good point (the last finite loss should f overflow).
- max_loss, min_loss: the largest and smallest finite loss over loss[0..last good].
- hit_step: the first t with loss[t] <= f* + eps, or -1.
- settled_at: the smallest t such that loss[s] <= f* + eps for every s in t..T, or -1 (also -1
  when the run diverged).
- diverged_at: the step k (1..T) whose update left the box |p| <= bound or met a non-finite
  loss or gradient, or -1.
- tail_from: T - max(1, T // 4): the first step of the run's last quarter (at least one step).
- tail_start_loss: loss[tail_from].
- tail_max_loss, tail_min_loss: max and min of loss[tail_from..T] (kept points only).
- tail_increases: the number of t in tail_from+1..T with loss[t] > loss[t-1] (kept steps).
- tail_reversals: the number of t in tail_from+1..T-1 whose update u_t = p[t+1] - p[t]
  points against the previous one, u_t . u_{t-1} < 0 (kept steps).
- final_point: (2,) the last good point.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class OutcomeStats(NamedTuple):
    """Per-run numbers the classification reads (see the module docstring for each field).

    Every field is a NumPy array; a batch of B runs has a leading axis B on every field.
    """

    start_loss: np.ndarray
    final_loss: np.ndarray
    max_loss: np.ndarray
    min_loss: np.ndarray
    hit_step: np.ndarray
    settled_at: np.ndarray
    diverged_at: np.ndarray
    tail_from: np.ndarray
    tail_start_loss: np.ndarray
    tail_max_loss: np.ndarray
    tail_min_loss: np.ndarray
    tail_increases: np.ndarray
    tail_reversals: np.ndarray
    final_point: np.ndarray


def tail_from(steps: int) -> int:
    """The first step of a run's last quarter (at least one step)."""
    return steps - max(1, steps // 4)
