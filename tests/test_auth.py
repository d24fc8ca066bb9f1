"""Login, who may change and who may read the library, the server's refusal to go public
without a password, and the settings behind a reverse proxy."""

from __future__ import annotations

import gzip
import json
import logging
import re
import urllib.error
import urllib.request

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Page, expect
from werkzeug.security import check_password_hash

from conftest import CROSS_SITE, HTMX
from webreader import auth, create_app
from webreader.cli import cli
from webreader.db import connect

PASSWORD = "correct horse battery"


@pytest.fixture
def public_app(db_path):
    """As on a public address: a password set, changes need it."""
    db = connect(db_path)
    auth.set_password(db, PASSWORD)
    db.close()
    return create_app({"DATABASE": str(db_path), "TESTING": True, "LOGIN_REQUIRED": True})


def log_in(client, password: str = PASSWORD, next_path: str = "/articles/2", **kwargs):
    return client.post("/login", data={"password": password, "next": next_path}, **kwargs)


def _marked(app, article_id: int, column: str) -> bool:
    db = connect(app.config["DATABASE"])
    try:
        row = db.execute(f"SELECT {column} FROM articles WHERE id = ?", [article_id]).fetchone()
        return row[0] is not None
    finally:
        db.close()


def starred(app, article_id: int) -> bool:
    return _marked(app, article_id, "starred_at")


def read(app, article_id: int) -> bool:
    return _marked(app, article_id, "read_at")


# ---- the password ---------------------------------------------------------------------------


def test_set_password_stores_a_salted_hash_only(runner, db_path):
    result = runner.invoke(
        cli, ["set-password", "--db", str(db_path)], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Admin password set" in result.output
    db = connect(db_path)
    stored = auth.password_hash(db)
    db.close()
    assert stored and PASSWORD not in stored and stored.startswith("scrypt:")


@pytest.mark.parametrize("piped", [f"{PASSWORD}\n", PASSWORD, f"{PASSWORD}\r\n"])
def test_set_password_takes_one_piped_line(runner, db_path, piped):
    result = runner.invoke(cli, ["set-password", "--db", str(db_path)], input=piped)
    assert result.exit_code == 0, result.output
    db = connect(db_path)
    assert check_password_hash(auth.password_hash(db), PASSWORD)
    db.close()


def test_set_password_refuses_a_short_or_mistyped_one(runner, db_path):
    short = runner.invoke(cli, ["set-password", "--db", str(db_path)], input="short\nshort\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    mistyped = runner.invoke(
        cli, ["set-password", "--db", str(db_path)], input=f"{PASSWORD}\n{PASSWORD}x\n"
    )
    assert mistyped.exit_code != 0
    db = connect(db_path)
    assert auth.password_hash(db) is None
    db.close()


@pytest.mark.parametrize(
    "args",
    [["--host", "0.0.0.0"], ["--host", "192.0.2.1"], ["--trust-proxy", "1"], ["--private"]],
)
def test_serve_refuses_to_go_public_without_a_password(runner, db_path, args):
    result = runner.invoke(cli, ["serve", "--db", str(db_path), "--port", "0", *args])
    assert result.exit_code == 1
    assert "no admin password" in result.output or "needs an admin password" in result.output
    assert f"webreader set-password --db {db_path}" in result.output


def test_serve_reads_its_address_from_the_environment(runner, db_path):
    result = runner.invoke(
        cli, ["serve", "--db", str(db_path), "--port", "0"], env={"WEBREADER_HOST": "0.0.0.0"}
    )
    assert result.exit_code == 1 and "refusing to serve on 0.0.0.0" in result.output


def test_a_public_server_with_a_password_protects_its_writes(runner, db_path, serve):
    runner.invoke(cli, ["set-password", "--db", str(db_path)], input=f"{PASSWORD}\n{PASSWORD}\n")
    server = serve(db_path, args=["--host", "0.0.0.0"])
    assert "0.0.0.0" in server.banner
    with urllib.request.urlopen(server.url + "/articles/2") as response:
        page = response.read().decode()
    assert "Log in" in page and "star-form" not in page
    request = urllib.request.Request(server.url + "/articles/2/star", data=b"starred=1")
    with urllib.request.urlopen(request) as refused:  # sent on to the login page
        assert "/login?next=" in refused.url and "Admin password" in refused.read().decode()
    db = connect(db_path)
    assert db.execute("SELECT starred_at FROM articles WHERE id = 2").fetchone()[0] is None
    db.close()


# ---- who may change the library -------------------------------------------------------------


def test_visitors_see_no_write_controls_and_leave_no_marks(public_app):
    client = public_app.test_client()
    page = client.get("/articles/2").text
    assert 'class="read-form"' not in page and 'class="star-form"' not in page
    assert 'popovertarget="add"' not in page and 'id="add"' not in page
    assert "Log in" in page
    assert not read(public_app, 2)  # opening it as a visitor marked nothing


def test_a_visitor_write_goes_to_the_login_page(public_app):
    client = public_app.test_client()
    plain = client.post(
        "/articles/2/star",
        data={"starred": "1"},
        headers={"Referer": "http://localhost/articles/2?show=unread"},
    )
    assert plain.status_code == 303
    assert plain.headers["Location"] == "/login?next=/articles/2?show%3Dunread"
    swapped = client.post("/articles/2/star", data={"starred": "1"}, headers=HTMX)
    assert swapped.status_code == 401 and swapped.headers["HX-Redirect"].startswith("/login")
    assert not starred(public_app, 2)


def test_logging_in_allows_writes_until_logging_out(public_app):
    client = public_app.test_client()
    response = log_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/articles/2"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/articles/2").text
    assert 'class="star-form"' in page and "Log out" in page
    assert client.post("/articles/2/star", data={"starred": "1"}).status_code
    assert starred(public_app, 2)
    client.post("/logout", data={})
    client.post("/articles/2/star", data={"starred": "0"})
    assert starred(public_app, 2)  # logged out: the change was refused


