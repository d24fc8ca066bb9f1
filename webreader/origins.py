"""Which host names webreader answers to, and which requests may change the library.

Allowed hosts stop DNS rebinding: a page on attacker.example whose name is made to point at
127.0.0.1 reaches the server with `Host: attacker.example`, so only names the owner chose
are answered. IP addresses are always answered (a rebinding attack needs a name), as are
`localhost` and its subdomains (browsers resolve those to loopback themselves).

Cross-origin protection replaces CSRF tokens, as Go's net/http CrossOriginProtection does:
browsers say where a request comes from (`Sec-Fetch-Site` since 2020-2023 in every engine,
`Origin` on every POST before that), so a POST is refused when either says another site.
A request that carries neither does not come from a browser page, and so cannot carry a
visitor's cookies on someone else's behalf.

A GET the reader did not make leaves no read mark: one from another site (an <img>, a
link), or one for an image, script or frame (`Sec-Fetch-Dest`), which an article's own
`<img src="/articles/5">` would be."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, request
from werkzeug.sansio.utils import host_is_trusted

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def parse_hosts(value: str | Iterable[str] | None) -> list[str]:
    """'reader.example.org, .example.net' (the WEBREADER_ALLOWED_HOSTS form) as a list.
    A leading dot allows the name and its subdomains."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip().lower() for item in items if item and item.strip()]


def _hostname(host: str) -> str:
    """'Example.org:8000' -> 'example.org'; '[::1]:8000' -> '::1'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else ""
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    name = _hostname(host).rstrip(".")
    try:
        name.encode("idna")  # what werkzeug needs of a host: labels of 1 to 63 characters
    except UnicodeError:
        return False
    if not name:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    allowed = list(allowed)
    return bool(allowed) and host_is_trusted(name, allowed)


def is_cross_site(environ: Mapping[str, Any], host: str) -> bool:
    """True when the browser says this request was made by a page of another origin."""
    site = environ.get("HTTP_SEC_FETCH_SITE")
    if site is not None:
        return site not in ("same-origin", "none")  # none: typed, a bookmark, the user
    origin = environ.get("HTTP_ORIGIN")
    if origin is None:
        return False  # not sent by a page: no browser, or a same-origin GET
    return urlsplit(origin).netloc.lower() != host.lower()  # "null" too


# What the reader's own requests are for: a page (a click, a typed address) or a fetch
# (htmx). Without the header (old browsers, other clients) a request counts as the reader's.
READER_DESTINATIONS = (None, "document", "empty")


def is_passive(environ: Mapping[str, Any], host: str) -> bool:
    """True for a request the reader did not make: it reads, but changes nothing. The
    service worker keeping an article for offline reading says so (X-Webreader-Save)."""
    return (
        environ.get("HTTP_SEC_FETCH_DEST") not in READER_DESTINATIONS
        or "HTTP_X_WEBREADER_SAVE" in environ
        or is_cross_site(environ, host)
    )


def request_is_cross_site() -> bool:
    if "cross_site" not in g:
        g.cross_site = is_cross_site(request.environ, request.host)
    return g.cross_site


def request_is_passive() -> bool:
    return is_passive(request.environ, request.host)


def _check() -> None:
    if not host_allowed(request.host, current_app.config["ALLOWED_HOSTS"]):
        g.refused_host = True  # the error page then shows nothing of the library
        abort(
            400,
            description=f"This server does not answer to the name {request.host!r}. "
            "Its owner can allow it with --allowed-hosts (WEBREADER_ALLOWED_HOSTS).",
        )
    if request.method not in SAFE_METHODS and request_is_cross_site():
        abort(
            403,
            description="A page of another site tried to send this form: refused. "
            "Nothing was changed.",
        )


def init_app(app: Flask) -> None:
    app.config["ALLOWED_HOSTS"] = parse_hosts(app.config.get("ALLOWED_HOSTS"))
    # First of all checks: before the login, the rate limiter and the views.
    app.before_request_funcs.setdefault(None, []).insert(0, _check)
