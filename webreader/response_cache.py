"""Responses replayed without Flask: the fastest way to serve an article again.

A view opts in by calling mark_cacheable() (page_or_fragment(cache=True) does). The stored
response is keyed on the library's generation (see db.py: every write to articles changes
it), the admin password (a new one logs everyone out), and on everything in the request a
view may read: path, query, host, prefix, cookies
and the htmx headers. So a replay is byte for byte what Flask would answer at that moment.
A response is not kept when it sets a cookie, is not a 200, or when the request itself
changed the library (opening an unread article marks it read)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from threading import Lock
from typing import Any

from flask import request

from webreader.db import thread_connection

ENVIRON_FLAG = "webreader.cacheable"
MAX_BYTES = 8 * 1024 * 1024
# What a view may depend on besides the library. A view that reads anything else must not
# call mark_cacheable().
KEY = (
    "PATH_INFO",
    "QUERY_STRING",
    "SCRIPT_NAME",
    "HTTP_HOST",
    "wsgi.url_scheme",
    "HTTP_COOKIE",
    "HTTP_AUTHORIZATION",
    "HTTP_ACCEPT_ENCODING",
    "HTTP_HX_REQUEST",
    "HTTP_HX_HISTORY_RESTORE_REQUEST",
)


def mark_cacheable() -> None:
    request.environ[ENVIRON_FLAG] = True


class ResponseCache:
    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], database: str) -> None:
        self.wsgi_app = wsgi_app
        self.database = database
        self._items: OrderedDict[tuple, tuple[str, list[tuple[str, str]], bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("REQUEST_METHOD") != "GET" or (
            # Conditional requests go to Flask, which answers 304.
            "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
        ):
            return self.wsgi_app(environ, start_response)
        generation = self._generation()
        key = (generation, *(environ.get(name) for name in KEY))
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
        if hit is not None:
            status, headers, body = hit
            environ["webreader.cached"] = True
            start_response(status, list(headers))
            return [body]

        seen: dict[str, Any] = {}

        def keeping_start_response(status: str, headers: list[tuple[str, str]], *exc_info):
            seen.update(status=status, headers=headers)
            return start_response(status, headers, *exc_info)

        result = self.wsgi_app(environ, keeping_start_response)
        if not (
            environ.get(ENVIRON_FLAG)
            and seen.get("status", "").startswith("200")
            and not any(name.lower() == "set-cookie" for name, _ in seen["headers"])
        ):
            return result
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        if self._generation() == generation:
            self._store(key, (seen["status"], list(seen["headers"]), body))
        return [body]

    def _generation(self) -> tuple:
        """The library's generation, and the admin password's hash: a new password logs
        every session out, so no response made for an old login may be replayed."""
        db = thread_connection(self.database)
        return db.execute(
            "SELECT generation, (SELECT value FROM settings WHERE key = 'admin_password') "
            "FROM library_state"
        ).fetchone()

    def _store(self, key: tuple, entry: tuple[str, list[tuple[str, str]], bytes]) -> None:
        size = len(entry[2])
        if size > MAX_BYTES // 8:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = entry
            self._bytes += size
            while self._bytes > MAX_BYTES:
                self._bytes -= len(self._items.popitem(last=False)[1][2])

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
