#!/usr/bin/env bash
# webreader's one test command (README.md gives it; CI runs it on a clean checkout).
# Installs what the tests need, then runs lint and the whole suite, browser tests included.
# Arguments are passed to pytest, e.g. `tests/run.sh -k browser`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
if [ ! -x /usr/bin/chromium ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    chromium fonts-dejavu-core fonts-liberation >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/pytest "$@"
