"""API keys from the page (/api-keys, in the reading pane): the keys apps use for the
Miniflux API, made (the key shown once, in the answer to the form, never stored in a cookie
or a cache) and revoked. Seeing it needs the login wherever changing the library does; the
keys themselves are in db.py (a hash of each) and auth.py."""

from __future__ import annotations

import time

from flask import Response, abort, flash, get_flashed_messages, redirect, url_for
from htmx_flask import request

from webreader import auth
from webreader import db as queries
from webreader.articles import MAX_ID
from webreader.db import get_db
from webreader.reading import bp, page_or_fragment, wants_fragment
from webreader.subscription_screen import when

TITLE = "API keys"


def _screen(
    *,
    status: int = 200,
    error: str | None = None,
    new_key: dict | None = None,
    name: str = "",
    messages: list[str] | None = None,
) -> Response:
    now = time.time()
    keys = [
        {**key, "made": when(key["created_at"], now), "used": when(key["last_used_at"], now)}
        for key in queries.list_api_keys(get_db())
    ]
    response = page_or_fragment(
        "_api_keys.html",
        title=TITLE,
        status=status,
        keys=keys,
        error=error,
        new_key=new_key,
        name=name,
        messages=get_flashed_messages() if messages is None else messages,
    )
    response.headers["Cache-Control"] = "no-store"  # a new key is in it, once
    return response


@bp.get("/api-keys")
def api_keys_page() -> Response:
    return _screen()


@bp.post("/api-keys")
def create_api_key() -> Response:
    """Makes a key and shows it in this answer only (no redirect: it is not kept)."""
    name = (request.form.get("name") or "").strip()
    try:
        token = auth.create_api_key(get_db(), name)
    except ValueError as exc:
        return _screen(status=400, error=f"No key made: {exc}.", name=name)
    return _screen(new_key={"name": " ".join(name.split()), "token": token})


@bp.post(f"/api-keys/<int(max={MAX_ID}):key_id>/revoke")
def revoke_api_key(key_id: int) -> Response:
    if not queries.delete_api_key(get_db(), key_id=key_id):
        abort(404, description="There is no such key. It may have been revoked already.")
    message = "Key revoked: apps using it are refused from their next call."
    if wants_fragment():
        return _screen(messages=[message])
    flash(message)
    return redirect(url_for("reader.api_keys_page"), code=303)
