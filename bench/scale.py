"""How webreader's cost grows with the library: for each size, the same measures of what a
reader feels, on a generated library of that many articles.

    python bench/scale.py --sizes 10000 100000 --libraries /tmp/libs --write BENCHMARKS.md
    python bench/scale.py --sizes 1000000 --libraries /tmp/libs --write BENCHMARKS.md

A library missing from --libraries is generated there (bench/generate.py; about 2 minutes
for 100,000 articles here, 40 for 1,000,000, 20 GB) and kept for later runs. A run opens
articles never opened before, which marks them read: each run opens others. Rows for sizes
not measured in this run stay in the table as they were, so the largest can be measured
alone. Server times come from webreader's access log; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import generate  # noqa: E402
from measures import (  # noqa: E402
    THREADS,
    Server,
    fetch,
    search_paths,
    timed,
    typed_queries,
    unread_paths,
)

MARKER = "<!-- scale results -->"
END = "<!-- end of scale results -->"
RUN_MARKER = "<!-- bench results -->"  # run.py's
HEADER = (
    "| articles | first open, fragment: p50 / p99 ms | revisit, fragment: p50 / p99 ms "
    "| first open, full page: p50 / p99 ms | search as typed, each query new: p50 / p99 ms "
    "| database |"
)


def measure(db_path: Path, opens: int, searches: int) -> dict:
    command = [sys.executable, "-m", "webreader", "serve", "--db", str(db_path)]
    reader = Server([*command, "--port", "0", "--threads", str(THREADS)])
    try:
        htmx = {"HX-Request": "true"}
        new = unread_paths(db_path, 0, 2 * opens)
        fragments, pages = new[:opens], new[opens:]
        first = timed(reader, fragments, htmx)
        for path in fragments:  # rendered again once: the library changed since
            fetch(reader.url + path, htmx)
        revisit = timed(reader, fragments, htmx)
        page = timed(reader, pages, {})
        search = timed(reader, search_paths(typed_queries(searches, seed=len(new))), htmx)
    finally:
        reader.stop()
    size = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))
    return {
        "first": first["server"],
        "revisit": revisit["server"],
        "page": page["server"],
        "search": search["server"],
        "bytes": size,
    }


def row(articles: int, result: dict) -> str:
    def cell(times: dict) -> str:
        return f"{times['p50']:.1f} / {times['p99']:.1f}"

    return (
        f"| {articles:,} | {cell(result['first'])} | {cell(result['revisit'])} | "
        f"{cell(result['page'])} | {cell(result['search'])} | "
        f"{result['bytes'] / 1e9:.2f} GB |"
    )


def write(path: Path, rows: dict[int, str], command: str) -> None:
    """The table under MARKER in path: rows measured now replace those of the same size;
    under it, the command and day each row was measured by."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if MARKER not in text and RUN_MARKER in text:
        # Before run.py's results: run.py rewrites everything after its marker.
        before, _, after = text.partition(RUN_MARKER)
        text = before + MARKER + END + "\n\n" + RUN_MARKER + after
    head, _, rest = text.partition(MARKER)
    table, _, tail = rest.partition(END)
    kept, runs = {}, []
    for line in table.splitlines():
        if line.startswith("| ") and not line.startswith("| articles"):
            kept[int(line[2:].split(" |")[0].replace(",", ""))] = line
        elif line.startswith("- ") and ": `" in line:
            sizes = {int(s.replace(",", "")) for s in line[2:].split(": `")[0].split(" and ")}
            if sizes - set(rows):
                runs.append(line)
    kept.update(rows)
    sizes = " and ".join(f"{size:,}" for size in sorted(rows))
    runs.append(f"- {sizes}: `{command}` ({time.strftime('%Y-%m-%d')})")
    body = [
        "",
        "",
        HEADER,
        "|---:|---:|---:|---:|---:|---:|",
        *[kept[size] for size in sorted(kept)],
        "",
        "Measured by:",
        "",
        *runs,
        "",
    ]
    path.write_text(head + MARKER + "\n".join(body) + END + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--libraries", type=Path, required=True, help="folder of libraries")
    parser.add_argument("--opens", type=int, default=100, help="first opens per size")
    parser.add_argument("--searches", type=int, default=300, help="typed queries per size")
    parser.add_argument("--write", type=Path, help="write the table into this Markdown file")
    args = parser.parse_args(argv)
    args.libraries.mkdir(parents=True, exist_ok=True)
    rows = {}
    print(HEADER)
    for size in args.sizes:
        db_path = args.libraries / f"{size}.db"
        if not db_path.exists():
            started = time.perf_counter()
            generate.write_library(db_path, size)
            print(f"(generated {size:,} articles in {time.perf_counter() - started:.0f} s)")
        opens = min(args.opens, size // 4)
        rows[size] = row(size, measure(db_path, opens, args.searches))
        print(rows[size], flush=True)
    if args.write:
        command = "python bench/scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write(args.write, rows, command)


if __name__ == "__main__":
    main()
