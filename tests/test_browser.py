"""In a real browser (Debian's Chromium via Playwright): swaps in place, real URLs, history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

FIRST = re.compile(r"^Vladimir Putin, în vizită")
SECOND = re.compile(r"^România va intra în Schengen")
THIRD = re.compile(r"^Un oficial al statului român")


@pytest.fixture
def reader(page: Page, live_server):
    """The home page, with a marker that only survives if no full page load happens."""
    documents: list[str] = []
    loads: list[str] = []
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else None)
    page.on("load", lambda: loads.append(page.url))
    page.goto(live_server.url + "/")
    expect(page.locator("#article h1")).to_have_text(FIRST)
    page.evaluate("window.__webreaderMarker = 'still here'")
    documents.clear()
    loads.clear()
    page.documents, page.loads = documents, loads
    return page


def headline(page: Page, n: int):
    return page.locator("#headlines a").nth(n)


def marker(page: Page):
    return page.evaluate("window.__webreaderMarker")


def test_clicking_a_headline_swaps_the_article_in_place(reader: Page, live_server):
    href = headline(reader, 1).get_attribute("href")
    headline(reader, 1).click()
    expect(reader.locator("#article h1")).to_have_text(SECOND)
    expect(reader).to_have_url(live_server.url + href)
    assert marker(reader) == "still here"
    assert reader.documents == [] and reader.loads == []
    expect(reader.locator("#headlines")).to_have_count(1)


def test_after_a_swap_the_headline_is_marked_and_the_title_names_the_article(reader: Page):
    headline(reader, 2).click()
    expect(reader.locator("#article h1")).to_have_text(THIRD)
    current = reader.locator('#headlines a[aria-current="page"]')
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-article-id", "3")
    expect(reader).to_have_title(re.compile(r"^Un oficial al statului român.* · webreader$"))
    expect(reader.locator("#article h1")).to_be_focused()


def test_back_and_forward_show_the_previous_articles(reader: Page, live_server):
    headline(reader, 1).click()
    expect(reader.locator("#article h1")).to_have_text(SECOND)
    headline(reader, 2).click()
    expect(reader.locator("#article h1")).to_have_text(THIRD)

    reader.go_back()
    expect(reader.locator("#article h1")).to_have_text(SECOND)
    expect(reader.locator('#headlines a[aria-current="page"]')).to_have_attribute(
        "data-article-id", "2"
    )
    reader.go_back()
    expect(reader.locator("#article h1")).to_have_text(FIRST)
    expect(reader).to_have_url(live_server.url + "/")
    reader.go_forward()
    expect(reader.locator("#article h1")).to_have_text(SECOND)
    assert marker(reader) == "still here"
    expect(reader.locator("#headlines a")).to_have_count(10)


def test_reload_after_a_swap_shows_the_same_article_as_a_full_page(reader: Page):
    headline(reader, 1).click()
    expect(reader.locator("#article h1")).to_have_text(SECOND)
    reader.reload()
    expect(reader.locator("#article h1")).to_have_text(SECOND)
    expect(reader.locator("#headlines a")).to_have_count(10)
    assert marker(reader) is None


def test_ctrl_click_opens_the_article_in_a_new_tab(reader: Page, live_server):
    href = headline(reader, 1).get_attribute("href")
    with reader.context.expect_page() as new_tab:
        headline(reader, 1).click(modifiers=["Control"])
    tab = new_tab.value
    tab.wait_for_load_state()
    expect(tab).to_have_url(live_server.url + href)
    expect(tab.locator("#article h1")).to_have_text(SECOND)
    expect(tab.locator("#headlines a")).to_have_count(10)
    # The original tab did not change.
    expect(reader.locator("#article h1")).to_have_text(FIRST)


def test_without_javascript_headlines_are_plain_links(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    link = page.locator("#headlines a").nth(1)
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(live_server.url + href)
    expect(page.locator("#article h1")).to_have_text(SECOND)
    expect(page.locator('#headlines a[aria-current="page"]')).to_have_attribute(
        "data-article-id", "2"
    )
    page.go_back()
    expect(page.locator("#article h1")).to_have_text(FIRST)
    context.close()


def test_a_missing_article_shows_an_error_in_place(reader: Page):
    reader.evaluate(
        """() => {
            const link = document.querySelector('#headlines a');
            link.setAttribute('hx-get', '/articles/987654');
            htmx.process(link);
        }"""
    )
    headline(reader, 0).click()
    expect(reader.locator("#article .error-state h1")).to_have_text(re.compile("^404"))
    assert marker(reader) == "still here"


def test_on_a_phone_the_sidebar_folds_away(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + "/")
    sidebar_list = page.locator("#headlines")
    expect(sidebar_list).to_be_hidden()
    expect(page.locator("#article h1")).to_be_visible()
    page.locator("#sidebar > summary").click()
    expect(sidebar_list).to_be_visible()
    page.locator("#headlines a").nth(1).click()
    expect(page.locator("#article h1")).to_have_text(SECOND)
    expect(sidebar_list).to_be_hidden()
    context.close()


def test_text_fits_a_phone_screen_without_horizontal_scrolling(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + "/articles/1")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    context.close()


def test_reading_measure_is_comfortable_on_a_desktop(page: Page, live_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/articles/1")
    # Characters per line over the whole body, the last line of each paragraph counted as half.
    chars_per_line = page.evaluate(
        """() => {
            let chars = 0;
            let lines = 0;
            for (const p of document.querySelectorAll('.article-body p')) {
                const range = document.createRange();
                range.selectNodeContents(p);
                const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                chars += p.textContent.length;
                lines += tops.size - 0.5;
            }
            return chars / lines;
        }"""
    )
    assert 65 <= chars_per_line <= 75, chars_per_line


def _luminance(css_color: str) -> float:
    red, green, blue = (int(v) for v in re.findall(r"\d+", css_color)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colours_follow_the_systems_colour_scheme(browser, live_server, scheme):
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.goto(live_server.url + "/articles/1")
    body = page.locator("body")
    background = _luminance(body.evaluate("e => getComputedStyle(e).backgroundColor"))
    text = _luminance(body.evaluate("e => getComputedStyle(e).color"))
    if scheme == "dark":
        assert background < 0.2 and text > 0.7
    else:
        assert background > 0.9 and text < 0.2
    context.close()


def test_on_a_desktop_the_sidebar_is_always_open(page: Page, live_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/")
    expect(page.locator("#headlines")).to_be_visible()
    expect(page.locator("#sidebar > summary")).to_be_hidden()
