"""The outside programs tests drive: Debian's Chromium, and the front-end tools that
tests/run.sh installs from the npm registry. docs/screenshots.py launches Chromium from here too."""

from pathlib import Path

NODE_MODULES = Path(__file__).resolve().parent / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"

# Playwright cannot download its own browser on this machine: Debian's, headless, and quiet
# (no network of its own, so nothing but the page under test reaches the servers).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
