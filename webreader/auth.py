"""Who may read and who may change the library.

One admin password (`webreader set-password`, stored as a salted scrypt hash in the
settings table). Changing the library (read marks, stars, Add) needs it once the server
is reachable from other machines (LOGIN_REQUIRED, which `webreader serve` sets for any
address beyond loopback or behind a trusted proxy). PRIVATE keeps reading behind it too;
READ_ONLY refuses every change, logged in or not. Login attempts are rate-limited per
client address (Flask-Limiter), every attempt, counted before the password is checked.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import sqlite3
import time
from typing import Any
from urllib.parse import urlsplit

from cachetools import LRUCache
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_app_context,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from htmx_flask import request
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.urls import iri_to_uri

from webreader import db as storage
from webreader.db import get_db, without_waiting, writing

PASSWORD_SETTING = "admin_password"
MIN_PASSWORD_LENGTH = 10
LOGIN_TITLE = "Log in · webreader"
LOGIN_LIMITS = "5 per minute; 20 per hour"
# One count of password guesses per client, wherever they come: the login form, HTTP Basic
# on the API, Fever keys (api.py, fever.py share this scope).
PASSWORD_GUESSES = "password-guesses"
SESSION_LIFETIME = 30 * 24 * 3600
MAX_SESSIONS = 100  # logins kept at once; the oldest ends first
# Endpoints anyone may reach on a private library: logging in, health checks, CSS and JS.
OPEN_ENDPOINTS = {
    "auth.login",
    "auth.logout",
    "reader.healthz",
    "static",
    "reader.manifest",  # the app is installable from the login page too
    "reader.service_worker",
}
# The APIs authenticate each call themselves (a key or the password, never a cookie).
API_BLUEPRINTS = {"api", "fever"}
# The only requests besides GET and HEAD that need no right to write: logging in and out,
# and the reading preferences (a cookie: anyone's own). Every other POST changes the library,
# whichever module adds it.
WRITES_FOR_ANYONE = {"auth.login", "auth.logout", "reader.settings"}
# Pages that show how the library is run (its subscriptions, their errors, the server's
# folders): for whoever may change it, or would once logged in.
MANAGE_ENDPOINTS = {"reader.subscriptions_page", "reader.api_keys_page"}

bp = Blueprint("auth", __name__)
limiter = Limiter(lambda: client_key(), storage_uri="memory://", headers_enabled=True)


class WeakPassword(ValueError):
    pass


def set_password(db: Any, password: str) -> None:
    """Stores the password's salted scrypt hash; a new password logs everyone out."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"use at least {MIN_PASSWORD_LENGTH} characters")
    with writing(db):
        storage.save_setting(db, PASSWORD_SETTING, generate_password_hash(password))
        storage.delete_admin_sessions(db)


def password_hash(db: Any) -> str | None:
    return storage.get_setting(db, PASSWORD_SETTING)


# ---- the APIs' credentials (api.py, fever.py) ----------------------------------------------

API_USER = "admin"  # the one user the APIs know (HTTP Basic takes it with the admin password)
FEVER_SETTING = "fever_api_key"
MAX_KEY_NAME = 100
# Passwords that matched the stored hash, as SHA-256 of hash and password: HTTP Basic sends
# the password with every call, and scrypt costs tens of milliseconds. Bounded; a new
# password changes the stored hash, so its entries no longer match anything.
_VERIFIED: LRUCache = LRUCache(maxsize=64)


def create_api_key(db: Any, name: str) -> str:
    """A new API key under name, returned once: only its hash is kept. ValueError when the
    name is empty, too long or taken."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_KEY_NAME:
        raise ValueError(f"a key's name is 1 to {MAX_KEY_NAME} characters")
    if any(key["name"] == name for key in storage.list_api_keys(db)):
        raise ValueError(f"there is a key named {name!r} already")
    token = secrets.token_urlsafe(32)
    storage.insert_api_key(db, name, _token_hash(token), time.time())
    return token


def api_key_id(db: Any, token: str) -> int | None:
    """The id of the key token is, if it is one (its last use noted, once a minute)."""
    found = storage.find_api_key(db, _token_hash(token))
    if found is None:
        return None
    now = time.time()
    stale = found["last_used_at"] is None or now - found["last_used_at"] > 60
    if stale and not current_app.config["READ_ONLY"]:
        # A note, not a change: never waited for (an import may hold the lock), never an error.
        try:
            with without_waiting(db):
                storage.note_api_key_used(db, found["id"], now)
        except sqlite3.OperationalError:
            pass
    return found["id"]


def password_matches(db: Any, password: str) -> bool:
    """Whether password is the admin's (HTTP Basic on the API)."""
    stored = password_hash(db)
    if stored is None or not password:
        return False
    key = hashlib.sha256(f"{stored}\0{password}".encode()).hexdigest()
    if key in _VERIFIED:
        return True
    if check_password_hash(stored, password):
        _VERIFIED[key] = True
        return True
    return False


def password_known(db: Any, password: str) -> bool:
    """Whether this password was verified lately (it need not count against the limit)."""
    stored = password_hash(db)
    return stored is not None and (
        hashlib.sha256(f"{stored}\0{password}".encode()).hexdigest() in _VERIFIED
    )


