"""Flask's signed-cookie sessions, with a Secure cookie whenever the request came over HTTPS.

The cookie only says who is logged in: the login itself lives on the server (auth.py's
admin_sessions), so logging out ends it even for a copy of the cookie."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, and whenever the request came over HTTPS (behind a
        trusted proxy, as its X-Forwarded-Proto says)."""
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
