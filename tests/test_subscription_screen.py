"""The Subscriptions screen: subscribe, pause, resume, refresh now, switch full text and
remove from the page, each feed's state and last error in words, the watched folders' import
status; behind the login where writes need it."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from test_subscriptions import feeds  # noqa: F401  (the local feed server, a fixture)

from conftest import CROSS_SITE, HTMX
from tests_support import add_subscription_rows
from webreader import auth, create_app
from webreader.db import connect, find_subscription, list_subscriptions, take_lease

PASSWORD = "correct horse battery"


def page(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def titles(app) -> list[str]:
    db = connect(app.config["DATABASE"])
    try:
        return [row[0] for row in db.execute("SELECT title FROM articles ORDER BY id")]
    finally:
        db.close()


def subscriptions_of(app) -> list[dict]:
    db = connect(app.config["DATABASE"])
    try:
        return list_subscriptions(db)
    finally:
        db.close()


@pytest.fixture
def public_app(db_path):
    db = connect(db_path)
    auth.set_password(db, PASSWORD)
    db.close()
    return create_app({"DATABASE": str(db_path), "TESTING": True, "LOGIN_REQUIRED": True})


def test_the_screen_shows_each_feed_its_state_and_last_error_in_words(client, db_path):
    add_subscription_rows(db_path)
    html = page(client.get("/subscriptions"))
    feeds_shown = html.select(".subscription")
    assert [f.h3.get_text() for f in feeds_shown] == [
        "Știri locale",
        "https://example.net/rss",  # no title yet: its address
        "Paused <b>feed</b>",  # escaped, not markup
    ]
    working, failing, paused = feeds_shown
    assert "brought new articles" in working.select_one(".subscription-state").get_text()
    assert re.search(r"2 minutes ago", working.get_text())
    state = failing.select_one(".subscription-state")
    assert "failed (3 times in a row)" in state.get_text() and "is-failing" in state["class"]
    assert failing.select_one(".subscription-error").get_text() == (
        "Last error: the server answered 500 Internal Server Error"
    )
    assert "in Sport" in failing.get_text() and "whole articles fetched" in failing.get_text()
    assert "Paused" in paused.select_one(".subscription-state").get_text()
    assert "none while paused" in paused.get_text()
    assert paused.select_one("button[id^=pause-]").get_text().startswith("Resume")
    # The watched folder's import status: the failure, its reason, where the file went.
    failure = html.select_one(".failure-list li").get_text()
    assert "/srv/drop/bad.txt" in failure and "the file is empty" in failure
    assert "webreader-failed/bad.txt" in failure


def test_the_topbar_leads_to_the_screen_and_htmx_gets_it_in_the_reading_pane(client):
    link = page(client.get("/")).select_one(".tools a[href='/subscriptions']")
    assert link is not None and link["hx-target"] == "#article"
    fragment = client.get("/subscriptions", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section class="subscriptions-screen"')
    assert "No subscriptions yet" in fragment


def test_subscribing_from_the_page_imports_the_feed_and_says_so(client, app, feeds):  # noqa: F811
    before = len(titles(app))
    response = client.post(
        "/subscriptions",
        data={"url": f"{feeds.base}/page", "every": "30m", "folder": "Local", "full_text": "1"},
    )
    assert response.status_code == 303 and response.location.endswith("/subscriptions")
    html = page(client.get("/subscriptions"))
    assert html.select_one("[data-message]").get_text() == "Subscribed to Știri locale: 2 imported."
    (row,) = subscriptions_of(app)
    assert (row["url"], row["every_seconds"], row["folder"], row["full_text"]) == (
        f"{feeds.base}/feed",
        1800,
        "Local",
        1,
    )
    assert len(titles(app)) == before + 2  # the feed's two items
    # The message was shown once: a second visit has none.
    assert page(client.get("/subscriptions")).select_one("[data-message]") is None


def test_htmx_gets_the_screen_with_the_message_and_no_cookie(client, feeds):  # noqa: F811
    response = client.post("/subscriptions", data={"url": f"{feeds.base}/feed"}, headers=HTMX)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    html = page(response)
    assert html.select_one("[data-message]").get_text().startswith("Subscribed to Știri locale")
    assert [f.h3.get_text() for f in html.select(".subscription")] == ["Știri locale"]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"url": "ftp://example.org/feed"}, "only http and https"),
        ({"url": ""}, "Give the address"),
        ({"url": "https://example.org/", "every": "1s"}, "how often"),
    ],
)
def test_a_refused_subscription_says_why_and_keeps_what_was_typed(client, app, data, said):
    data = {"folder": "Mine", "full_text": "1", **data}
    response = client.post("/subscriptions", data=data)
    assert response.status_code == 400
    html = page(response)
    error = html.select_one("#subscribe-error")
    assert said in error.get_text() and error["role"] == "alert"
    field = html.select_one("#subscribe-url")
    assert field["value"] == data["url"] and field.get("aria-invalid") == "true"
    assert html.select_one("#subscribe-folder")["value"] == "Mine"
    assert html.select_one("input[name=full_text]").has_attr("checked")
    assert subscriptions_of(app) == []


def test_a_page_that_is_no_feed_is_refused_in_words(client, feeds):  # noqa: F811
    response = client.post("/subscriptions", data={"url": f"{feeds.base}/nothing"})
    assert response.status_code == 400
    assert "404" in page(response).select_one("#subscribe-error").get_text()


def test_pause_resume_full_text_refresh_and_remove(client, app, feeds):  # noqa: F811
    client.post("/subscriptions", data={"url": f"{feeds.base}/feed"})
    (row,) = subscriptions_of(app)
    sid = row["id"]
    before = len(titles(app))

    response = client.post(f"/subscriptions/{sid}/pause", data={"paused": "1"}, headers=HTMX)
    assert "Paused Știri locale." in page(response).select_one("[data-message]").get_text()
    assert subscriptions_of(app)[0]["paused"] == 1
    client.post(f"/subscriptions/{sid}/pause", data={"paused": "0"})
    assert subscriptions_of(app)[0]["paused"] == 0

    client.post(f"/subscriptions/{sid}/full-text", data={"full_text": "1"})
    assert subscriptions_of(app)[0]["full_text"] == 1

    feeds.items = [1, 2, 3]
    response = client.post(f"/subscriptions/{sid}/refresh", headers=HTMX)
    assert page(response).select_one("[data-message]").get_text() == (
        "Checked Știri locale: 1 imported, 2 unchanged."
    )
    assert len(titles(app)) == before + 1

    response = client.post(f"/subscriptions/{sid}/delete", headers=HTMX)
    assert "The articles it brought stay" in page(response).get_text()
    assert subscriptions_of(app) == [] and len(titles(app)) == before + 1


def test_resuming_a_gone_feed_tries_it_again(client, app, feeds):  # noqa: F811
    client.post("/subscriptions", data={"url": f"{feeds.base}/feed"})
    feeds.answer["/feed"] = (410, {})
    sid = subscriptions_of(app)[0]["id"]
    response = client.post(f"/subscriptions/{sid}/refresh", headers=HTMX)
    assert "gone" in page(response).select_one(".subscription-state").get_text()
    client.post(f"/subscriptions/{sid}/pause", data={"paused": "0"})
    row = subscriptions_of(app)[0]
    assert (row["paused"], row["status"], row["error"]) == (0, "new", None)


def test_refresh_now_waits_for_a_running_pass(client, app, feeds):  # noqa: F811
    client.post("/subscriptions", data={"url": f"{feeds.base}/feed"})
    db = connect(app.config["DATABASE"])
    take_lease(db, "refresh", "another server", 600, __import__("time").time())
    db.close()
    sid = subscriptions_of(app)[0]["id"]
    response = client.post(f"/subscriptions/{sid}/refresh", headers=HTMX)
    assert "being refreshed right now" in page(response).select_one("[data-message]").get_text()


@pytest.mark.parametrize("action", ["pause", "full-text", "refresh", "delete"])
def test_an_action_on_a_missing_subscription_is_a_404(client, action):
    response = client.post(f"/subscriptions/99/{action}", data={"paused": "1", "full_text": "1"})
    assert response.status_code == 404


def test_a_visitor_of_a_public_library_sees_no_subscriptions(public_app, db_path):
    add_subscription_rows(db_path)
    client = public_app.test_client()
    assert page(client.get("/")).select_one(".tools a[href='/subscriptions']") is None
    response = client.get("/subscriptions")
    assert response.status_code == 303 and "/login" in response.location
    assert "example.net" not in response.get_data(as_text=True)
    for path, data in [
        ("/subscriptions", {"url": "https://example.org/other.xml"}),
        ("/subscriptions/1/pause", {"paused": "1"}),
        ("/subscriptions/1/delete", {}),
        ("/subscriptions/1/full-text", {"full_text": "0"}),
    ]:
        assert client.post(path, data=data).status_code == 303
    assert [(r["url"], r["paused"], r["full_text"]) for r in subscriptions_of(public_app)] == [
        ("https://example.org/feed.xml", 0, 0),
        ("https://example.net/rss", 0, 1),
        ("https://example.com/atom", 1, 0),
    ]


def test_the_logged_in_admin_manages_and_a_public_server_fetches_nothing_local(
    public_app,
    feeds,  # noqa: F811
):
    client = public_app.test_client()
    client.post("/login", data={"password": PASSWORD, "next": "/subscriptions"})
    assert page(client.get("/subscriptions")).select_one(".subscribe-form") is not None
    # On a server others reach, the page fetches nothing of the server's own network.
    response = client.post("/subscriptions", data={"url": f"{feeds.base}/feed"})
    assert response.status_code == 400
    assert "server's own network" in page(response).select_one("#subscribe-error").get_text()
    assert feeds.requests == []


def test_a_read_only_library_shows_its_subscriptions_without_forms(db_path):
    add_subscription_rows(db_path)
    app = create_app(
        {"DATABASE": str(db_path), "TESTING": True, "LOGIN_REQUIRED": False, "READ_ONLY": True}
    )
    client = app.test_client()
    html = page(client.get("/subscriptions"))
    assert len(html.select(".subscription")) == 3
    assert not [f for f in html.select("form") if "subscriptions" in (f.get("action") or "")]
    assert client.post("/subscriptions/1/pause", data={"paused": "1"}).status_code == 403


def test_another_site_cannot_subscribe_the_library(client, app):
    response = client.post(
        "/subscriptions", data={"url": "https://evil.example/feed"}, headers=CROSS_SITE
    )
    assert response.status_code == 403 and subscriptions_of(app) == []


def test_every_route_that_changes_something_needs_the_right_to_write(public_app):
    """Protection is by default: any POST route added anywhere is refused to a visitor,
    except logging in and out and the reading preferences (a cookie of one's own)."""
    client = public_app.test_client()
    posts = [
        rule
        for rule in public_app.url_map.iter_rules()
        if "POST" in (rule.methods or ())
        and rule.endpoint not in auth.WRITES_FOR_ANYONE
        and rule.endpoint.split(".")[0] not in auth.API_BLUEPRINTS  # test_api.py's
    ]
    assert len(posts) >= 10
    for rule in posts:
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        response = client.post(path, data={"url": "https://example.org/"})
        assert response.status_code == 303 and "/login" in response.location, rule.rule


def test_the_feeds_found_by_the_screen_match_the_command_line(client, app, runner, feeds):  # noqa: F811
    """One list: what the page subscribed to, `webreader subscriptions` shows."""
    from webreader.cli import cli

    client.post("/subscriptions", data={"url": f"{feeds.base}/feed"})
    result = runner.invoke(cli, ["subscriptions", "--db", app.config["DATABASE"]])
    assert f"{feeds.base}/feed" in result.output
    db = connect(app.config["DATABASE"])
    assert find_subscription(db, f"{feeds.base}/feed")["title"] == "Știri locale"
    db.close()


# ---- in Chromium ----------------------------------------------------------------------------


def test_the_screen_in_a_browser_subscribes_and_pauses_in_place(
    page,
    serve,
    tmp_path,
    feeds,  # noqa: F811
):
    """From the topbar to a subscription and a pause, without a full page load; what each
    form did is said and focused; the screen passes axe."""
    from playwright.sync_api import expect
    from test_accessibility import audit

    from conftest import make_library

    server = serve(make_library(tmp_path))
    page.goto(server.url + "/")
    page.evaluate("window.__marker = 'still here'")
    page.locator(".tools a", has_text="Feeds").click()
    expect(page).to_have_url(server.url + "/subscriptions")
    expect(page.locator("#article h1")).to_have_text("Subscriptions")
    page.get_by_label("Address of a feed").fill(f"{feeds.base}/page")
    page.get_by_label("Check it every").select_option("30m")
    page.get_by_role("button", name="Subscribe").click()
    message = page.locator("#article [data-message]")
    expect(message).to_have_text("Subscribed to Știri locale: 2 imported.")
    expect(message).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Subscribed to Știri locale: 2 imported.")
    expect(page.locator(".subscription h3")).to_have_text(["Știri locale"])
    page.get_by_role("button", name="Pause: Știri locale").click()
    expect(message).to_have_text("Paused Știri locale.")
    expect(page.get_by_role("button", name="Resume: Știri locale")).to_be_visible()
    assert page.evaluate("window.__marker") == "still here"
    # A refusal: said, focused, and what was typed is still there.
    page.get_by_label("Address of a feed").fill(f"{feeds.base}/nothing")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#subscribe-error")).to_contain_text("404")
    expect(page.get_by_label("Address of a feed")).to_have_value(f"{feeds.base}/nothing")
    page.reload()  # the screen has a real address
    expect(page.locator(".subscription h3")).to_have_text(["Știri locale"])
    context = page.context.browser.new_context(bypass_csp=True)
    audited = context.new_page()
    audited.goto(server.url + "/subscriptions")
    assert audit(audited) == []
    context.close()


@pytest.mark.parametrize("number", ["9223372036854775808", "99999999999999999999999"])
def test_a_number_beyond_any_subscription_is_a_404(client, number):
    assert client.post(f"/subscriptions/{number}/pause", data={"paused": "1"}).status_code == 404
