"""How well webreader finds the article in a saved web page: word F1 against hand-made answers.

Each page in tests/fixtures/extraction has a <name>.json beside it saying what a reader would
call the article: its headline and its body text (kind "article"), or that the page is a front
page or a list of links that must not be imported as one long article (kind "section").

    python bench/extraction.py                           # print the table
    python bench/extraction.py --write docs/EXTRACTION.md   # put it between the markers

Word F1 rather than exact match: a stray caption or a lost paragraph should cost in proportion
to its length, and precision and recall say which of the two went wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from webreader.importers.base import InvalidInput  # noqa: E402
from webreader.importers.htmlpage import parse_html  # noqa: E402
from webreader.sanitize import clean_html, html_to_text  # noqa: E402

DEFAULT = ROOT / "tests" / "fixtures" / "extraction"
BEGIN = "<!-- extraction results -->"
END = "<!-- end of extraction results -->"

# Chinese, Japanese and Korean are written without spaces: one character, one token, or a
# whole sentence would count as a single "word".
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


@dataclass
class Result:
    """One page's score; for a section page precision and recall repeat its 1.0 or 0.0."""

    name: str
    lang: str
    kind: str
    what: str
    precision: float
    recall: float
    f1: float
    title_ok: bool | None
    outcome: str


def tokens(text: str) -> list[str]:
    """Lowercased words, each CJK character on its own."""
    return _TOKEN.findall(text.lower())


def word_scores(got: str, expected: str) -> tuple[float, float, float]:
    """Precision, recall and F1 over the two texts' token multisets."""
    got_tokens, expected_tokens = Counter(tokens(got)), Counter(tokens(expected))
    common = sum((got_tokens & expected_tokens).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision = common / sum(got_tokens.values())
    recall = common / sum(expected_tokens.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def _same_title(a: str, b: str) -> bool:
    """Equal once case and runs of whitespace no longer differ."""
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def score_page(html_path: Path) -> Result:
    """Extract one page as webreader's importer would, and compare it with its answer."""
    answer = json.loads(html_path.with_suffix(".json").read_text(encoding="utf-8"))
    kind = answer["kind"]
    try:
        draft = parse_html(html_path.read_bytes())
    except InvalidInput:
        draft = None
    if draft is None:
        got_kind, text, title, outcome = "refused", "", "", "refused"
    else:
        got_kind = draft.article.get("kind", "article")
        text = html_to_text(clean_html(draft.article["html"]))
        title = draft.article.get("title") or ""
        outcome = (
            got_kind
            if got_kind != "article"
            else f"article of {len(tokens(text))} words, {draft.how}"
        )
    common = {"name": html_path.stem, "lang": answer["lang"], "kind": kind, "what": answer["what"]}
    if kind == "section":
        # Refusing the page or keeping it as teasers both spare the reader one huge "article".
        score = 0.0 if got_kind == "article" else 1.0
        return Result(
            **common, precision=score, recall=score, f1=score, title_ok=None, outcome=outcome
        )
    if got_kind != "article":
        return Result(**common, precision=0.0, recall=0.0, f1=0.0, title_ok=False, outcome=outcome)
    precision, recall, f1 = word_scores(text, answer["text"])
    return Result(
        **common,
        precision=precision,
        recall=recall,
        f1=f1,
        title_ok=_same_title(title, answer["title"]),
        outcome=outcome,
    )


def evaluate(folder: Path = DEFAULT) -> list[Result]:
    """Every page in the folder that has its answer beside it, by name."""
    pages = sorted(p for p in folder.glob("*.html") if p.with_suffix(".json").exists())
    return [score_page(page) for page in pages]


def summary(results: list[Result]) -> dict[str, float | int]:
    """Mean and minimum F1 over all pages (a section page counts its 1.0 or 0.0), and titles."""
    scores = [r.f1 for r in results]
    titled = [r for r in results if r.title_ok is not None]
    return {
        "pages": len(results),
        "mean_f1": statistics.fmean(scores) if scores else 0.0,
        "min_f1": min(scores, default=0.0),
        "titles_right": sum(1 for r in titled if r.title_ok),
        "titles": len(titled),
    }


def table(results: list[Result]) -> str:
    """A Markdown table by page name, then one line with the mean, minimum and titles."""
    lines = [
        "| page | language | kind | what | precision | recall | F1 | title |",
        "|---|---|---|---|---:|---:|---:|---|",
    ]
    for r in sorted(results, key=lambda r: r.name):
        title = "—" if r.title_ok is None else ("right" if r.title_ok else "wrong")
        kind = f"{r.kind} ({r.outcome})"
        what = r.what.replace("|", "\\|")
        lines.append(
            f"| {r.name} | {r.lang} | {kind} | {what} | {r.precision:.2f} | {r.recall:.2f} "
            f"| {r.f1:.2f} | {title} |"
        )
    s = summary(results)
    lines.append("")
    lines.append(
        f"Mean F1 {s['mean_f1']:.3f}, minimum {s['min_f1']:.3f} over {s['pages']} pages; "
        f"titles right: {s['titles_right']} of {s['titles']}."
    )
    return "\n".join(lines)


def write_results(path: Path, text: str) -> None:
    """Replace what is between the markers, so prose around the table survives a rerun."""
    if path.exists():
        current = path.read_text(encoding="utf-8")
    else:
        current = f"# Article extraction\n\n{BEGIN}\n{END}\n"
    if BEGIN not in current or END not in current:
        current = current.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT, help="pages and their answers")
    parser.add_argument("--write", type=Path, metavar="PATH", help="put the table in PATH")
    args = parser.parse_args(argv)
    results = table(evaluate(args.folder))
    if args.write:
        write_results(args.write, results)
        print(f"wrote {args.write}")
    else:
        print(results)


if __name__ == "__main__":
    main()
