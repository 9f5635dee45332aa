"""Optimizers (optax), learning-rate schedules and the jitted engine that runs descents.

`optim` knows nothing of Streamlit or Plotly, and nothing of the landscape registry beyond the
`Landscape` spec: it takes a surface and returns data.
"""

# First: `parallel` sets how JAX runs computations, which must happen before the first one.
from optim import parallel  # noqa: F401
from optim.hparams import HParam
from optim.lr_tools import (
    BANDS,
    Basins,
    Ensemble,
    LRSweep,
    PhaseDiagram,
    RangeTest,
    basins,
    lr_range_test,
    lr_sweep,
    noise_ensemble,
    phase_diagram,
)
from optim.optimizers import OPTIMIZERS, get_optimizer
from optim.runner import Summary, Trajectory, run, run_arrays, simulate
from optim.schedules import SCHEDULES, get_schedule, lr_schedule
from optim.spec import OptimizerSpec, ScheduleSpec

__all__ = [
    "BANDS",
    "Basins",
    "Ensemble",
    "LRSweep",
    "PhaseDiagram",
    "RangeTest",
    "basins",
    "lr_range_test",
    "lr_sweep",
    "noise_ensemble",
    "phase_diagram",
    "OPTIMIZERS",
    "SCHEDULES",
    "HParam",
    "OptimizerSpec",
    "ScheduleSpec",
    "Summary",
    "Trajectory",
    "get_optimizer",
    "get_schedule",
    "lr_schedule",
    "run",
    "run_arrays",
    "simulate",
]
