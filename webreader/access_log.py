"""A structured access log: one JSON object per request on the `webreader.access` logger
(stderr under `webreader serve`), for the tools that read logs as data."""

from __future__ import annotations

import json
import logging
import sys
import time

from flask import Flask, Response, g, request

logger = logging.getLogger("webreader.access")


def _start() -> None:
    g.request_started = time.perf_counter()


def _log(response: Response) -> Response:
    started = g.get("request_started")
    logger.info(
        json.dumps(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "remote": request.remote_addr,
                "method": request.method,
                "path": request.full_path if request.query_string else request.path,
                "status": response.status_code,
                # Static files are streamed: their length is in the header, not the body.
                "bytes": response.calculate_content_length() or response.content_length,
                "ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
                "htmx": request.headers.get("HX-Request") == "true",
            },
            ensure_ascii=False,
        )
    )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_log)


def log_to_stderr() -> None:
    """For `webreader serve`: the access log, one JSON line a request, on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
