#!/usr/bin/env bash
# webreader's one test command (README.md gives it; CI runs it on a clean checkout).
# Installs what the tests need, then runs lint and the whole suite, browser tests included.
# Arguments are passed to pytest, e.g. `tests/run.sh -k browser`.
set -euo pipefail
cd "$(dirname "$0")/.."

# From Debian: Chromium and fonts for the browser tests (Playwright cannot download its own
# browser here), wrk for the benchmarks, Java for the Nu Html Checker, nginx and openssl for
# the deployment test, when missing.
debs=()
[ -x /usr/bin/chromium ] || debs+=(chromium fonts-dejavu-core fonts-liberation)
command -v wrk >/dev/null || debs+=(wrk)  # the benchmarks' load generator
command -v java >/dev/null || debs+=(default-jre-headless)
command -v nginx >/dev/null || debs+=(nginx)  # tests/test_deploy.py runs docs/deploy.md's proxy
command -v openssl >/dev/null || debs+=(openssl)
if [ ${#debs[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${debs[@]}" >/dev/null
fi

# axe-core and the Nu Html Checker from the npm registry (--ignore-scripts: vnu-jar ships its
# jar and must not try to fetch anything).
(cd tests && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test,bench]"

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/pytest -n auto "$@"  # every core (pytest-xdist)
