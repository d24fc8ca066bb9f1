"""A structured access log: one JSON object per request on the `webreader.access` logger
(stderr under `webreader serve`), for the tools that read logs as data.

It wraps the whole WSGI application, so that it also sees the responses the response
cache answers without Flask."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

# Credentials some apps send in the query string (Fever's api_key): kept out of the log.
_SECRET = re.compile(r"(?i)\b(api_key|token|password)=[^&]*")
logger = logging.getLogger("webreader.access")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class AccessLog:
    def __init__(self, wsgi_app: WSGIApp) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if not logger.isEnabledFor(logging.INFO):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        seen: dict[str, Any] = {}

        def logging_start_response(status: str, headers: list[tuple[str, str]], *exc_info):
            seen["status"] = int(status[:3])
            seen["bytes"] = next(
                (int(v) for k, v in headers if k.lower() == "content-length" and v.isdigit()),
                None,
            )
            return start_response(status, headers, *exc_info)

        result = self.wsgi_app(environ, logging_start_response)
        path = _text(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        if environ.get("QUERY_STRING"):
            path += "?" + _SECRET.sub(r"\1=[hidden]", _text(environ["QUERY_STRING"]))
        logger.info(
            json.dumps(
                {
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "remote": environ.get("REMOTE_ADDR"),
                    "method": environ.get("REQUEST_METHOD"),
                    "path": path,
                    "status": seen.get("status"),
                    "bytes": seen.get("bytes"),
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "htmx": environ.get("HTTP_HX_REQUEST") == "true",
                    "cached": environ.get("webreader.cached", False),
                },
                ensure_ascii=False,
            )
        )
        return result


def _text(wsgi_string: str) -> str:
    """WSGI hands over the URL's bytes as latin-1 text; the log shows them as UTF-8."""
    return wsgi_string.encode("latin-1").decode("utf-8", "replace")


def log_to_stderr() -> None:
    """For `webreader serve`: the access log, one JSON line a request, on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