def test_a_wrong_password_is_a_clear_401(public_app):
    client = public_app.test_client()
    response = log_in(client, "not the password")
    assert response.status_code == 401
    assert "That is not the admin password" in response.text
    assert "Log out" not in client.get("/articles/2").text


def test_a_login_form_on_another_site_is_refused(public_app):
    client = public_app.test_client()
    response = client.post("/login", data={"password": PASSWORD}, headers=CROSS_SITE)
    assert response.status_code == 403
    assert "Log out" not in client.get("/articles/2").text


def test_login_does_not_redirect_off_site(public_app):
    client = public_app.test_client()
    response = log_in(client, next_path="https://evil.example/")
    assert response.headers["Location"] == "/"


def test_wrong_passwords_are_rate_limited(public_app):
    client = public_app.test_client()
    codes = [log_in(client, f"wrong {n}").status_code for n in range(5)]
    assert codes == [401] * 5
    blocked = log_in(client)  # even the right password waits now
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
    assert "Too many login attempts" in blocked.text
    other = public_app.test_client()  # the limit is per address: same one here
    assert log_in(other).status_code == 429


def test_every_attempt_counts_before_the_answer(public_app):
    """Counted before the password is checked, so that concurrent guesses cannot all get
    through before the first is counted (see test_hosting.py); right ones count too."""
    client = public_app.test_client()
    assert [log_in(client).status_code for _ in range(6)] == [303] * 5 + [429]


def test_a_new_password_logs_every_session_out(public_app):
    client = public_app.test_client()
    log_in(client)
    assert "Log out" in client.get("/articles/2").text
    db = connect(public_app.config["DATABASE"])
    auth.set_password(db, "another long password")
    db.close()
    assert "Log out" not in client.get("/articles/2").text


# ---- private reading and read-only ----------------------------------------------------------


@pytest.fixture
def private_app(public_app):
    public_app.config["PRIVATE"] = True
    return public_app


def test_a_private_library_shows_nothing_before_login(private_app):
    client = private_app.test_client()
    page = client.get("/articles/2?show=unread")
    assert page.status_code == 303
    assert page.headers["Location"] == "/login?next=/articles/2?show%3Dunread"
    swapped = client.get("/articles/2", headers=HTMX)
    assert swapped.status_code == 401 and "Kazahstan" not in swapped.text
    search = client.get("/search?q=putin")
    assert search.status_code == 303
    assert client.get("/healthz").status_code == 200
    login_page = client.get("/login")
    assert login_page.status_code == 200 and "Putin" not in login_page.text
    stylesheet = re.search(r'href="(/static/style\.css[^"]*)"', login_page.text)[1]
    with client.get(stylesheet) as response:
        assert response.status_code == 200
    log_in(client)
    assert "Putin" in client.get("/articles/1").text


