"""Fetching a URL for import: http(s) only, an honest User-Agent, a timeout, a size limit
and a bounded number of redirects. Every failure is an InvalidInput with a plain reason."""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import re
import socket
import time
import zlib
from dataclasses import dataclass

import httpx

from webreader import __version__
from webreader.importers.base import InvalidInput

USER_AGENT = f"webreader/{__version__} (self-hosted news reader; fetches pages its user asked for)"
TIMEOUT_SECONDS = 15.0  # for each step: connecting, and each read
TOTAL_SECONDS = 60.0  # for the whole answer: a server sending a byte a second is cut off
# The encodings webreader unpacks itself, with a bound on what comes out: a 3 KB brotli body
# can unpack to gigabytes, and httpx would unpack each piece whole before any size check.
ACCEPT_ENCODING = "gzip, deflate"
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
# Longer than any page's address; servers commonly refuse beyond 8 KB.
MAX_URL_LENGTH = 8192
_SCHEME_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# A host name's labels: letters (any script), digits, hyphens, underscores.
_LABEL = re.compile(r"[\w-]{1,63}")


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str  # media type only, lower case
    data: bytes
    status: int = 200  # or 304: not modified since the validators sent (data is empty)
    etag: str | None = None
    last_modified: str | None = None
    moved_permanently: bool = False  # every redirect on the way was 301 or 308
    redirected: bool = False  # by any redirect, temporary or not


class HTTPStatusError(InvalidInput):
    """The server answered with an error status; retry_after is its Retry-After in seconds."""

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


# A Retry-After further away than this is taken as this (a week): a typo is not a ban.
MAX_RETRY_AFTER = 7 * 24 * 3600


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _conditional(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:g} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def is_url(value: str) -> bool:
    """Whether a command-line argument is an address (scheme://...) rather than a path."""
    return _SCHEME_URL.match(value) is not None


