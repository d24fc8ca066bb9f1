"""The reader's measures against the code of any checkout, for before/after comparisons in
one session (same machine, same moment, same library):

    git worktree add /tmp/before 028258a
    cp /tmp/libs/100000.db /tmp/a.db && python bench/compare.py /tmp/before /tmp/a.db before
    cp /tmp/libs/100000.db /tmp/b.db && python bench/compare.py . /tmp/b.db after

It serves LIBRARY with the webreader of TREE (`python -m webreader` run in TREE) and prints
first opens (fragment, full page), revisits and typed searches, one after another, as
server time from the access log (p50 / p99), and a wrk load of first opens against Flask
hello. Opening articles marks them read: give it a copy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import measures  # noqa: E402
from measures import (  # noqa: E402
    THREADS,
    Server,
    fetch,
    load,
    search_paths,
    timed,
    typed_queries,
    unread_paths,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", type=Path, help="a checkout of webreader")
    parser.add_argument("library", type=Path, help="a copy of a generated library")
    parser.add_argument("label")
    parser.add_argument("--duration", type=float, default=10)
    args = parser.parse_args(argv)
    measures.ROOT = args.tree.resolve()  # servers start there: its webreader is imported
    command = [sys.executable, "-m", "webreader", "serve", "--db", str(args.library)]
    reader = Server([*command, "--port", "0", "--threads", str(THREADS)])
    hello = Server([sys.executable, str(HERE / "hello.py"), "--threads", str(THREADS)])
    try:
        htmx = {"HX-Request": "true"}
        new = unread_paths(args.library, 0, 300 + 20_000)
        fragments, pages, never_opened = new[:150], new[150:300], new[300:]
        results = {
            "first open, fragment": timed(reader, fragments, htmx)["server"],
            "first open, full page": timed(reader, pages, {})["server"],
        }
        for path in fragments:  # rendered again once: the library changed since
            fetch(reader.url + path, htmx)
        results["revisit, fragment"] = timed(reader, fragments, htmx)["server"]
        typed = search_paths(typed_queries(400, seed=11))
        results["search as typed"] = timed(reader, typed, htmx)["server"]
        base = load(hello.url, ["/"], args.duration)
        firsts = load(reader.url, never_opened, args.duration, htmx)
    finally:
        reader.stop()
        hello.stop()
    for name, times in results.items():
        print(f"{args.label} | {name} | {times['p50']:.1f} / {times['p99']:.1f} ms")
    print(
        f"{args.label} | wrk, first opens | {firsts['rps']:.0f}/s, "
        f"{firsts['rps'] / base['rps']:.2f}× Flask hello ({base['rps']:.0f}/s); "
        f"{firsts['requests']:,} requests over {len(never_opened):,} articles never opened"
    )


if __name__ == "__main__":
    main()
