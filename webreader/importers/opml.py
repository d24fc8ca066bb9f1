"""OPML: the list of subscriptions feed readers trade. `webreader import x.opml` subscribes
to every feed in it, each under its folder (the outline it sits in); `webreader export
--format opml` writes them back the same way."""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import quoteattr

from lxml import etree

from webreader.importers.base import InvalidInput

# No entities resolved, nothing fetched, no tree larger than libxml2's default limits.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
MAX_FEEDS = 5000  # more than any reader's list; a file beyond it is refused whole
MAX_NAME_CHARS = 300  # a title or a folder's name


def looks_like_opml(data: bytes) -> bool:
    """An XML document whose root is <opml> (a text that only mentions it is not one)."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<opml", b"<!--")) and b"<opml" in head


def parse_opml(data: bytes) -> list[dict[str, str | None]]:
    """The feeds of an OPML file: url, title and folder (None outside any), in order."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"not an OPML file we can read: {exc}") from None
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise InvalidInput("not an OPML file: no <opml> with a <body>")
    feeds: list[dict[str, str | None]] = []

    def walk(outline: etree._Element, folder: str | None) -> None:
        for child in outline.iterchildren("outline"):
            url = (child.get("xmlUrl") or "").strip()
            title = (child.get("title") or child.get("text") or "").strip()[:MAX_NAME_CHARS]
            title = title or None
            if url:
                if len(feeds) == MAX_FEEDS:
                    raise InvalidInput(f"the OPML file names more than {MAX_FEEDS:,} feeds")
                feeds.append({"url": url, "title": title, "folder": folder})
            else:
                walk(child, title or folder)

    walk(body, None)
    if not feeds:
        raise InvalidInput("the OPML file names no feed (no outline with an xmlUrl)")
    return feeds


def to_opml(subscriptions: Iterable[dict], title: str = "webreader subscriptions") -> str:
    """Subscriptions as OPML 2.0, each folder an outline holding its feeds."""
    folders: dict[str | None, list[dict]] = {}
    for row in subscriptions:
        folders.setdefault(row.get("folder"), []).append(row)

    def feed(row: dict, indent: str) -> str:
        name = quoteattr(row.get("title") or row["url"])
        return (
            f'{indent}<outline type="rss" text={name} title={name} xmlUrl={quoteattr(row["url"])}/>'
        )

    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{quoteattr(title)[1:-1]}</title></head>",
        "  <body>",
    ]
    for folder, rows in folders.items():
        if folder is None:
            lines.extend(feed(row, "    ") for row in rows)
            continue
        lines.append(f"    <outline text={quoteattr(folder)} title={quoteattr(folder)}>")
        lines.extend(feed(row, "      ") for row in rows)
        lines.append("    </outline>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)
