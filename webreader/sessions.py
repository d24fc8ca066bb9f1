"""Flask's signed-cookie sessions, with each cookie's verified contents remembered.

Every request opens the session, and verifying a cookie (HMAC, base64, JSON) costs more
than serving a cached article fragment. A browser sends the same cookie until the session
changes, so the verified contents are kept by cookie value, until the moment Flask would
have refused the cookie as expired."""

from __future__ import annotations

import time
from collections import OrderedDict
from threading import Lock
from typing import Any

from flask import Flask, Request, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

VERIFIED_COOKIES = 2048


class RememberingSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._verified: OrderedDict[tuple[str, str], tuple[dict[str, Any], float]] = OrderedDict()
        self._lock = Lock()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        # The key is part of the entry, so a new secret key invalidates what was verified.
        key = (str(app.secret_key), value)
        with self._lock:
            known = self._verified.get(key)
            if known is not None and known[1] > time.time():
                self._verified.move_to_end(key)
                return self.session_class(_copy(known[0]))
        max_age = int(app.permanent_session_lifetime.total_seconds())
        serializer = self.get_signing_serializer(app)
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        with self._lock:
            self._verified[key] = (_copy(data), signed_at.timestamp() + max_age)
            while len(self._verified) > VERIFIED_COOKIES:
                self._verified.popitem(last=False)
        return self.session_class(data)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, and whenever the request came over HTTPS (behind a
        trusted proxy, as its X-Forwarded-Proto says)."""
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    """Sessions here hold strings and numbers: a shallow copy keeps the remembered one
    safe from a request that changes its session."""
    return dict(data)


def init_app(app: Flask) -> None:
    app.session_interface = RememberingSessionInterface()
