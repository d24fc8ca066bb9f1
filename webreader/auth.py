"""Who may read and who may change the library.

One admin password (`webreader set-password`, stored as a salted scrypt hash in the
settings table). Changing the library (read marks, stars, Add) needs it once the server
is reachable from other machines (LOGIN_REQUIRED, which `webreader serve` sets for any
address beyond loopback or behind a trusted proxy). PRIVATE keeps reading behind it too;
READ_ONLY refuses every change, logged in or not. Login attempts are rate-limited per
client address (Flask-Limiter), failures only.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from htmx_flask import request
from werkzeug.security import check_password_hash, generate_password_hash

from webreader.db import get_db, writing

PASSWORD_SETTING = "admin_password"
MIN_PASSWORD_LENGTH = 10
LOGIN_TITLE = "Log in · webreader"
LOGIN_LIMITS = "5 per minute; 20 per hour"
# Endpoints anyone may reach on a private library: logging in, health checks, CSS and JS.
OPEN_ENDPOINTS = {"auth.login", "auth.logout", "reader.healthz", "static"}
# POSTs that change the library (the reading preferences are a cookie: anyone's own).
WRITE_ENDPOINTS = {
    "reader.mark_read", "reader.star", "reader.keep_boilerplate", "reader.add", "reader.delete",
}  # fmt: skip

bp = Blueprint("auth", __name__)
limiter = Limiter(get_remote_address, storage_uri="memory://", headers_enabled=True)


class WeakPassword(ValueError):
    pass


def set_password(db: Any, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"use at least {MIN_PASSWORD_LENGTH} characters")
    with writing(db):
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [PASSWORD_SETTING, generate_password_hash(password)],
        )


def password_hash(db: Any) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [PASSWORD_SETTING]).fetchone()
    return row[0] if row else None


def _stamp(stored_hash: str) -> str:
    """What a logged-in session holds: part of the current hash (its salt differs each
    time), so setting a new password logs every session out."""
    return stored_hash[-16:]


def is_admin() -> bool:
    if "is_admin" not in g:
        stamp = session.get("admin")
        stored = password_hash(get_db()) if stamp else None
        g.is_admin = bool(stored) and hmac.compare_digest(stamp, _stamp(stored))
    return g.is_admin


def can_write() -> bool:
    config = current_app.config
    if config["READ_ONLY"]:
        return False
    return not config["LOGIN_REQUIRED"] or is_admin()


def can_read() -> bool:
    return not current_app.config["PRIVATE"] or is_admin()


def viewer() -> tuple[bool, bool]:
    """What a rendering depends on besides the library: part of the render cache's key."""
    return can_write(), is_admin()


def _to_login(status: int) -> Response:
    """To the login page and back: htmx follows HX-Redirect, a browser the 303."""
    if request.method == "GET":
        back = request.script_root + request.full_path.rstrip("?")
    else:  # back to the page the form was on
        referrer = urlsplit(request.referrer or "")
        same_site = referrer.netloc == request.host
        back = referrer.path + (f"?{referrer.query}" if referrer.query else "") if same_site else ""
    target = url_for("auth.login", next=local_path(back))
    if request.htmx:
        response = Response("", status)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


def local_path(target: str | None) -> str:
    """Only a path on this site, for redirects after a form: never an open redirect."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or "\\" in target:
        return url_for("reader.index")
    return target


def _guard() -> Response | None:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not can_read():
        return _to_login(401)
    if request.method == "POST" and request.endpoint in WRITE_ENDPOINTS and not can_write():
        if current_app.config["READ_ONLY"]:
            abort(403, description="This library is read-only: nothing in it can be changed.")
        return _to_login(401)
    return None


@bp.app_context_processor
def _auth_context() -> dict[str, Any]:
    config = current_app.config
    return {
        "can_write": can_write(),
        "is_admin": is_admin(),
        # Nothing to log in for on a read-only library that anyone may read.
        "login_offered": config["PRIVATE"]
        or (config["LOGIN_REQUIRED"] and not config["READ_ONLY"]),
    }


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    LOGIN_LIMITS,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 401,
    error_message="Too many wrong passwords from this address. Wait a minute and try again.",
)
def login() -> Response | str:
    next_path = local_path(request.values.get("next"))
    if request.method == "GET":
        return render_template(
            "login.html", next_path=next_path, failed=False, page_title=LOGIN_TITLE
        )
    stored = password_hash(get_db())
    if stored is None:
        abort(
            403,
            description="No admin password is set. On the server, run: webreader set-password",
        )
    if not check_password_hash(stored, request.form.get("password", "")):
        return Response(
            render_template("login.html", next_path=next_path, failed=True, page_title=LOGIN_TITLE),
            401,
        )
    session.clear()  # a fresh session (and CSRF token) for the admin: no fixation
    session["admin"] = _stamp(stored)
    session.permanent = True
    return redirect(next_path, 303)


@bp.post("/logout")
def logout() -> Response:
    # The rest of the session stays: its CSRF token keeps other open tabs' forms valid, so
    # they meet the login page rather than a token error.
    session.pop("admin", None)
    return redirect(url_for("reader.index"), 303)


def init_app(app: Flask) -> None:
    app.before_request(_guard)
    limiter.init_app(app)
    app.register_blueprint(bp)
