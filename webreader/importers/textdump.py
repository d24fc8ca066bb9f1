"""The text-dump format: a news page as a scraper saved it.

Title line
(the title again)
📅 2024-11-27
Body paragraphs, separated by blank lines; short lines are subheadings.
Calls to action and ads (see dump_rules.toml)
Ultimele stiri <source>
Headline / summary pairs: the site's latest headlines, stored as teasers.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webreader.importers.base import ArticleDraft, InvalidInput
from webreader.text import detect_language, title_key

DEFAULT_RULES = Path(__file__).with_name("dump_rules.toml")

MAX_TITLE_CHARS = 300
# A standalone line this short, without sentence-ending punctuation, is a subheading.
MAX_SUBHEADING_CHARS = 80
_SENTENCE_END = ".!?…:;,"
_CLOSING_MARKS = "\"'”»“)]"
_DATE_LINE = re.compile(r"^📅\s*(\d{4}-\d{2}-\d{2})$")
_LOOSE_DATE_LINE = re.compile(r"^📅")


class InvalidDump(InvalidInput):
    """The dump cannot be imported; the message says why, for a person."""


@dataclass(frozen=True)
class DumpRules:
    """What is not article text, read from TOML so that users can extend it."""

    drop: tuple[re.Pattern[str], ...]
    teasers: re.Pattern[str]
    sources: dict[str, str]

    def is_dropped(self, line: str) -> bool:
        return any(p.search(line) for p in self.drop)

    def source_name(self, raw: str) -> str:
        raw = raw.strip()
        return self.sources.get(raw.casefold(), raw)


def load_rules(*extra: Path) -> DumpRules:
    """The built-in rules plus those of each extra TOML file, in order."""
    drop: list[re.Pattern[str]] = []
    teasers: re.Pattern[str] | None = None
    sources: dict[str, str] = {}
    for path in (DEFAULT_RULES, *extra):
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            drop += [re.compile(rule["pattern"], re.IGNORECASE) for rule in data.get("drop", [])]
            if "teasers" in data:
                teasers = re.compile(data["teasers"]["pattern"], re.IGNORECASE)
            sources |= {k.casefold(): v for k, v in data.get("sources", {}).items()}
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, re.error) as exc:
            raise InvalidDump(f"cannot use rules file {path}: {exc}") from exc
    assert teasers is not None, "dump_rules.toml defines [teasers]"
    return DumpRules(tuple(drop), teasers, sources)


def _blocks(lines: list[str]) -> list[list[str]]:
    """Groups lines into paragraphs at blank lines."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _is_subheading(block: list[str]) -> bool:
    line = block[0]
    return (
        len(block) == 1
        and len(line) <= MAX_SUBHEADING_CHARS
        and line.rstrip(_CLOSING_MARKS)[-1:] not in _SENTENCE_END
    )


def parse_dump(text: str, rules: DumpRules) -> ArticleDraft:
    """Splits a dump into article fields and teasers; raises InvalidDump if it has no article."""
    lines = [line.strip() for line in text.splitlines()]
    warnings: list[str] = []
    position = 0

    def next_nonempty() -> int:
        i = position
        while i < len(lines) and not lines[i]:
            i += 1
        return i

    position = next_nonempty()
    if position == len(lines):
        raise InvalidDump("the file holds only whitespace")
    title = lines[position]
    if _LOOSE_DATE_LINE.match(title) or rules.is_dropped(title) or rules.teasers.match(title):
        raise InvalidDump(f"no title: the first line is {title[:60]!r}")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidDump(
            f"no title: the first line has {len(title)} characters "
            f"(a title has at most {MAX_TITLE_CHARS})"
        )
    position += 1
    position = next_nonempty()
    if position < len(lines) and lines[position] == title:
        position += 1

    published = None
    position = next_nonempty()
    if position < len(lines) and _LOOSE_DATE_LINE.match(lines[position]):
        match = _DATE_LINE.match(lines[position])
        try:
            published = dt.date.fromisoformat(match.group(1)).isoformat() if match else None
        except ValueError:
            published = None
        if published is None:
            warnings.append(f"impossible date {lines[position]!r}, stored as unknown")
        position += 1

    body_lines: list[str] = []
    teaser_lines: list[str] = []
    source = None
    for line in lines[position:]:
        marker = rules.teasers.match(line) if source is None else None
        if marker:
            source = rules.source_name(marker.group("source"))
            continue
        if rules.is_dropped(line):
            continue
        (teaser_lines if source is not None else body_lines).append(line)

    body = _blocks(body_lines)
    if not body:
        raise InvalidDump(f"no article text after the title {title[:60]!r}")

    parts = []
    for block in body:
        tag = "h2" if _is_subheading(block) else "p"
        parts.append(f"<{tag}>{html.escape(' '.join(block), quote=False)}</{tag}>")
    plain = "\n\n".join([title, *(" ".join(b) for b in body)])
    lang = detect_language(plain)

    article: dict[str, Any] = {
        "kind": "article",
        "title": title,
        "summary": None,
        "source": source,
        "lang": lang,
        "published": published,
        "html": "\n".join(parts),
    }
    parsed = ArticleDraft(article, warnings=warnings)
    key = title_key(title)
    for headline, summary in _teaser_pairs(_blocks(teaser_lines)):
        if title_key(headline) == key:
            article["summary"] = summary
            continue
        parsed.teasers.append(
            {
                "kind": "teaser",
                "title": headline,
                "summary": summary,
                "source": source,
                "lang": lang,
                "published": None,
                "html": "",
            }
        )
    return parsed


def _teaser_pairs(blocks: list[list[str]]) -> list[tuple[str, str | None]]:
    """(headline, summary) pairs: a headline paragraph followed by its summary paragraph,
    or one paragraph whose first line is the headline."""
    pairs: list[tuple[str, str | None]] = []
    headline = None
    for block in blocks:
        if headline is not None:
            pairs.append((headline, " ".join(block)))
            headline = None
        elif len(block) > 1:
            pairs.append((block[0], " ".join(block[1:])))
        else:
            headline = block[0]
    if headline is not None:
        pairs.append((headline, None))
    return pairs
