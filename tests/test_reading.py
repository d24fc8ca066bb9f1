"""The reading experience in Chromium: keyboard, focus, announcements, read state, stars,
preferences and positions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

FIRST = re.compile(r"^Vladimir Putin, în vizită")
SECOND = re.compile(r"^România va intra în Schengen")
THIRD = re.compile(r"^Un oficial al statului român")


def open_reader(page: Page, url: str) -> Page:
    page.goto(url)
    expect(page.locator("#article h1")).to_be_visible()
    page.evaluate("window.__webreaderMarker = 'still here'")
    return page


def heading(page: Page):
    return page.locator("#article h1")


def no_reload(page: Page) -> bool:
    return page.evaluate("window.__webreaderMarker") == "still here"


# ---- keyboard ----------------------------------------------------------------------------


def test_j_and_k_open_the_next_and_previous_article(page: Page, live_server):
    open_reader(page, live_server.url + "/")
    page.keyboard.press("j")
    expect(heading(page)).to_have_text(SECOND)
    page.keyboard.press("j")
    expect(heading(page)).to_have_text(THIRD)
    page.keyboard.press("k")
    expect(heading(page)).to_have_text(SECOND)
    expect(page).to_have_url(re.compile(r"/articles/2/"))
    assert no_reload(page)


def test_arrow_keys_in_the_sidebar_open_headlines_and_keep_focus_there(page: Page, live_server):
    open_reader(page, live_server.url + "/")
    page.locator("#headlines a").first.focus()
    page.keyboard.press("ArrowDown")
    expect(heading(page)).to_have_text(SECOND)
    expect(page.locator("#headlines a").nth(1)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(heading(page)).to_have_text(THIRD)
    page.keyboard.press("ArrowUp")
    expect(heading(page)).to_have_text(SECOND)
    expect(page.locator("#headlines a").nth(1)).to_be_focused()


def test_o_and_enter_open_the_focused_headline(page: Page, live_server):
    open_reader(page, live_server.url + "/")
    page.locator("#headlines a").nth(2).focus()
    page.keyboard.press("o")
    expect(heading(page)).to_have_text(THIRD)
    page.locator("#headlines a").nth(1).focus()
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(SECOND)
    assert no_reload(page)


def test_question_mark_opens_the_help_listing_every_key(page: Page, live_server):
    open_reader(page, live_server.url + "/")
    help_panel = page.locator("#help")
    expect(help_panel).to_be_hidden()
    page.keyboard.press("?")
    expect(help_panel).to_be_visible()
    keys = help_panel.locator("kbd").all_inner_texts()
    for key in ["j", "k", "o", "Enter", "s", "m", "/", "?", "↓", "↑", "Esc"]:
        assert key in keys
    page.keyboard.press("Escape")
    expect(help_panel).to_be_hidden()


def test_keys_do_nothing_with_a_modifier_or_while_typing(page: Page, live_server):
    open_reader(page, live_server.url + "/")
    page.keyboard.press("Alt+j")
    page.keyboard.press("Control+k")
    page.keyboard.press("Meta+j")
    page.evaluate(
        """() => {
            const input = document.createElement('input');
            input.id = 'typing-probe';
            input.setAttribute('aria-label', 'probe');
            document.querySelector('.topbar').append(input);
        }"""
    )
    page.locator("#typing-probe").fill("")
    page.locator("#typing-probe").press_sequentially("jjk?s")
    expect(page.locator("#typing-probe")).to_have_value("jjk?s")
    page.wait_for_timeout(300)
    expect(heading(page)).to_have_text(FIRST)
    expect(page.locator("#help")).to_be_hidden()
    expect(page).to_have_url(live_server.url + "/")


def test_s_stars_and_m_toggles_read(page: Page, fresh_server):
    open_reader(page, fresh_server.url + "/articles/2")
    star = page.locator("#article .star-form button")
    expect(star).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("s")
    expect(star).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#headline-2 .star-mark")).to_have_count(1)
    read = page.locator("#article .read-form button")
    expect(read).to_have_text("Mark as unread")
    page.keyboard.press("m")
    expect(read).to_have_text("Mark as read")
    expect(page.locator("#headline-2 a")).to_have_class(re.compile(r"\bis-unread\b"))
    assert no_reload(page)
    page.reload()
    expect(page.locator("#article .star-form button")).to_have_attribute("aria-pressed", "true")


# ---- focus and announcements -------------------------------------------------------------


def test_after_a_swap_focus_is_on_the_heading_and_the_title_is_announced(page: Page, live_server):
    open_reader(page, live_server.url + "/")
    page.locator("#headlines a").nth(2).click()
    expect(heading(page)).to_have_text(THIRD)
    expect(heading(page)).to_be_focused()
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_have_text(THIRD)


def test_the_sidebar_keeps_its_scroll_position_after_a_swap(page: Page, big_server):
    page.set_viewport_size({"width": 1280, "height": 700})
    open_reader(page, big_server.url + "/")
    scroller = page.locator("#sidebar-scroll")
    link = page.locator("#headlines a.headline").nth(25)
    link.scroll_into_view_if_needed()
    before = scroller.evaluate("e => e.scrollTop")
    assert before > 0
    link.click()
    expect(heading(page)).to_have_text(re.compile("^Articolul generat"))
    expect(heading(page)).to_be_focused()
    assert abs(scroller.evaluate("e => e.scrollTop") - before) < 2


def test_skip_link_leads_to_the_article(page: Page, live_server):
    open_reader(page, live_server.url + "/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#article$"))
    expect(page.locator("#article")).to_be_focused()


def test_keyboard_focus_is_always_visible(page: Page, live_server):
    open_reader(page, live_server.url + "/")
    for _ in range(6):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            """() => {
                const style = getComputedStyle(document.activeElement);
                return [style.outlineStyle, parseFloat(style.outlineWidth)];
            }"""
        )
        assert outline[0] != "none" and outline[1] >= 2, outline


def test_reduced_motion_turns_off_transitions(browser, live_server):
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.evaluate("document.querySelector('.headline').style.setProperty('transition', 'color 2s')")
    duration = page.evaluate(
        "getComputedStyle(document.querySelector('.headline')).transitionDuration"
    )
    assert duration == "0s"
    context.close()


# ---- read state, stars, filters (with and without JavaScript) -----------------------------


def test_opening_marks_read_and_updates_the_unread_count(page: Page, fresh_server):
    open_reader(page, fresh_server.url + "/")
    count = page.locator("#unread-count")
    expect(count).to_have_text("9")
    expect(page.locator("#headline-3 a")).to_have_class(re.compile(r"\bis-unread\b"))
    page.locator("#headline-3 a").click()
    expect(heading(page)).to_have_text(THIRD)
    expect(count).to_have_text("8")
    expect(page.locator("#headline-3 a")).not_to_have_class(re.compile(r"\bis-unread\b"))
    assert no_reload(page)


def test_forms_work_without_javascript(browser, fresh_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(fresh_server.url + "/articles/2")
    page.locator("#article .star-form button").click()
    expect(page.locator("#article .star-form button")).to_have_attribute("aria-pressed", "true")
    page.locator("#article .read-form button").click()
    expect(page.locator("#article .read-form button")).to_have_text("Mark as read")
    page.reload()
    expect(page.locator("#article .read-form button")).to_have_text("Mark as read")
    page.locator(".filters a", has_text="Starred").click()
    expect(page).to_have_url(fresh_server.url + "/?show=starred")
    expect(page.locator("#headlines a")).to_have_count(1)
    context.close()


def test_the_unread_filter_is_a_real_url(page: Page, fresh_server):
    open_reader(page, fresh_server.url + "/")
    page.locator(".filters a", has_text="Unread").click()
    expect(page).to_have_url(fresh_server.url + "/?show=unread")
    expect(page.locator("#headlines a")).to_have_count(9)
    page.locator("#headlines a").nth(1).click()
    expect(page).to_have_url(re.compile(r"\?show=unread$"))


def test_previous_and_next_links_close_the_article(page: Page, live_server):
    open_reader(page, live_server.url + "/articles/2")
    page.locator('#article a[rel="next"]').click()
    expect(heading(page)).to_have_text(THIRD)
    page.locator('#article a[rel="prev"]').click()
    expect(heading(page)).to_have_text(SECOND)
    assert no_reload(page)


# ---- preferences -------------------------------------------------------------------------


def test_preferences_apply_at_once_and_on_the_next_first_paint(page: Page, fresh_server):
    open_reader(page, fresh_server.url + "/articles/1")
    page.locator(".tools button", has_text="Settings").click()
    panel = page.locator("#settings")
    expect(panel).to_be_visible()
    body = page.locator(".article-body")
    size_before = float(body.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    with page.expect_response(lambda r: r.url.endswith("/settings")):
        panel.get_by_label("Dark").check()
    with page.expect_response(lambda r: r.url.endswith("/settings")):
        panel.get_by_label("Extra large").check()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert float(body.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) > size_before
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 22, 20)"

    # The server writes the choice into the first response: no flash of the wrong theme.
    first_paint = page.request.get(fresh_server.url + "/articles/2").text()
    assert 'data-theme="dark"' in first_paint and 'data-font="x-large"' in first_paint
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")


def test_preferences_work_without_javascript(browser, fresh_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(fresh_server.url + "/articles/2?show=unread")
    page.locator(".tools button", has_text="Settings").click()
    page.locator("#settings").get_by_label("Wide").check()
    page.locator("#settings button", has_text="Save").click()
    expect(page).to_have_url(fresh_server.url + "/articles/2?show=unread")
    expect(page.locator("html")).to_have_attribute("data-width", "wide")
    context.close()


# ---- positions ---------------------------------------------------------------------------


def test_back_and_forward_restore_the_article_and_the_sidebar_position(page: Page, big_server):
    page.set_viewport_size({"width": 1280, "height": 700})
    open_reader(page, big_server.url + "/")
    scroller = page.locator("#sidebar-scroll")
    page.locator("#headlines a.headline").nth(30).scroll_into_view_if_needed()
    page.locator("#headlines a.headline").nth(30).click()
    expect(heading(page)).to_have_text(re.compile("^Articolul generat"))
    position = scroller.evaluate("e => e.scrollTop")
    assert position > 300
    title = heading(page).inner_text()

    # Leave for the next headline, then scroll the sidebar back to the top there.
    page.locator("#headlines a.headline").nth(31).click()
    expect(heading(page)).not_to_have_text(title)
    scroller.evaluate("e => { e.scrollTop = 0 }")

    page.go_back()
    expect(heading(page)).to_have_text(title)
    page.wait_for_function(
        "p => Math.abs(document.getElementById('sidebar-scroll').scrollTop - p) < 2", arg=position
    )
    page.go_forward()
    expect(heading(page)).not_to_have_text(title)
    assert no_reload(page)


def test_the_sidebar_loads_more_headlines_as_it_scrolls(page: Page, big_server):
    page.set_viewport_size({"width": 1280, "height": 700})
    open_reader(page, big_server.url + "/")
    links = page.locator("#headlines a.headline")
    expect(links).to_have_count(50)
    expect(page.locator("#listing-count")).to_have_text("70 headlines")
    page.locator("#headlines .more").scroll_into_view_if_needed()
    expect(links).to_have_count(70)
    expect(page.locator("#headlines .more")).to_have_count(0)
    ids = links.evaluate_all("links => links.map((a) => a.dataset.articleId)")
    assert len(set(ids)) == 70
    assert no_reload(page)


def test_a_direct_link_scrolls_its_headline_into_view(page: Page, big_server):
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(big_server.url + "/")
    page.locator("#headlines .more").scroll_into_view_if_needed()
    deep = page.locator("#headlines a.headline").nth(62)
    href = deep.get_attribute("href")
    title = deep.locator(".headline-title").inner_text()
    page.goto(big_server.url + href)
    current = page.locator('#headlines a[aria-current="page"]')
    expect(current).to_have_text(re.compile(re.escape(title)))
    expect(current).to_be_in_viewport()
    # The sidebar starts a few headlines above it, with a way back to the newest.
    expect(page.locator(".listing-top a")).to_have_text("↑ Newest headlines")


@pytest.mark.parametrize("width", [390, 1280])
def test_reading_preferences_panel_fits_the_screen(browser, live_server, width):
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.locator(".tools button", has_text="Settings").click()
    box = page.locator("#settings").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    context.close()


# ---- search ------------------------------------------------------------------------------


def test_search_as_you_type_and_open_a_highlighted_result(page: Page, live_server):
    open_reader(page, live_server.url + "/")
    page.keyboard.press("/")
    search_box = page.locator("#search")
    expect(search_box).to_be_focused()
    search_box.press_sequentially("kazah", delay=30)
    results = page.locator("#headlines a.headline")
    expect(results).to_have_count(1)
    expect(results.first.locator(".snippet mark").first).to_have_text(re.compile("^kazah", re.I))
    expect(page).to_have_url(re.compile(r"/search\?q=kazah$"))
    expect(page.locator("#announcer")).to_have_text(re.compile(r"^1 match for “kazah”"))
    # Typing does not trigger the keyboard shortcuts.
    expect(heading(page)).to_have_text(FIRST)
    results.first.click()
    expect(page.locator("#article .article-body mark").first).to_have_text(
        re.compile("^kazah", re.I)
    )
    assert no_reload(page)
    search_box.fill("")
    search_box.press("Enter")
    expect(results).to_have_count(10)


# ---- adding ------------------------------------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False])
def test_add_a_saved_page_from_the_browser(browser, fresh_server, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(fresh_server.url + "/")
    page.locator(".tools button", has_text="Add").click()
    panel = page.locator("#add")
    expect(panel).to_be_visible()
    panel.locator("#add-file").set_input_files(
        str(Path(__file__).parent / "fixtures" / "pages" / "stiri-digi-energie.html")
    )
    panel.locator("button", has_text="Add").click()
    expect(page.locator("#article h1")).to_have_text(
        "Guvernul aprobă planul pentru energie nucleară"
    )
    expect(page).to_have_url(re.compile(r"/articles/\d+/guvernul-aproba-planul"))
    expect(page.locator("#headlines a.headline")).to_have_count(11)
    context.close()
