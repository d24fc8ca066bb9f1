"""Security headers, the access log and /healthz."""

from __future__ import annotations

import json
import logging
import re

import pytest
from playwright.sync_api import Page, expect

from conftest import HTMX
from webreader.security import CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/", {}),
        ("/articles/1", HTMX),
        ("/articles/999", {}),
        ("/static/style.css", {}),
        ("/healthz", {}),
        ("/search?q=x", HTMX),
    ],
)
def test_every_response_carries_the_security_headers(client, url, headers):
    response = client.get(url, headers=headers)
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for directive in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]:
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    response.close()


def test_healthz(client, app, monkeypatch):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    from webreader import reading

    class Broken:
        def execute(self, *args):
            raise RuntimeError("disk gone")

    monkeypatch.setattr(reading, "get_db", lambda: Broken())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "disk gone" not in response.get_data(as_text=True)


def test_each_request_is_logged_as_one_json_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="webreader.access"):
        client.get("/articles/2?show=unread", headers=HTMX)
    record = json.loads(caplog.records[-1].getMessage())
    assert record["method"] == "GET"
    assert record["path"] == "/articles/2?show=unread"
    assert record["status"] == 200
    assert record["htmx"] is True
    assert record["bytes"] > 1000 and record["ms"] >= 0


def test_the_page_runs_under_its_policy_in_a_browser(page: Page, live_server):
    """No violation reported while reading, searching, swapping and opening panels."""
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    page.goto(live_server.url + "/")
    page.locator("#headlines a.headline").nth(1).click()
    expect(page.locator("#article h1")).to_have_text(re.compile("^România"))
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("#search").fill("kazah")
    expect(page.locator("#headlines a.headline")).to_have_count(1)
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    assert violations == []
    assert CONTENT_SECURITY_POLICY in (
        page.request.get(live_server.url + "/").headers.get("content-security-policy") or ""
    )


def test_static_files_carry_a_content_hash_and_are_cached_for_a_year(client):
    from bs4 import BeautifulSoup

    page = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    urls = [s["src"] for s in page.find_all("script")] + [
        link["href"] for link in page.find_all("link", rel=["stylesheet", "icon"])
    ]
    assert len(urls) == 5  # htmx, its SSE extension, app.js, the icon, the stylesheet
    for url in urls:
        assert re.fullmatch(r"/static/[\w.\-]+\?v=[0-9a-f]{16}", url), url
        response = client.get(url)
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        response.close()
    # An old or missing hash is not promised to last.
    stale = client.get(urls[0].split("?")[0] + "?v=0000000000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")
    stale.close()
