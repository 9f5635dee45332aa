#!/usr/bin/env bash
# Install everything the tests need and run the whole suite: lint, unit and property tests,
# AppTest tests of the page, and the browser tests against a real server in headless Chromium.
# On a fresh machine it sets up everything (Python packages in .venv, Debian's chromium).
# Extra arguments go to pytest, e.g. ./scripts/test.sh tests/test_runner.py -x
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$ROOT"
started=$(date +%s)

# Playwright cannot download its own browser here: the browser tests drive Debian's chromium.
if ! command -v chromium >/dev/null 2>&1; then
    echo "==> installing Debian's chromium for the browser tests"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium >/dev/null
fi

ensure_venv requirements-dev.txt
echo "==> set-up done in $(($(date +%s) - started)) s"

echo "==> ruff check, ruff format --check"
ruff check .
ruff format --check .  # the code (and the README's examples) as ruff writes it

echo "==> pytest"
# Two workers for two cores. --dist loadfile keeps each test file on one worker: several
# files share a module-scoped app (AppTest) between their tests, and the browser tests (one
# file) then start one app server and one browser, not one per worker.
python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