def check_url(url: str) -> httpx.URL:
    """The URL, parsed, if it is one webreader fetches; else InvalidInput saying why.

    Refused: other schemes, malformed addresses, a user name or password (a news page asks
    for none, and the address is stored and shown), ports out of range, and IP addresses
    written any other way than a.b.c.d or [IPv6]: 0177.0.0.1 (octal), 0x7f.1 and 2130706433
    are 127.0.0.1 to browsers and to the system's resolver but not to every check or
    proxy, and an IPv6 zone (%eth0) names one of the server's own network interfaces."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"the address is longer than {MAX_URL_LENGTH:,} characters")
    scheme = url.split("://", 1)[0].lower() if "://" in url else None
    if scheme is None or not _SCHEME_URL.match(url):
        raise InvalidInput(
            "only http and https URLs can be imported: this is not one (no http:// or https://)"
        )
    if scheme not in ("http", "https"):
        raise InvalidInput(f"only http and https URLs can be imported, not {scheme}:")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise InvalidInput(f"not a valid address: {exc}") from None
    _check_host(parsed)
    return parsed


def _check_host(url: httpx.URL) -> None:
    try:
        host = url.host
    except UnicodeError:  # an xn-- label that is not IDNA
        shown = url.raw_host.decode("ascii", "replace")
        raise InvalidInput(f"{shown} is not a valid host name") from None
    if not host:
        raise InvalidInput("the address has no host name")
    if url.userinfo:
        raise InvalidInput("addresses with a user name or password are not fetched")
    if url.port is not None and not 0 < url.port < 65536:
        raise InvalidInput(f"port {url.port} is not one (ports go from 1 to 65535)")
    if ":" in host:  # IPv6, which httpx has checked
        if "%" in host:
            raise InvalidInput(f"[{host}] names a network interface of the server: not fetched")
        return
    labels = host.removesuffix(".").split(".")
    last = labels[-1].lower()
    if last.isdigit() or (last.startswith("0x") and _is_hex(last[2:])):
        # Ends in a number: an IPv4 address to browsers; only the usual spelling is taken.
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise InvalidInput(
                f"{host} is an IP address written in a form we do not read: write it as "
                "four numbers from 0 to 255, like 192.0.2.1"
            ) from None
        return
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidInput(f"{host} is not a valid host name")


def _is_hex(digits: str) -> bool:
    return all(c in "0123456789abcdef" for c in digits)


def resolve(host: str, port: int) -> set[str]:
    return {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}


def _check_redirect(request: httpx.Request) -> None:
    """Every address of a redirect chain is held to check_url's rules, not only the first."""
    _check_host(request.url)


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
        if not all(_is_public(each) for each in (ip, *_embedded_ipv4(ip))):
            raise InvalidInput(
                f"{host} is an address on the server's own network ({ip}): not fetched"
            )


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: the IPv4 is in the low bits
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 IPv4-translated


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Global, and none of what the standard library still counts as global: site-local
    IPv6 (fec0::/10, deprecated but routable inside a site) and multicast."""
    return ip.is_global and not ip.is_multicast and not getattr(ip, "is_site_local", False)


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list:
    """The IPv4 address an IPv6 one carries (IPv4-compatible ::a.b.c.d, NAT64, 6to4), which
    the standard library counts as global whatever it is: ::127.0.0.1, 64:ff9b::7f00:1."""
    if ip.version == 4:
        return []
    embedded = [ip.ipv4_mapped, ip.sixtofour]
    if ip in _NAT64 or ip in _LOCAL_NAT64 or ip in _TRANSLATED or int(ip) >> 32 == 0:
        embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in embedded if address is not None]


class _Unpacker:
    """A body as the server encoded it, unpacked piece by piece and never beyond max_bytes
    (zlib's max_length bounds each step's output, whatever the input's ratio)."""

    def __init__(self, encoding: str, max_bytes: int) -> None:
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise InvalidInput(f"the server sent an encoding webreader does not read ({encoding})")
        self.coding = codings[0] if codings else None
        self.max_bytes = max_bytes
        self.parts: list[bytes] = []
        self.size = 0
        self.inflate = None
        if self.coding in ("gzip", "x-gzip"):
            self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.raw_deflate = False
        self.fed = False  # an empty body is empty, whatever its encoding

    def feed(self, data: bytes) -> None:
        self.fed = self.fed or bool(data)
        if self.coding is None:
            self._keep(data)
            return
        if self.inflate is None:  # deflate: zlib-wrapped as the standard says, or raw as some send
            self.raw_deflate = (data[:1] and (data[0] & 0x0F) != 8) or False
            self.inflate = zlib.decompressobj(
                -zlib.MAX_WBITS if self.raw_deflate else zlib.MAX_WBITS
            )
        try:
            while data:
                room = self.max_bytes - self.size + 1
                self._keep(self.inflate.decompress(data, room))
                data = self.inflate.unconsumed_tail
        except zlib.error as exc:
            raise InvalidInput(f"the server's {self.coding} data is damaged: {exc}") from None

    def finish(self) -> bytes:
        if self.inflate is not None:
            try:
                self._keep(self.inflate.flush())
            except zlib.error as exc:
                raise InvalidInput(f"the server's {self.coding} data is damaged: {exc}") from None
            if self.fed and not self.inflate.eof:
                raise InvalidInput(f"the server's {self.coding} data is damaged: it stops short")
        return b"".join(self.parts)

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise InvalidInput(f"larger than the {_size(self.max_bytes)} limit")
        self.parts.append(data)


def fetch(
    url: str,
    *,
    timeout: float | None = None,
    max_bytes: int | None = None,
    public_only: bool = False,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """The body of a URL, or InvalidInput saying why not (HTTPStatusError for an error
    status). public_only refuses addresses of the server's own network, redirects
    included. With the validators of an earlier answer (etag, last_modified) the request is
    conditional, and an unchanged resource comes back as status 304 with no data."""
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    parsed = check_url(url)
    hooks = [_check_redirect, *([_refuse_private_addresses] if public_only else [])]
    try:
        with (
            httpx.Client(
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=timeout,
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
                event_hooks={"request": hooks},
            ) as client,
            client.stream("GET", parsed, headers=_conditional(etag, last_modified)) as response,
        ):
            permanent = all(r.status_code in (301, 308) for r in response.history)
            validators = {
                "etag": response.headers.get("ETag"),
                "last_modified": response.headers.get("Last-Modified"),
                "moved_permanently": bool(response.history) and permanent,
                "redirected": bool(response.history),
            }
            if response.status_code == 304:
                return Fetched(str(response.url), "", b"", status=304, **validators)
            if response.status_code >= 400:
                raise HTTPStatusError(
                    f"the server answered {response.status_code} {response.reason_phrase}",
                    response.status_code,
                    retry_after_seconds(response.headers.get("Retry-After")),
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise InvalidInput(f"larger than the {_size(max_bytes)} limit")
            unpack = _Unpacker(response.headers.get("Content-Encoding", ""), max_bytes)
            deadline = time.monotonic() + TOTAL_SECONDS
            for chunk in response.iter_raw():
                unpack.feed(chunk)
                if time.monotonic() > deadline:
                    raise InvalidInput(f"the answer took longer than {TOTAL_SECONDS:g} seconds")
            body = unpack.finish()
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            return Fetched(str(response.url), media_type, body, **validators)
    except httpx.TooManyRedirects as exc:
        raise InvalidInput(f"more than {MAX_REDIRECTS} redirects") from exc
    except httpx.TimeoutException as exc:
        raise InvalidInput(f"no answer within {timeout:g} seconds") from exc
    except httpx.UnsupportedProtocol as exc:
        raise InvalidInput("redirected to an address that is not http or https") from exc
    except httpx.HTTPError as exc:
        raise InvalidInput(f"cannot fetch it: {exc}") from exc
    except (httpx.InvalidURL, httpx.StreamError, UnicodeError) as exc:  # none expected
        raise InvalidInput(f"cannot fetch it: {exc}") from exc
