"""Security headers, the access log and /healthz."""

from __future__ import annotations

import json
import logging
import re

import pytest
from playwright.sync_api import Page, expect

from webreader.security import CONTENT_SECURITY_POLICY

HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    ("url", "headers"),
    [("/", {}), ("/articles/1", HTMX), ("/articles/999", {}), ("/static/style.css", {}),
     ("/healthz", {}), ("/search?q=x", HTMX)],
)  # fmt: skip
def test_every_response_carries_the_security_headers(client, url, headers):
    response = client.get(url, headers=headers)
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for directive in ["default-src 'self'", "object-src 'none'", "base-uri 'none'",
                      "frame-ancestors 'none'"]:  # fmt: skip
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    response.close()


def test_healthz(client, app, monkeypatch):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    from webreader import views

    class Broken:
        def execute(self, *args):
            raise RuntimeError("disk gone")

    monkeypatch.setattr(views, "get_db", lambda: Broken())
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
    assert CONTENT_SECURITY_POLICY in (page.request.get(live_server.url + "/").headers.get(
        "content-security-policy") or "")  # fmt: skip
