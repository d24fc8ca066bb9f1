"""Renders webreader's icon (static/favicon.svg's drawing) as the PNGs a web app manifest
needs, in Chromium: 192 and 512 pixels, and a maskable 512 (the drawing inside the safe zone)."""
import sys
sys.path.insert(0, "tests")
from playwright.sync_api import sync_playwright
from tests_support import CHROMIUM, CHROMIUM_ARGS

plain = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="{s}" height="{s}"><rect width="32" height="32" rx="6" fill="#8a3b12"/><path d="M8 9h16M8 15h16M8 21h10" stroke="#fbfaf7" stroke-width="3" stroke-linecap="round"/></svg>'
# Maskable: the background fills the square; the lines sit within the central 80 %.
maskable = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="{s}" height="{s}"><rect width="40" height="40" fill="#8a3b12"/><path d="M12 13h16M12 19h16M12 25h10" stroke="#fbfaf7" stroke-width="3" stroke-linecap="round"/></svg>'
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    for name, svg, size in [("icon-192.png", plain, 192), ("icon-512.png", plain, 512), ("maskable-512.png", maskable, 512)]:
        page = browser.new_page(viewport={"width": size, "height": size})
        page.set_content(f'<html><body style="margin:0;background:transparent">{svg.format(s=size)}</body></html>')
        page.screenshot(path=f"static/icons/{name}", omit_background=True, clip={"x": 0, "y": 0, "width": size, "height": size})
        page.close()
    browser.close()
