"""The deployment settings: .streamlit/config.toml says what a public share link needs, and the
installed Streamlit reads every line of it as meant (a misspelt option is silently ignored, so
it is checked against Streamlit's own list of options)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG = REPO_ROOT / ".streamlit" / "config.toml"

# What the public share link needs, and why (the reasons are in config.toml's comments).
EXPECTED = {
    "client.showErrorDetails": "none",  # no traceback, message or type to visitors
    "client.toolbarMode": "viewer",  # no "clear cache" for strangers
    "client.showErrorLinks": False,
    "runner.postScriptGC": False,  # the per-rerun full GC stalls every session ~100 ms
    "runner.fastReruns": False,  # a flooding client must not start a script thread a request
    "runner.magicEnabled": False,
    "server.headless": True,
    "server.enableXsrfProtection": True,
    "server.enableCORS": True,
    "server.maxUploadSize": 1,  # MB
    "server.maxWidgetStateSize": 1,  # MB a client may send per message / rerun
    "server.maxMessageSize": 50,  # MB the server may send in one message
    "server.fileWatcherType": "none",
    "server.runOnSave": False,
    "browser.gatherUsageStats": False,
}


def _flat(table: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, f"{name}."))
        else:
            out[name] = value
    return out


@pytest.fixture(scope="module")
def written() -> dict:
    with CONFIG.open("rb") as f:
        return _flat(tomllib.load(f))


@pytest.fixture(scope="module")
def loaded() -> dict:
    """Every option as the installed Streamlit sees it when run from the repo root."""
    code = """
import json, sys
from streamlit import config
config.get_config_options(force_reparse=True)
options = config.get_config_options()
names = json.loads(sys.argv[1])
out = {}
for name in names:
    if name not in options:
        out[name] = {"known": False}
        continue
    opt = options[name]
    out[name] = {
        "known": True,
        "value": config.get_option(name),
        "where": opt.where_defined,
        "type": opt.type.__name__,
    }
print(json.dumps(out))
"""
    with CONFIG.open("rb") as f:
        names = sorted(_flat(tomllib.load(f)) | EXPECTED)
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(names)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_file_sets_what_a_public_link_needs(written: dict) -> None:
    for name, value in EXPECTED.items():
        assert name in written, f"{name} is not set in {CONFIG}"
        assert written[name] == value, f"{name} = {written[name]!r}, expected {value!r}"


def test_streamlit_knows_every_option_in_the_file(written: dict, loaded: dict) -> None:
    unknown = [name for name in written if not loaded[name]["known"]]
    assert not unknown, f"Streamlit has no option {unknown}: a misspelt option is ignored"


def test_streamlit_reads_the_values_from_this_file(loaded: dict) -> None:
    for name, value in EXPECTED.items():
        seen = loaded[name]
        assert seen["value"] == value, f"Streamlit reads {name} = {seen['value']!r}"
        assert Path(seen["where"]) == CONFIG, f"{name} comes from {seen['where']}, not {CONFIG}"


def test_values_have_the_types_streamlit_expects(written: dict, loaded: dict) -> None:
    for name, value in written.items():
        expected_type = loaded[name]["type"]
        if name == "client.showErrorLinks":
            # documented as "auto", true or false: a str option that also takes booleans
            assert value in ("auto", True, False)
            continue
        assert type(value).__name__ == expected_type, (name, value, expected_type)


def test_enumerated_values_are_valid(written: dict) -> None:
    from streamlit.config import ShowErrorDetailsConfigOptions

    assert written["client.showErrorDetails"] in {o.value for o in ShowErrorDetailsConfigOptions}
    assert written["client.toolbarMode"] in {"auto", "developer", "viewer", "minimal"}
    assert written["server.fileWatcherType"] in {"auto", "watchdog", "poll", "none"}


def test_streamlit_config_show_accepts_the_file() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "is not a valid config option" not in result.stdout + result.stderr
    assert 'showErrorDetails = "none"' in result.stdout


def test_python_version_is_pinned_for_tools() -> None:
    # Community Cloud ignores runtime.txt (the version is picked at deploy time, see README);
    # .python-version pins it for pyenv and uv, and pyproject.toml for pip.
    assert (REPO_ROOT / ".python-version").read_text().strip() == "3.11"
    with (REPO_ROOT / "pyproject.toml").open("rb") as f:
        assert tomllib.load(f)["project"]["requires-python"] == ">=3.11,<3.12"


def test_requirements_are_pinned() -> None:
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (REPO_ROOT / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-r "):
                continue
            assert "==" in line, f"{name}: {line!r} is not pinned with =="
