"""Fetching a URL for import: http(s) only, an honest User-Agent, a timeout, a size limit
and a bounded number of redirects. Every failure is an InvalidInput with a plain reason."""

from __future__ import annotations

import ipaddress
import socket
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


def resolve(host: str, port: int) -> set[str]:
    return {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}


def _refuse_private_addresses(request: httpx.Request) -> None:
    """For a server others can reach: no fetching of its own network (loopback, private
    ranges, link-local cloud metadata at 169.254.169.254), checked on every request of a
    redirect chain. The address is resolved here and again by the connection, so a DNS
    server that answers differently the second time could still slip through; a proxy
    that enforces the same rule closes that too."""
    host = request.url.host
    port = request.url.port or (443 if request.url.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        return  # the connection fails and says so
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            raise InvalidInput(
                f"{host} is an address on the server's own network ({ip}): not fetched"
            )


def fetch(
    url: str,
    *,
    timeout: float | None = None,
    max_bytes: int | None = None,
    public_only: bool = False,
) -> Fetched:
    """The body of a URL, or InvalidInput saying why not. public_only refuses addresses
    of the server's own network, redirects included."""
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
                event_hooks={"request": [_refuse_private_addresses] if public_only else []},
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