def test_a_read_only_library_refuses_every_change(db_path):
    app = create_app(
        {"DATABASE": str(db_path), "TESTING": True, "LOGIN_REQUIRED": False, "READ_ONLY": True}
    )
    client = app.test_client()
    page = client.get("/articles/2").text
    assert 'class="star-form"' not in page and not read(app, 2)
    response = client.post("/articles/2/star", data={"starred": "1"})
    assert response.status_code == 403 and "read-only" in response.text
    app.config["LOGIN_REQUIRED"] = True  # a public read-only mirror: nothing to log in for
    assert "Log in" not in client.get("/articles/3").text
    assert not starred(app, 2)


def test_settings_come_from_the_environment(monkeypatch, db_path):
    monkeypatch.setenv("WEBREADER_READ_ONLY", "true")
    monkeypatch.setenv("WEBREADER_PRIVATE", "true")
    monkeypatch.setenv("WEBREADER_URL_PREFIX", "reader/")
    monkeypatch.setenv("WEBREADER_TRUST_PROXY", "1")
    monkeypatch.setenv("WEBREADER_DB", str(db_path))
    config = create_app().config
    assert config["READ_ONLY"] is True and config["PRIVATE"] is True
    assert config["URL_PREFIX"] == "/reader" and config["TRUST_PROXY"] == 1
    assert config["DATABASE"] == str(db_path)
    assert config["LOGIN_REQUIRED"] is True  # another WSGI server: assumed public


# ---- behind a reverse proxy -----------------------------------------------------------------


def _logged_remote(client, caplog, headers) -> str:
    with caplog.at_level(logging.INFO, logger="webreader.access"):
        client.get("/healthz", headers=headers)
    return json.loads(caplog.records[-1].getMessage())["remote"]


def test_forwarded_headers_are_ignored_unless_trusted(db_path, caplog):
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    config = {"DATABASE": str(db_path), "LOGIN_REQUIRED": False}
    untrusted = create_app(config).test_client()
    assert _logged_remote(untrusted, caplog, forwarded) == "127.0.0.1"
    db = connect(db_path)
    auth.set_password(db, PASSWORD)
    db.close()
    assert "Secure" not in log_in(untrusted, headers=forwarded).headers["Set-Cookie"]
    trusted = create_app({**config, "TRUST_PROXY": 1}).test_client()
    assert _logged_remote(trusted, caplog, forwarded) == "203.0.113.9"
    # Over HTTPS (as the proxy says), the session cookie is Secure.
    assert "Secure" in log_in(trusted, headers=forwarded).headers["Set-Cookie"]


def test_the_rate_limit_counts_the_real_client_behind_a_proxy(public_app):
    public_app.config["TRUST_PROXY"] = 1
    app = create_app({**public_app.config})
    client = app.test_client()
    for n in range(5):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
        log_in(client, f"wrong {n}")
    assert log_in(client).status_code == 429
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    assert log_in(client).status_code == 303  # another reader is not locked out


def test_a_url_prefix_serves_everything_under_it(db_path):
    app = create_app({"DATABASE": str(db_path), "LOGIN_REQUIRED": False, "URL_PREFIX": "/reader"})
    client = app.test_client()
    root = "http://localhost/"  # the test client would otherwise put the prefix in itself
    assert client.get("/articles/1", base_url=root).status_code == 404
    response = client.get("/reader/articles/1", base_url=root)
    assert response.status_code == 200
    db = connect(db_path)
    auth.set_password(db, PASSWORD)
    db.close()
    login = client.post("/reader/login", data={"password": PASSWORD}, base_url=root)
    assert "Path=/reader" in login.headers["Set-Cookie"]
    page = BeautifulSoup(response.text, "html.parser")
    links = [a["href"] for a in page.select("a[href^='/']")]
    assets = [
        tag.get("src") or tag.get("href")
        for tag in page.select("script[src], link[rel=stylesheet], link[rel=icon]")
    ]
    assert links and all(re.match(r"/reader/(?!reader/)", link) for link in links)
    assert assets and all(re.match(r"/reader/static/", url) for url in assets)
    with client.get(assets[-1], base_url=root) as script:
        assert script.status_code == 200


