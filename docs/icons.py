"""Renders webreader's icon (static/favicon.svg's drawing) as the PNGs the web app manifest
names (webreader/offline.py), in Chromium: 192 and 512 pixels, and a maskable 512 whose
drawing sits inside the safe zone.

    python docs/icons.py      # writes static/icons/*.png
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests_support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

LINES = 'stroke="#fbfaf7" stroke-width="3" stroke-linecap="round"'
PLAIN = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="{s}" height="{s}">'
    '<rect width="32" height="32" rx="6" fill="#8a3b12"/>'
    f'<path d="M8 9h16M8 15h16M8 21h10" {LINES}/></svg>'
)
# Maskable: the background fills the square; the lines sit within the central 80 %.
MASKABLE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="{s}" height="{s}">'
    '<rect width="40" height="40" fill="#8a3b12"/>'
    f'<path d="M12 13h16M12 19h16M12 25h10" {LINES}/></svg>'
)
ICONS = [
    ("icon-192.png", PLAIN, 192),
    ("icon-512.png", PLAIN, 512),
    ("maskable-512.png", MASKABLE, 512),
]


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, svg, size in ICONS:
            page = browser.new_page(viewport={"width": size, "height": size})
            body = f'<body style="margin:0;background:transparent">{svg.format(s=size)}</body>'
            page.set_content(f"<html>{body}</html>")
            page.screenshot(
                path=str(ROOT / "static" / "icons" / name),
                omit_background=True,
                clip={"x": 0, "y": 0, "width": size, "height": size},
            )
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
