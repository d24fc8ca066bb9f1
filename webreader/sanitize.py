"""The allowlist every article body passes through, as the last step before storing.

Article HTML is hostile until it has been through clean_html(). Only the tags and
attributes listed here survive; the content of script-like elements is dropped whole,
not kept as text (bleach's strip=True alone would keep it).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import bleach
from bleach import html5lib_shim

ALLOWED_TAGS = frozenset(
    {
        # text and structure
        "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
        "ul", "ol", "li", "dl", "dt", "dd",
        # emphasis
        "em", "strong", "b", "i", "u", "s", "small", "sub", "sup", "mark", "abbr", "cite", "q",
        # links, images, figures
        "a", "img", "figure", "figcaption",
        # simple tables
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip

# Elements removed together with everything inside them: their content is code,
# fallback markup or interface, never article text.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "template", "noscript", "noembed", "noframes", "xmp", "plaintext",
        "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
        "form", "button", "select", "textarea", "title", "head", "meta", "link", "base",
    }
)  # fmt: skip

ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
IMAGE_PROTOCOLS = frozenset({"http", "https"})
LINK_REL = "noopener noreferrer nofollow"

_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
_URL_ATTRIBUTES = {"href", "src", "cite"}
# How browsers read a URL: entities decoded, control characters and spaces ignored.
_URL_NOISE = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _url_scheme(value: str) -> str | None:
    match = _SCHEME.match(_URL_NOISE.sub("", html.unescape(value)))
    return match.group(1).lower() if match else None


def web_url(value: str | None) -> str | None:
    """The URL if it is an absolute http(s) one, else None: for URLs shown as links."""
    if value and _url_scheme(value) in IMAGE_PROTOCOLS:
        return value.strip()
    return None


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    if name not in _ATTRIBUTES.get(tag, ()):
        return False
    if name in _URL_ATTRIBUTES:
        # Absolute URLs only: a relative one would point into webreader itself.
        allowed = IMAGE_PROTOCOLS if tag == "img" else ALLOWED_PROTOCOLS
        return _url_scheme(value) in allowed
    return True


class _DropContent(html5lib_shim.Filter):
    """Removes DROPPED_WITH_CONTENT elements and their whole subtree from a token stream."""

    def __iter__(self):
        depth = 0
        for token in super().__iter__():
            kind = token["type"]
            name = token.get("name", "").lower()
            if name in DROPPED_WITH_CONTENT and kind in ("StartTag", "EndTag", "EmptyTag"):
                if kind == "StartTag":
                    depth += 1
                elif kind == "EndTag":
                    depth = max(depth - 1, 0)
                continue
            if depth == 0:
                yield token


class _LinkRel(html5lib_shim.Filter):
    """Gives every link rel="noopener noreferrer nofollow", whatever it said before."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                token["data"][(None, "rel")] = LINK_REL
            yield token


class _Cleaner(bleach.Cleaner):
    def __init__(self) -> None:
        super().__init__(
            tags=ALLOWED_TAGS,
            attributes=_allow_attribute,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[_LinkRel],
        )
        # The parser must know the dropped elements as elements (so that their
        # content is parsed as raw text and stays inside them) for _DropContent
        # to remove them; the sanitizer filter still allows only ALLOWED_TAGS.
        self.parser = html5lib_shim.BleachHTMLParser(
            tags=ALLOWED_TAGS | DROPPED_WITH_CONTENT,
            strip=True,
            consume_entities=False,
            namespaceHTMLElements=False,
        )
        walk = self.walker
        self.walker = lambda dom: _DropContent(walk(dom))


_cleaner = _Cleaner()


def clean_html(markup: str) -> str:
    """Sanitized HTML, safe to render with |safe.

    >>> clean_html('<p onclick="x()">Hi<script>alert(1)</script></p>')
    '<p>Hi</p>'
    """
    return _cleaner.clean(markup).strip()


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset(
        {"p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption", "tr",
         "dt", "dd", "caption", "br", "hr", "table"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The readable text of sanitized HTML, paragraphs separated by blank lines (for search)."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    paragraphs = (" ".join(p.split()) for p in "".join(parser.parts).split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)
