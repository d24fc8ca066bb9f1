"""Fetching a URL for import: http(s) only, an honest User-Agent, a timeout, a size limit
and a bounded number of redirects. Every failure is an InvalidInput with a plain reason."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from webreader import __version__
from webreader.importers.base import InvalidInput

USER_AGENT = f"webreader/{__version__} (self-hosted news reader; fetches pages its user asked for)"
TIMEOUT_SECONDS = 15.0
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str  # media type only, lower case
    data: bytes


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:g} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def is_url(value: str) -> bool:
    return "://" in value


def fetch(url: str, *, timeout: float | None = None, max_bytes: int | None = None) -> Fetched:
    """The body of a URL, or InvalidInput saying why not."""
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise InvalidInput(f"only http and https URLs can be imported, not {scheme}:")
    try:
        with (
            httpx.Client(
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=timeout,
                headers={"User-Agent": USER_AGENT},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise InvalidInput(f"the server answered {response.status_code} "
                                   f"{response.reason_phrase}")  # fmt: skip
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise InvalidInput(f"larger than the {_size(max_bytes)} limit")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise InvalidInput(f"larger than the {_size(max_bytes)} limit")
                chunks.append(chunk)
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            return Fetched(str(response.url), media_type, b"".join(chunks))
    except httpx.TooManyRedirects as exc:
        raise InvalidInput(f"more than {MAX_REDIRECTS} redirects") from exc
    except httpx.TimeoutException as exc:
        raise InvalidInput(f"no answer within {timeout:g} seconds") from exc
    except httpx.UnsupportedProtocol as exc:
        raise InvalidInput("redirected to an address that is not http or https") from exc
    except httpx.HTTPError as exc:
        raise InvalidInput(f"cannot fetch it: {exc}") from exc
