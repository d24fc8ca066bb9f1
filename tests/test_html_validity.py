"""Every page and fragment passes the Nu Html Checker (vnu.jar) with no errors.

htmx's hx-* attributes are not in the HTML standard; the validator's message about them,
and only that exact message, is set aside.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from conftest import HTMX
from tests_support import VNU
from webreader import create_app

HX_ATTRIBUTE = re.compile(
    r"^Attribute “hx-[a-z-]+” not allowed on element “[a-z0-9]+” at this point\.$"
)
FRAGMENT_FRAME = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>fragment</title></head>'
    '<body><main id="article">{}</main></body></html>'
)

PAGES = {
    "home": "/",
    "article": "/articles/1",
    "teaser": "/articles/2",
    "unread-filter": "/articles/3?show=unread",
    "empty-filter": "/?show=starred",
    "not-found": "/articles/999",
    "malformed-id": "/articles/abc",
    "subscriptions": "/subscriptions",
    "api-keys": "/api-keys",
}
FRAGMENTS = {
    "article": "/articles/1",
    "teaser": "/articles/2",
    "not-found": "/articles/999",
    "empty-filter": "/?show=starred",
    "subscriptions": "/subscriptions",
}


def collect(db_path: Path, empty_db: Path) -> dict[str, str]:
    """Name -> HTML document, for every page and (framed) fragment the app serves."""
    from tests_support import add_subscription_rows

    add_subscription_rows(db_path)
    client = create_app(
        {"DATABASE": str(db_path), "TESTING": True, "LOGIN_REQUIRED": False}
    ).test_client()
    documents = {
        f"page-{name}": client.get(url).get_data(as_text=True) for name, url in PAGES.items()
    }
    for name, url in FRAGMENTS.items():
        fragment = client.get(url, headers=HTMX).get_data(as_text=True)
        documents[f"fragment-{name}"] = FRAGMENT_FRAME.format(fragment)
    starred = client.post("/articles/4/star", data={"starred": "1"}, headers=HTMX)
    documents["fragment-after-star"] = FRAGMENT_FRAME.format(starred.get_data(as_text=True))
    documents["page-bad-request"] = client.post("/articles/4/star").get_data(as_text=True)
    documents["page-wrong-method"] = client.delete("/articles/4").get_data(as_text=True)
    empty = create_app(
        {"DATABASE": str(empty_db), "TESTING": True, "LOGIN_REQUIRED": False}
    ).test_client()
    documents["page-empty-library"] = empty.get("/").get_data(as_text=True)
    documents["fragment-empty-library"] = FRAGMENT_FRAME.format(
        empty.get("/", headers=HTMX).get_data(as_text=True)
    )
    # A public library: the visitor's page, the login page (also after a wrong
    # password) and the admin's page with its Log out button.
    from webreader import auth
    from webreader.db import connect

    with connect(db_path).conn as conn:
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)",
            [auth.PASSWORD_SETTING, generate_password_hash("a long password")],
        )
    public = create_app(
        {"DATABASE": str(db_path), "TESTING": True, "LOGIN_REQUIRED": True}
    ).test_client()
    documents["page-visitor"] = public.get("/articles/1").get_data(as_text=True)
    documents["page-login"] = public.get("/login").get_data(as_text=True)
    documents["page-login-failed"] = public.post("/login", data={"password": "wrong"}).get_data(
        as_text=True
    )
    public.post("/login", data={"password": "a long password"})
    documents["page-admin"] = public.get("/articles/1").get_data(as_text=True)
    assert "Log out" in documents["page-admin"] and "Log in" in documents["page-visitor"]
    return documents


@pytest.fixture(scope="module")
def validation(tmp_path_factory, request) -> dict[str, list[str]]:
    """Runs vnu.jar once over every document; name -> its error messages."""
    from conftest import make_library

    folder = tmp_path_factory.mktemp("vnu")
    documents = collect(make_library(folder), folder / "empty.db")
    paths = {}
    for name, html in documents.items():
        paths[name] = folder / f"{name}.html"
        paths[name].write_text(html, encoding="utf-8")
    done = subprocess.run(
        [
            "java",
            "-jar",
            str(VNU),
            "--format",
            "json",
            "--exit-zero-always",
            *map(str, paths.values()),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    messages = json.loads(done.stderr)["messages"]
    errors: dict[str, list[str]] = {name: [] for name in documents}
    for message in messages:
        if message["type"] != "error" or HX_ATTRIBUTE.match(message["message"]):
            continue
        file_name = message.get("url", "").rsplit("/", 1)[-1]
        name = file_name.removesuffix(".html") if file_name.endswith(".html") else "unknown"
        errors.setdefault(name, []).append(f"{message.get('lastLine')}: {message['message']}")
    return errors


@pytest.mark.parametrize(
    "name",
    [f"page-{n}" for n in PAGES]
    + [f"fragment-{n}" for n in FRAGMENTS]
    + [
        "fragment-after-star",
        "page-bad-request",
        "page-wrong-method",
        "page-empty-library",
        "fragment-empty-library",
        "page-visitor",
        "page-login",
        "page-login-failed",
        "page-admin",
    ],
)
def test_document_is_valid_html(validation, name):
    assert validation[name] == []
    assert validation.get("unknown", []) == []


def test_the_checker_reports_real_errors(tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
        '<body><p><div>block in p</div></p><a hx-get="/x">htmx</a><a onclick=1 foo="bar">x</a>'
        "</body></html>",
        encoding="utf-8",
    )
    done = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--exit-zero-always", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    errors = [m["message"] for m in json.loads(done.stderr)["messages"] if m["type"] == "error"]
    kept = [m for m in errors if not HX_ATTRIBUTE.match(m)]
    assert any("hx-get" in m for m in errors)  # the filter has something to filter...
    assert any("foo" in m for m in kept)  # ...and keeps every other error
    assert not any("hx-get" in m for m in kept)
