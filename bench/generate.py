"""A synthetic library for benchmarks and tests: N articles of Romanian-looking text,
about 6 KB of HTML each, dated over three years, from a handful of sources.

    python bench/generate.py --articles 100000 --db /tmp/library.db
    python bench/generate.py --dumps 500 --out /tmp/dumps      # text dumps, for import

The words come from a word-level Markov chain trained on the sample dump, so the text has
the sample's vocabulary, diacritics (both ș and ş) and word frequencies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import itertools
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "stiri-protv-2024-11-27-putin-kazahstan.txt"
SOURCES = ["PRO TV", "Digi24", "HotNews", "Adevărul", "Agerpres", "G4Media"]
PARAGRAPHS = (10, 15)  # per article; with the sentence lengths below, about 6 KB of HTML
SENTENCES = (3, 5)
WORDS = (10, 24)


class Markov:
    def __init__(self, text: str, seed: int) -> None:
        self.random = random.Random(seed)
        words = re.findall(r"[\w\-%„”\"]+[.,;:!?]?", text)
        self.next: dict[str, list[str]] = defaultdict(list)
        for a, b in itertools.pairwise(words):
            self.next[a].append(b)
        self.starts = [w for w in words if w[:1].isupper()]

    def sentence(self) -> str:
        word = self.random.choice(self.starts)
        out = [word]
        for _ in range(self.random.randint(*WORDS)):
            word = self.random.choice(self.next.get(word) or self.starts)
            out.append(word)
        return " ".join(out).rstrip(",;:").rstrip(".") + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.random.randint(*SENTENCES)))

    def title(self) -> str:
        return self.sentence().rstrip(".")[:110]


def _sample_text() -> str:
    """The sample's article and teaser text, without its boilerplate and ads."""
    from webreader.importers.base import decode_text
    from webreader.importers.textdump import load_rules, parse_dump
    from webreader.sanitize import html_to_text

    parsed = parse_dump(decode_text(SAMPLE.read_bytes())[0], load_rules())
    parts = [html_to_text(parsed.article["html"])]
    parts += [f"{t['title']}. {t['summary']}" for t in parsed.teasers]
    return "\n".join(parts)


def articles(count: int, seed: int = 1):
    """Article rows, as webreader's importer would store them (html, text, hash...)."""
    from webreader.boilerplate import paragraphs as find_paragraphs
    from webreader.boilerplate import to_json
    from webreader.text import count_words, make_slug, title_key

    chain = Markov(_sample_text(), seed)
    start = dt.date(2022, 1, 1)
    for n in range(count):
        title = f"{chain.title()} ({n})"
        paragraphs = [chain.paragraph() for _ in range(chain.random.randint(*PARAGRAPHS))]
        body = "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
        published = start + dt.timedelta(days=chain.random.randrange(3 * 365))
        yield {
            "kind": "article",
            "title": title,
            "title_key": title_key(title),
            "slug": make_slug(title),
            "summary": paragraphs[0][:200],
            "source": chain.random.choice(SOURCES),
            "lang": "ro",
            "published": published.isoformat(),
            "html": body,
            "text": "\n\n".join(paragraphs),
            "paragraphs": to_json(find_paragraphs(body)),
            "words": count_words("\n\n".join(paragraphs)),
            "content_hash": hashlib.sha256(body.encode()).hexdigest(),
            "source_path": f"generated/{n}.txt",
            "imported_at": "2026-01-01T00:00:00+00:00",
            "updated_at": "2026-01-01T00:00:00+00:00",
        }


def write_library(db_path: Path, count: int, seed: int = 1) -> None:
    from webreader.db import open_db

    db = open_db(db_path)
    batch = []
    for row in articles(count, seed):
        batch.append(row)
        if len(batch) == 1000:
            with db.atomic():  # a transaction per batch keeps the WAL file small
                db["articles"].insert_all(batch)
            batch = []
    if batch:
        with db.atomic():
            db["articles"].insert_all(batch)
    db.execute("PRAGMA optimize")
    db.close()


def write_dumps(folder: Path, count: int, seed: int = 2) -> list[Path]:
    """Text dumps in the sample's format (title, date line, paragraphs)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, row in enumerate(articles(count, seed)):
        path = folder / f"dump-{n:06}.txt"
        path.write_text(
            f"{row['title']}\n\n{row['title']}\n📅 {row['published']}\n\n{row['text']}\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, help="articles to write into --db")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--dumps", type=int, help="text dumps to write into --out")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.articles:
        if not args.db:
            parser.error("--articles needs --db")
        write_library(args.db, args.articles, args.seed)
        print(f"{args.articles} articles in {args.db}")
    if args.dumps:
        if not args.out:
            parser.error("--dumps needs --out")
        write_dumps(args.out, args.dumps, args.seed)
        print(f"{args.dumps} dumps in {args.out}")
    if not (args.articles or args.dumps):
        parser.print_help(sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
