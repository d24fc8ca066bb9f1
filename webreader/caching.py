"""What a response depends on, and the bounded caches that keep what was rendered.

One function, dependencies(), lists everything a page or fragment may depend on besides
its path: the library's state (its generation: every write to articles, and every ended
login, moves it on), the scheme, host and prefix its links are made for, the cookies read
(the login and the reading preferences), whether the request came from another site (it
then leaves no read mark), the htmx headers (fragment or page) and the accepted encodings.
Every cache key starts with it:

- the response cache (ResponseCache, WSGI, in front of Flask) replays a response byte for
  byte: key = dependencies + path + query;
- rendered() keeps pieces a page is built from (the sidebar's list, counts):
  key = dependencies + what the piece names.

A view that depends on anything else must not call mark_cacheable(). Caches are LRU and
bounded by bytes (cachetools); a response is kept only when it is a 200, sets no cookie and
its request did not change the library (the generation is the same before and after)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from threading import Lock
from typing import Any

from cachetools import LRUCache
from flask import Flask, current_app, request
from werkzeug.http import parse_cookie, parse_etags, unquote_etag

from webreader import articles, origins, preferences
from webreader.db import get_db, thread_connection

# The paths of the views that may call mark_cacheable() (reader.index, reader.article,
# reader.search_page): the cache steps aside for every other path (static files, /healthz,
# the login page) without touching the database. A regular expression, not the URL map:
# matching the map cost more than the rest of a replay.
CACHEABLE_PATHS = re.compile(r"/(?:|search|articles/\d+(?:/[^/]*)?)\Z")
RESPONSE_CACHE_BYTES = 16 * 1024 * 1024
RENDERED_CACHE_BYTES = 4 * 1024 * 1024
ENVIRON_FLAG = "webreader.cacheable"


def dependencies(environ: dict[str, Any], state: int, session_cookie: str) -> tuple:
    """Everything a response depends on besides its path and query."""
    cookies = parse_cookie(environ)
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    return (
        state,
        environ.get("wsgi.url_scheme"),
        host,
        environ.get("SCRIPT_NAME", ""),
        cookies.get(session_cookie),
        cookies.get(preferences.COOKIE),
        origins.is_cross_site(environ, host),
        environ.get("HTTP_HX_REQUEST"),
        environ.get("HTTP_HX_HISTORY_RESTORE_REQUEST"),
        environ.get("HTTP_ACCEPT_ENCODING"),
    )


class BoundedCache:
    """An LRU cache bounded by the bytes of its values, safe to share between threads."""

    def __init__(self, max_bytes: int, size_of: Callable[[Any], int]) -> None:
        self._items: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=size_of)
        self._size_of = size_of
        self._lock = Lock()

    def get(self, key: tuple) -> Any:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple, value: Any) -> None:
        if self._size_of(value) > self._items.maxsize // 8:
            return  # one huge value would push out everything else
        with self._lock:
            self._items[key] = value

    def __len__(self) -> int:
        return len(self._items)


def _html_size(value: Any) -> int:
    return len(value) if isinstance(value, bytes | str) else 64


def rendered(name: str, parts: tuple, render: Callable[[], Any]) -> Any:
    """A piece of a page, rendered once per dependencies() and parts."""
    cache: BoundedCache = current_app.extensions["webreader_rendered"]
    state = articles.get_generation(get_db())
    key = (
        dependencies(request.environ, state, current_app.config["SESSION_COOKIE_NAME"]),
        name,
        parts,
    )
    value = cache.get(key)
    if value is None:
        value = render()
        if articles.get_generation(get_db()) == state:
            cache.put(key, value)
    return value


def mark_cacheable() -> None:
    """Called by a view whose response depends on nothing but dependencies() and its URL."""
    request.environ[ENVIRON_FLAG] = True


Entry = tuple[str, list[tuple[str, str]], bytes]


class ResponseCache:
    """Replays responses without Flask (WSGI middleware): a revisit costs a dict lookup."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.database = app.config["DATABASE"]
        self.session_cookie = app.config["SESSION_COOKIE_NAME"]
        self.entries = BoundedCache(RESPONSE_CACHE_BYTES, lambda entry: len(entry[2]) + 512)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("REQUEST_METHOD") != "GET" or not self._cacheable_path(environ):
            return self.wsgi_app(environ, start_response)
        try:
            state = self._state()
        except Exception:  # a broken database: let the app answer (and say so)
            return self.wsgi_app(environ, start_response)
        key = (
            dependencies(environ, state, self.session_cookie),
            environ.get("PATH_INFO"),
            environ.get("QUERY_STRING"),
        )
        # This layer answers conditional requests itself, from the full response.
        if_none_match = environ.pop("HTTP_IF_NONE_MATCH", None)
        environ.pop("HTTP_IF_MODIFIED_SINCE", None)
        entry = self.entries.get(key)
        if entry is not None:
            environ["webreader.cached"] = True
        else:
            entry, result = self._render(environ, start_response, key, state)
            if entry is None:
                return result
        return _answer(entry, if_none_match, start_response)

    def _cacheable_path(self, environ: dict[str, Any]) -> bool:
        return CACHEABLE_PATHS.match(environ.get("PATH_INFO", "")) is not None

    def _state(self) -> int:
        return articles.get_generation(thread_connection(self.database))

    def _render(self, environ, start_response, key, state) -> tuple[Entry | None, Any]:
        """Flask's answer: as an entry when it may be kept, else passed through as it is."""
        seen: dict[str, Any] = {}

        def keeping_start_response(status: str, headers: list[tuple[str, str]], *exc_info):
            seen.update(status=status, headers=headers)
            if not _keepable(environ, status, headers):
                return start_response(status, headers, *exc_info)
            return lambda data: None  # never called: Flask returns its body

        result = self.wsgi_app(environ, keeping_start_response)
        if not _keepable(environ, seen.get("status", ""), seen.get("headers", [])):
            return None, result
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        entry = (seen["status"], list(seen["headers"]), body)
        if self._state() == state:  # the request changed nothing (no read mark)
            self.entries.put(key, entry)
        return entry, None


def _keepable(environ: dict[str, Any], status: str, headers: list[tuple[str, str]]) -> bool:
    return (
        bool(environ.get(ENVIRON_FLAG))
        and status.startswith("200")
        and not any(name.lower() == "set-cookie" for name, _ in headers)
    )


def _answer(entry: Entry, if_none_match: str | None, start_response: Callable[..., Any]):
    status, headers, body = entry
    if if_none_match:
        etag = next((value for name, value in headers if name.lower() == "etag"), None)
        if etag and parse_etags(if_none_match).contains_weak(unquote_etag(etag)[0]):
            kept = [(n, v) for n, v in headers if n.lower() not in _NOT_IN_304]
            start_response("304 NOT MODIFIED", kept)
            return []
    start_response(status, list(headers))
    return [body]


_NOT_IN_304 = {"content-length", "content-type", "content-encoding"}


def init_app(app: Flask) -> None:
    app.extensions["webreader_rendered"] = BoundedCache(RENDERED_CACHE_BYTES, _html_size)
