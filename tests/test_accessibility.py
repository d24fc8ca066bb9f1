"""axe-core audits in Chromium: no violations on any screen, light or dark."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests_support import AXE


def audit(page: Page) -> list[dict]:
    """axe-core's violations (all rules axe runs by default) as id, impact and elements.
    axe is injected as a script, which the page's CSP refuses: contexts bypass it."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ['violations']});
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')),
            }));
        }"""
    )


def home(page: Page, url: str) -> None:
    page.goto(url + "/")


def article_after_swap(page: Page, url: str) -> None:
    page.goto(url + "/")
    page.locator("#headlines a").nth(2).click()
    expect(page.locator("#article h1")).to_have_text(re.compile("^Un oficial"))


def help_overlay(page: Page, url: str) -> None:
    page.goto(url + "/")
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()


def settings_panel(page: Page, url: str) -> None:
    page.goto(url + "/articles/1")
    page.locator(".tools button", has_text="Settings").click()
    expect(page.locator("#settings")).to_be_visible()


def add_panel(page: Page, url: str) -> None:
    page.goto(url + "/")
    page.locator(".tools button", has_text="Add").click()
    expect(page.locator("#add")).to_be_visible()


def phone_with_headlines_open(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url + "/")
    page.locator("#sidebar > summary").click()
    expect(page.locator("#headlines")).to_be_visible()


def login_page(page: Page, url: str) -> None:
    page.goto(url + "/login")
    expect(page.get_by_label("Admin password")).to_be_focused()


SCREENS: dict[str, Callable[[Page, str], None]] = {
    "home": home,
    "article-after-swap": article_after_swap,
    "help-overlay": help_overlay,
    "settings-panel": settings_panel,
    "add-panel": add_panel,
    "phone-headlines": phone_with_headlines_open,
    "login": login_page,
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("screen", SCREENS)
def test_screen_has_no_accessibility_violations(browser, live_server, screen, scheme):
    context = browser.new_context(color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    SCREENS[screen](page, live_server.url)
    assert audit(page) == []
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_empty_state_has_no_accessibility_violations(browser, serve, tmp_path, scheme):
    server = serve(tmp_path / "empty.db")
    context = browser.new_context(color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    page.goto(server.url + "/")
    expect(page.locator(".empty-state h1")).to_have_text("No articles yet")
    assert audit(page) == []
    context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_chosen_theme_has_no_accessibility_violations(browser, live_server, theme):
    """The theme picked in the settings, against the system's opposite scheme."""
    context = browser.new_context(
        color_scheme="dark" if theme == "light" else "light", bypass_csp=True
    )
    page = context.new_page()
    page.goto(live_server.url + "/articles/1")
    page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
    assert audit(page) == []
    context.close()


def test_the_audit_catches_a_planted_violation(browser, live_server):
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(live_server.url + "/")
    page.evaluate(
        """() => {
            const img = document.createElement('img');
            img.src = '/static/favicon.svg';
            document.querySelector('#article').prepend(img);
            const link = document.querySelector('#headlines a');
            link.style.color = '#f2f0ea';
        }"""
    )
    found = {violation["id"] for violation in audit(page)}
    page.context.close()
    assert {"image-alt", "color-contrast"} <= found


def test_axe_is_the_real_library():
    assert AXE.stat().st_size > 100_000
    assert re.search(r"axe v4\.\d+\.\d+", AXE.read_text(encoding="utf-8")[:500])
