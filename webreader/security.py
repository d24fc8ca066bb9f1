"""Headers every response carries: a Content-Security-Policy without unsafe-inline or
unsafe-eval (webreader has no inline script or style, and htmx runs without eval here),
no MIME sniffing, no Referer sent to the sites articles link to, no framing."""

from __future__ import annotations

import functools
import ipaddress
import time
from collections.abc import Callable, Iterable
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


# The service worker's own policy (offline.py): it fetches the images of the articles it
# keeps, which pages show from their sites (img-src), so its fetches may go there too.
WORKER_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "connect-src 'self'", "connect-src 'self' https: http:"
)


def _add_headers(response: Response) -> Response:
    # Only the worker's script sets one of these (its CSP); add() appends without the
    # lookups setdefault() makes.
    for name, value in HEADERS.items():
        if name not in response.headers:
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


# A client that sends its headers a byte at a time keeps waitress's idle timeout from
# firing: each request must have its headers in within this time. And one address may hold
# only so many connections (a browser opens six), so that one client cannot take them all;
# addresses of this machine are not limited (the owner, a local monitor).
HEADERS_DEADLINE = 30
CONNECTIONS_PER_CLIENT = 64


def harden_waitress(server: Any, *, per_client_limit: bool = True) -> None:
    """What webreader adds to waitress: security headers on the errors waitress answers
    itself (400 for malformed HTTP, 413, 431), a deadline for a request's headers, and,
    unless a proxy stands in front (every connection then comes from it), a limit on
    connections per client address."""
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    class SecureErrorTask(ErrorTask):
        def execute(self) -> None:
            self.response_headers.extend(HEADERS.items())
            super().execute()

    class GuardedChannel(HTTPChannel):
        error_task_class = SecureErrorTask
        request_began = 0.0

        def received(self, data: bytes) -> bool:
            if self.request is None and data:
                self.request_began = time.monotonic()
            return super().received(data)

    def accept(listener: Any, sock: Any, addr: Any, adj: Any, map: Any = None) -> Any:
        if per_client_limit and over_client_limit(listener.active_channels.values(), addr):
            sock.close()
            return None
        return GuardedChannel(listener, sock, addr, adj, map=map)

    def maintenance(listener: Any, now: float) -> None:
        type(listener).maintenance(listener, now)
        close_late_headers(listener.active_channels.values(), time.monotonic())

    # One listening socket, or several (a name with IPv4 and IPv6 addresses).
    listeners = [server] if hasattr(server, "channel_class") else server.map.values()
    for listener in listeners:
        if hasattr(listener, "channel_class"):
            listener.channel_class = accept  # called as channel_class(listener, sock, ...)
            listener.maintenance = functools.partial(maintenance, listener)


def over_client_limit(channels: Iterable[Any], addr: Any) -> bool:
    if not isinstance(addr, tuple):
        return False  # a Unix socket
    try:
        if ipaddress.ip_address(addr[0]).is_loopback:
            return False
    except ValueError:
        return False
    held = sum(1 for c in channels if isinstance(c.addr, tuple) and c.addr[0] == addr[0])
    return held >= CONNECTIONS_PER_CLIENT


def close_late_headers(channels: Iterable[Any], now: float) -> None:
    """Marks for closing every connection whose request has not finished its headers
    HEADERS_DEADLINE seconds after its first byte."""
    late = now - HEADERS_DEADLINE
    for channel in list(channels):
        request = getattr(channel, "request", None)
        began = getattr(channel, "request_began", now)
        answering = bool(getattr(channel, "requests", None))  # waitress's own rule too
        if request is not None and not request.headers_finished and began < late and not answering:
            channel.will_close = True


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
