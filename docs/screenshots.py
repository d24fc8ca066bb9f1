"""Screenshots of webreader for the README: home page and article, desktop and phone, light
and dark. Run from the repository root after tests/run.sh has installed everything:

    .venv/bin/python docs/screenshots.py [OUTPUT-FOLDER]

It serves a fresh library built from the sample, drives Debian's Chromium with
Playwright, and writes docs/screenshots/*.png (or the PNGs into OUTPUT-FOLDER).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
SAMPLE = ROOT / "tests" / "fixtures" / "stiri-protv-2024-11-27-putin-kazahstan.txt"
sys.path.insert(0, str(ROOT / "tests"))
from tests_support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def home(page: Page, url: str, device: str) -> None:
    page.goto(url + "/")
    if device == "phone":
        page.locator("#sidebar > summary").click()


def article(page: Page, url: str, device: str) -> None:
    page.goto(url + "/")
    page.locator(".article-body h2").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -200)")


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "articles.db"
        subprocess.run(
            [sys.executable, "-m", "webreader", "import", "--db", str(db), str(SAMPLE)],
            check=True,
            capture_output=True,
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "webreader", "serve", "--db", str(db), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # the access log
            text=True,
        )
        try:
            url = re.search(r"http://[\d.]+:\d+", server.stdout.readline()).group(0)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for scheme in ("light", "dark"):
                    for device, viewport in SIZES.items():
                        for name, show in (("home", home), ("article", article)):
                            context = browser.new_context(
                                viewport=viewport,
                                color_scheme=scheme,
                                is_mobile=device == "phone",
                            )
                            page = context.new_page()
                            show(page, url, device)
                            path = out / f"{name}-{device}-{scheme}.png"
                            page.screenshot(path=path)
                            context.close()
                            print(path)
                browser.close()
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
