"""What a response depends on, and the bounded caches that keep what was rendered.

One function, dependencies(), lists everything a page or fragment may depend on besides
its path: the library's state (its generation: every write to articles, and every ended
login, moves it on), the scheme, host and prefix its links are made for, the cookies (the
login and the reading preferences are read), whether the reader made the request (another
site's, or an <img>'s, leaves no read mark), the htmx headers (fragment or page) and the
accepted encodings.
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
import sqlite3
import time
from collections.abc import Callable, Iterable
from threading import Lock
from typing import Any

from cachetools import LRUCache
from flask import Flask, current_app, request
from werkzeug.http import parse_etags, unquote_etag

from webreader import articles, auth, origins
from webreader.db import get_db, thread_connection, without_waiting

# The paths of the views that may call mark_cacheable() (reader.index, reader.article,
# reader.search_page): the cache steps aside for every other path (static files, /healthz,
# the login page) without touching the database. A regular expression, not the URL map:
# matching the map cost more than the rest of a replay.
CACHEABLE_PATHS = re.compile(r"/(?:|search|articles/\d+(?:/[^/]*)?)\Z")
RESPONSE_CACHE_BYTES = 16 * 1024 * 1024
RENDERED_CACHE_BYTES = 4 * 1024 * 1024
ENVIRON_FLAG = "webreader.cacheable"
# What an entry costs besides its key and value (the LRU's bookkeeping, the tuples), so that
# many empty values are bounded too; and the longest key kept (cookies and query strings
# beyond it are a client's doing: such requests are answered, not kept).
ENTRY_OVERHEAD = 512
MAX_KEY_BYTES = 4096


def dependencies(environ: dict[str, Any], state: int) -> tuple:
    """Everything a response depends on besides its path and query."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    return (
        state,
        environ.get("wsgi.url_scheme"),
        host,
        environ.get("SCRIPT_NAME", ""),
        # The whole header, not the two cookies read (the login, the preferences): all that
        # Flask could see, and parsing it cost a third of a replay. Other cookies of the
        # same host only make more keys, which the byte bound holds.
        environ.get("HTTP_COOKIE"),
        origins.is_passive(environ, host),
        environ.get("HTTP_HX_REQUEST"),
        environ.get("HTTP_HX_HISTORY_RESTORE_REQUEST"),
        environ.get("HTTP_ACCEPT_ENCODING"),
    )


class BoundedCache:
    """An LRU cache bounded by the bytes of its entries, keys included (a key holds request
    headers a client chooses), safe to share between threads."""

    def __init__(self, max_bytes: int, size_of: Callable[[Any], int]) -> None:
        self._items: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=lambda entry: entry[0])
        self._size_of = size_of
        self._lock = Lock()

    def get(self, key: tuple) -> Any:
        with self._lock:
            entry = self._items.get(key)
        return None if entry is None else entry[1]

    def put(self, key: tuple, value: Any) -> None:
        key_size = len(repr(key))
        size = ENTRY_OVERHEAD + key_size + self._size_of(value)
        if key_size > MAX_KEY_BYTES or size > self._items.maxsize // 8:
            return  # an odd request, or one huge value that would push out everything else
        with self._lock:
            self._items[key] = (size, value)

    def __len__(self) -> int:
        return len(self._items)


def _html_size(value: Any) -> int:
    """Rendered HTML, or a count or a list of source names."""
    if isinstance(value, bytes | str):
        return len(value)
    if isinstance(value, list):
        return sum(len(str(item)) + 64 for item in value)
    return 0


def rendered(name: str, parts: tuple, render: Callable[[], Any]) -> Any:
    """A piece of a page, rendered once per dependencies() and parts."""
    cache: BoundedCache = current_app.extensions["webreader_rendered"]
    state = articles.get_generation(get_db())
    key = (
        dependencies(request.environ, state),
        name,
        parts,
    )
    value = cache.get(key)
    if value is None:
        value = render()
        if articles.get_generation(get_db()) == state:
            cache.put(key, value)
    return value


def kept(name: str, key: tuple, render: Callable[[], Any]) -> Any:
    """A piece of a page that depends on `key` alone, whatever else the library holds: kept
    under it across generations (a headline, under its row and its link's parameters)."""
    cache: BoundedCache = current_app.extensions["webreader_rendered"]
    value = cache.get((name, key))
    if value is None:
        value = render()
        cache.put((name, key), value)
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
        self.session_lifetime = app.permanent_session_lifetime.total_seconds()
        self.entries = BoundedCache(RESPONSE_CACHE_BYTES, _entry_size)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("REQUEST_METHOD") != "GET" or not self._cacheable_path(environ):
            return self.wsgi_app(environ, start_response)
        try:
            state = self._state()
        except sqlite3.Error:  # let the app answer (and say so)
            return self.wsgi_app(environ, start_response)
        key = (
            dependencies(environ, state),
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
        """The generation. Raises sqlite3.Error when it cannot be known: a broken database,
        or an expired login that cannot be ended now (an import holds the write lock; this
        never waits for it), and the request then goes to Flask uncached."""
        db = thread_connection(self.database)
        generation, oldest_login = articles.get_cache_state(db)
        if oldest_login is not None and oldest_login < time.time() - self.session_lifetime:
            with without_waiting(db):
                auth.end_expired_sessions(db, self.session_lifetime)
            generation, _ = articles.get_cache_state(db)
        return generation

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
        try:
            unchanged = self._state() == state  # the request changed nothing (no read mark)
        except sqlite3.Error:
            unchanged = False
        if unchanged:
            self.entries.put(key, entry)
        return entry, None


def _entry_size(entry: Entry) -> int:
    _status, headers, body = entry
    return len(body) + sum(len(name) + len(value) for name, value in headers)


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
