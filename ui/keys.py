"""Every widget key of the Explore page, in one place.

Browser tests, AppTest tests and the README refer to widgets by these keys, so they are part of
the page's interface: keep them stable. Keys that belong to one run of the comparison are made by
the functions below from the run's position (0-based) in the sidebar list.

Session-state keys that are not widgets (the current `Settings`, the last good formula, ...) are
listed at the end; other pages read `SETTINGS` and write `APPLY_LR`.
"""

from __future__ import annotations

# --- app shell -------------------------------------------------------------------------------
THEME = "theme"  # selectbox: light / dark / lecture

# --- landscape -------------------------------------------------------------------------------
LANDSCAPE = "landscape"  # selectbox over landscapes.LANDSCAPES plus CUSTOM
CUSTOM = "custom"  # the option (and Settings.landscape value) for the formula box
FORMULA = "formula"  # text_input: f(x, y)
WINDOW_X_MIN = "window_x_min"  # number_inputs: the custom surface's plot window
WINDOW_X_MAX = "window_x_max"
WINDOW_Y_MIN = "window_y_min"
WINDOW_Y_MAX = "window_y_max"

# --- runs ------------------------------------------------------------------------------------
SHARED_LR_ON = "shared_lr_on"  # toggle: one learning rate for all runs
SHARED_LR = "shared_lr"  # number_input: the shared rate (exact value)
SHARED_LR_GRID = "shared_lr_grid"  # select_slider: the shared rate on a log grid
ADD_OPTIMIZER = "add_optimizer"  # selectbox: which optimizer "Add run" adds
ADD_RUN = "add_run"  # button


def run_expander(i: int) -> str:
    """expander (lazy): run i's box in the sidebar; its widgets are drawn only while it is open.
    Its session-state value is True when open."""
    return f"run{i}_expander"


def run_optimizer(i: int) -> str:
    """selectbox: the optimizer of run i."""
    return f"run{i}_optimizer"


def run_lr(i: int) -> str:
    """number_input: run i's learning rate, exact (1e-6 .. 10)."""
    return f"run{i}_lr"


def run_lr_grid(i: int) -> str:
    """select_slider: run i's learning rate on a log grid (kept in sync with `run_lr`)."""
    return f"run{i}_lr_grid"


def run_hparam(i: int, name: str) -> str:
    """slider / number_input: hyperparameter `name` of run i (log ones move over log10)."""
    return f"run{i}_hp_{name}"


def run_remove(i: int) -> str:
    """button: remove run i."""
    return f"run{i}_remove"


# --- schedule --------------------------------------------------------------------------------
SCHEDULE = "schedule"  # selectbox over optim.SCHEDULES


def schedule_param(name: str) -> str:
    """slider / number_input: parameter `name` of the chosen schedule."""
    return f"sched_{name}"


# --- steps, start, noise ---------------------------------------------------------------------
STEPS = "steps"  # number_input 1 .. 5000
START_X = "start_x"  # number_inputs: the start point
START_Y = "start_y"
START_RESET = "start_reset"  # button: back to the surface's recommended start
NOISE = "noise"  # number_input: standard deviation of the gradient noise
SEED = "seed"  # number_input: the noise seed

# --- main area -------------------------------------------------------------------------------
CHART = "descent_chart"  # plotly_chart with on_select: a click on the contour moves the start
VIEW_TAB = (
    "view_tab"  # tabs (lazy): "Update rules", "3-D view", "Inside the optimizer", "Stability"
)
STEP_3D = "step_3d"  # slider: the step shown in the 3-D view and the internals (in their tabs)

# --- session state that is not a widget ------------------------------------------------------
SETTINGS = "settings"  # the current ui.settings.Settings (other pages read it)
APPLY_LR = "apply_lr"  # (run index or None, lr) set by the LR tools page; applied once
URL_READ = "_url_read"  # the URL was decoded into SETTINGS for this session
URL_REJECTED = "_url_rejected"  # (Settings, sentences): what a link or page asked for in vain
CHECKED = "_settings_checked"  # the Settings object last checked by url_state.check
LAST_GOOD_FORMULA = "_last_good_formula"  # (formula, window) of the last surface that compiled
FORMULA_ERROR = "_formula_error"  # {"message", "base"}: the failed draft and what it replaced
LAST_CLICK = "_last_click"  # the chart point last applied as start (a click applies once)
LAST_QUERY = "_last_query"  # the query params last written (write only when changed)