def set_fever_password(db: Any, user: str, password: str) -> None:
    """Fever's key is the MD5 of "user:password", which apps compute and send: so it is
    what is kept (a password of its own, for this API alone)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"use at least {MIN_PASSWORD_LENGTH} characters")
    key = hashlib.md5(f"{user}:{password}".encode(), usedforsecurity=False).hexdigest()
    with writing(db):
        storage.save_setting(db, FEVER_SETTING, key)


def fever_key_matches(db: Any, api_key: str) -> bool:
    stored = storage.get_setting(db, FEVER_SETTING)
    given = api_key.strip().lower().encode("utf-8", "replace")  # any text: compared as bytes
    return stored is not None and secrets.compare_digest(stored.encode(), given)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Any) -> str:
    """A new admin login: a random token for the cookie, its hash kept in the database.
    Expired logins, and the oldest beyond MAX_SESSIONS, are ended."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with writing(db):
        storage.delete_admin_sessions(db, started_before=now - _lifetime())
        storage.save_admin_session(db, _token_hash(token), now)
        storage.delete_admin_sessions(db, beyond_newest=MAX_SESSIONS)
    return token


def session_is_live(db: Any, token: str) -> bool:
    started = storage.get_admin_session_start(db, _token_hash(token))
    # An expired one is ended by the response cache (caching.py) or the next login.
    return started is not None and started > time.time() - _lifetime()


def end_session(db: Any, token: str | None) -> None:
    if token:
        with writing(db):
            storage.delete_admin_sessions(db, token_hash=_token_hash(token))


def end_expired_sessions(db: Any, lifetime: float) -> None:
    with writing(db):
        storage.delete_admin_sessions(db, started_before=time.time() - lifetime)


def end_all_sessions(db: Any) -> None:
    with writing(db):
        storage.delete_admin_sessions(db)


def _lifetime() -> float:
    if has_app_context():
        return current_app.permanent_session_lifetime.total_seconds()
    return SESSION_LIFETIME


def is_admin() -> bool:
    if "is_admin" not in g:
        token = session.get("admin")
        g.is_admin = isinstance(token, str) and session_is_live(get_db(), token)
    return g.is_admin


def can_write() -> bool:
    config = current_app.config
    if config["READ_ONLY"]:
        return False
    return not config["LOGIN_REQUIRED"] or is_admin()


def can_manage() -> bool:
    """May see the Subscriptions screen: on a read-only library too, without its forms."""
    return not current_app.config["LOGIN_REQUIRED"] or is_admin()


def can_read() -> bool:
    return not current_app.config["PRIVATE"] or is_admin()


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
    """Only a path on this site, for redirects after a form: never an open redirect.

    Checked as the Location header will carry it (werkzeug encodes it with iri_to_uri) and
    as browsers read it: they drop tabs and newlines, take a backslash for a slash, and
    read any path that starts with two slashes as another host (`////evil.example`)."""
    target = target or ""
    location = iri_to_uri(target)
    if (
        not location.startswith("/")
        or any(c <= " " or c in "\\\x7f" for c in target)
        or location[1:2] in ("/", "\\")
        or any(c <= " " or c in "\\\x7f" for c in location)
    ):
        return url_for("reader.index")
    return location


def _guard() -> Response | None:
    if request.endpoint in OPEN_ENDPOINTS or request.blueprint in API_BLUEPRINTS:
        return None
    if not can_read():
        return _to_login(401)
    if request.endpoint in MANAGE_ENDPOINTS and not can_manage():
        return _to_login(401)
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and request.endpoint is not None  # no such route, or not this method: 404, 405
        and request.endpoint not in WRITES_FOR_ANYONE
        and not can_write()
    ):
        if current_app.config["READ_ONLY"]:
            abort(403, description="This library is read-only: nothing in it can be changed.")
        return _to_login(401)
    return None


@bp.app_context_processor
def _auth_context() -> dict[str, Any]:
    config = current_app.config
    return {
        "can_write": can_write(),
        "can_manage": can_manage(),
        "is_admin": is_admin(),
        # Nothing to log in for on a read-only library that anyone may read.
        "login_offered": config["PRIVATE"]
        or (config["LOGIN_REQUIRED"] and not config["READ_ONLY"]),
    }


@bp.route("/login", methods=["GET", "POST"])
# Every attempt counts, and is counted before the password is checked: counting only the
# failures after the answer let concurrent guesses through before the first was counted.
@limiter.shared_limit(
    LOGIN_LIMITS,
    scope=PASSWORD_GUESSES,
    methods=["POST"],
    error_message="Too many login attempts from this address. Wait a minute and try again.",
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
    session.clear()  # a fresh session for the admin: no fixation
    session["admin"] = start_session(get_db())
    session.permanent = True
    return redirect(next_path, 303)


@bp.post("/logout")
def logout() -> Response:
    """Ends this login on the server (a copy of the cookie is worthless afterwards), or
    every login with everywhere=1."""
    db = get_db()
    if request.form.get("everywhere") == "1" and is_admin():
        end_all_sessions(db)
    else:
        end_session(db, session.get("admin"))
    session.clear()
    response = redirect(url_for("reader.index"), 303)
    # Everything this browser kept for reading offline (the service worker's copies of
    # pages, its queue, the worker itself) goes with the login: the next person at this
    # browser sees none of it.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


def client_key() -> str:
    """The rate limit's key: the client's address, and for IPv6 its /64 network, which one
    household or server usually holds whole (one address each try would escape the limit)."""
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def init_app(app: Flask) -> None:
    app.before_request(_guard)
    limiter.init_app(app)
    app.register_blueprint(bp)