# ---- compression ------------------------------------------------------------------------------


def test_html_is_compressed_for_browsers_that_take_it(client):
    client.get("/articles/2")  # mark read: later responses are the same
    plain = client.get("/articles/2", headers={"Accept-Encoding": "identity"})
    packed = client.get("/articles/2", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = client.get(
        "/articles/2", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
    )
    assert again.status_code == 304
    # A replay from the response cache never sends gzip to a browser that did not ask.
    assert "Content-Encoding" not in client.get("/articles/2").headers


# ---- in a browser -----------------------------------------------------------------------------


@pytest.fixture
def public_server(runner, tmp_path, serve):
    from conftest import make_library

    db = make_library(tmp_path)
    runner.invoke(cli, ["set-password", "--db", str(db)], input=f"{PASSWORD}\n{PASSWORD}\n")
    return serve(db, args=["--login-required"])


def test_logging_in_and_starring_in_a_browser(page: Page, public_server):
    page.goto(public_server.url + "/articles/2")
    expect(page.locator(".star-form")).to_have_count(0)
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Admin password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("That is not the admin password.")
    page.get_by_label("Admin password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/articles/2$"))
    page.get_by_role("button", name="Star").click()
    expect(page.get_by_role("button", name="Star")).to_have_attribute("aria-pressed", "true")


def test_a_stale_page_after_logout_goes_to_the_login_page(page: Page, public_server):
    page.goto(public_server.url + "/login?next=/articles/2")
    page.get_by_label("Admin password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Star")).to_be_visible()
    # Logged out elsewhere (another tab): the same cookies, through the context's requests.
    logout = page.context.request.post(public_server.url + "/logout", form={}, max_redirects=0)
    assert logout.status == 303
    page.get_by_role("button", name="Star").click()  # an htmx POST from the stale page
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_label("Admin password")).to_be_visible()


def test_a_visitor_cannot_delete(public_app):
    client = public_app.test_client()
    response = client.post("/articles/2/delete", data={})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert client.get("/articles/2").status_code == 200


def test_the_admins_pages_are_cached_too(public_app, caplog):
    """The login lasts 30 days from logging in: no Set-Cookie on every response, which
    would keep every cache (webreader's own, a proxy's) from keeping the admin's pages."""
    client = public_app.test_client()
    log_in(client)
    client.get("/articles/2")  # marks it read
    with caplog.at_level(logging.INFO, logger="webreader.access"):
        first = client.get("/articles/2")
        again = client.get("/articles/2")
    assert "Set-Cookie" not in again.headers
    assert json.loads(caplog.records[-1].getMessage())["cached"] is True
    assert again.data == first.data and "Log out" in again.text
    stylesheet = re.search(r'href="(/static/style\.css[^"]*)"', again.text)[1]
    with client.get(stylesheet) as static:
        assert "Set-Cookie" not in static.headers


def test_a_new_password_ends_replays_of_the_old_logins_pages(private_app):
    """The response cache keeps the admin's pages; after a new password (set from the
    command line, another process) the old session must not get them again."""
    client = private_app.test_client()
    log_in(client)
    client.get("/articles/2")
    assert "Log out" in client.get("/articles/2").text  # now replayed from the cache
    db = connect(private_app.config["DATABASE"])
    auth.set_password(db, "another long password")
    db.close()
    assert client.get("/articles/2").status_code == 303  # to the login page


def test_a_read_only_mirror_may_go_public_without_a_password(db_path, serve):
    """Nothing can be changed, so there is nothing to protect with a password."""
    server = serve(db_path, args=["--host", "0.0.0.0", "--read-only"])
    assert "0.0.0.0" in server.banner
    with urllib.request.urlopen(server.url + "/articles/1") as response:
        page = response.read().decode()
    assert "star-form" not in page and "Log in" not in page
