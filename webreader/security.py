"""Headers every response carries: a Content-Security-Policy without unsafe-inline or
unsafe-eval (webreader has no inline script or style, and htmx runs without eval here),
no MIME sniffing, no Referer sent to the sites articles link to, no framing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Articles show images from the sites they come from.
        "img-src 'self' https: http: data:",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _add_headers(response: Response) -> Response:
    # No view sets these: add() appends without the lookups setdefault() makes.
    for name, value in HEADERS.items():
        response.headers.add(name, value)
    return response


def not_found(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The answer outside --url-prefix, where Flask is not reached: a 404 with the headers."""
    body = b"Not found. This server answers under its URL prefix only.\n"
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *HEADERS.items(),
    ]
    start_response("404 NOT FOUND", headers)
    return [body]


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
