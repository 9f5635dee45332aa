"""Descent Lab: see what the learning rate does.

The app shell, thin on purpose: page config, the session's settings (read from the link once),
the theme, and the navigation between pages. No maths and no `jax.jit` here: Streamlit
re-executes this file on every interaction, so anything compiled or cached in it would be
rebuilt every time (DESIGN.md). Pages live in `ui/`; the optional ones are mounted when their
module exists, so the app runs while they are being written.

Run: ``streamlit run app.py``
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import logging

# Imported here, before any figure is built: plotly peeks at sys.modules for pandas without
# importing it, and when two first visitors arrive together on a cold server one session saw
# the other's half-imported pandas ("partially initialized module 'pandas' has no attribute
# 'Series'") and the Explore page failed. An import statement waits for the import to finish.
import pandas  # noqa: F401
import streamlit as st

import ui
from ui import controls, explore_page, keys, pacing, url_state

log = logging.getLogger("descent_lab")

# Heavy imports (JAX, optax, plotly) are done: move them out of the garbage collector's sight
# once per server, so a collection never rescans them (.streamlit/config.toml turns off the
# per-rerun collection).
if not getattr(ui, "_gc_frozen", False):
    gc.freeze()
    ui._gc_frozen = True

# Every theme. Markdown tables (the Explore page's metrics) scroll sideways inside the page when
# they are wider than it (large type, a narrow window) instead of spilling past its edge, and
# the verdict column, a sentence, gets room instead of a word per line; a number (a right-aligned
# cell) is never broken at the "-" of its exponent.
_BASE_CSS = """
  .stMarkdown table {display: block; overflow-x: auto; max-width: 100%;}
  .stMarkdown table td:nth-child(2) {min-width: 9em;}
  .stMarkdown table td {font-variant-numeric: tabular-nums;}
  .stMarkdown table td, .stMarkdown table th {padding: 0.45em 0.55em;}
  .stMarkdown table td[style*="right"], .stMarkdown table td[align="right"] {white-space: nowrap;}
"""

# The page around the figures. Streamlit's own colours are fixed per server (config.toml), so
# "dark" inverts the page (hue kept) and inverts the charts back: they are drawn dark by the
# figures' own theme. "lecture": larger type, readable from the back row.
_CSS = {
    "light": "",
    "dark": """
      .stApp {background-color: #F1F1F1; filter: invert(1) hue-rotate(180deg);}
      .stApp .stPlotlyChart, .stApp img {filter: invert(1) hue-rotate(180deg);}
    """,
    "lecture": """
      html, .stApp {font-size: 21px;}
      .stApp p, .stApp li, .stApp label, .stMarkdown {font-size: 1.15rem; color: #000000;}
      /* Captions are drawn at 60 % opacity: too faint for a projector. */
      .stApp [data-testid="stCaptionContainer"] {opacity: 1; color: #1A1A1A;}
      .stApp [data-testid="stCaptionContainer"] p {color: #1A1A1A; font-size: 1.05rem;}
      .stApp h3 {font-size: 2rem;}
      .stApp button[role="tab"] p {font-size: 1.2rem;}
      /* The sidebar holds the controls, the main area what the room watches: the sidebar a
         little wider, its type only slightly larger, so neither wraps nor crowds the chart. */
      section[data-testid="stSidebar"][data-collapsed="false"] {
        width: clamp(300px, 26vw, 420px) !important; min-width: 300px;}
      section[data-testid="stSidebar"] p, section[data-testid="stSidebar"] label {
        font-size: 17px;}
      section[data-testid="stSidebar"] h3 {font-size: 26px;}
      section[data-testid="stSidebar"] [data-testid="stCaptionContainer"] p {font-size: 15px;}
    """,
}

OPTIONAL_PAGES = (
    ("ui.lr_tools_page", "Learning-rate tools", "lr_tools", ":material/tune:"),
    ("ui.lessons_page", "Lessons", "lessons", ":material/school:"),
)


def _optional_page(module_name: str, title: str, path: str, icon: str):
    """The page of `module_name` if that module exists and imports; None otherwise."""
    if importlib.util.find_spec(module_name) is None:
        return None
    try:
        module = importlib.import_module(module_name)
    except Exception:  # a page under construction must not take the app down
        log.exception("page %s failed to import; it is left out", module_name)
        return None
    return st.Page(module.render, title=title, url_path=path, icon=icon)


def _open_short_lesson_link() -> None:
    """A short lesson link (``?lesson=<key>``, optionally ``&theme=...``, as the Lessons page
    offers) opens that lesson's demo: decoded as an ordinary link it would only name the lesson
    and show the default settings."""
    try:
        from ui.lessons import settings_for_lesson_link
    except ImportError:  # the lessons are optional
        return
    try:
        settings = settings_for_lesson_link(url_state.query_dict())
    except Exception:  # an unreadable link is the default view, never a traceback
        log.exception("the short lesson link could not be read")
        return
    if settings is not None:
        st.session_state[keys.SETTINGS] = settings


st.set_page_config(page_title="Descent Lab", page_icon="⛰️", layout="wide")
pacing.pace()  # before any work: a client flooding reruns must not stall the others
first_visit = keys.URL_READ not in st.session_state or keys.SETTINGS not in st.session_state
url_state.read_once()
if first_visit:
    _open_short_lesson_link()
url_state.check()  # Settings another page put in session state are checked like a link's
controls.apply_pending()  # a learning rate the LR tools page asked for, applied once
url_state.check()
theme = controls.theme_picker()
st.html(f"<style>{_BASE_CSS}{_CSS.get(theme, '')}</style>")

pages = [
    st.Page(
        explore_page.render,
        title="Explore",
        url_path="explore",
        icon=":material/landscape:",
        default=True,
    )
]
pages += [p for p in (_optional_page(*spec) for spec in OPTIONAL_PAGES) if p is not None]
st.navigation(pages).run()
