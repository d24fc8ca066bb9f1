"""Import speed as a user feels it: `webreader import` with its defaults on a folder of
generated dumps (about 6 KB of HTML each), end to end, and where each millisecond of an
article goes.

    python bench/importing.py [--dumps 100000] [--folder DUMPS] [--write BENCHMARKS.md]

The command runs in a child process: wall time, articles/s over each tenth of the folder
(the cost as the library grows), and its peak RSS (workers included). The stages are timed
apart, in this process on one core, over the first --stage-dumps of the same files.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import generate  # noqa: E402

BEGIN = "<!-- import results -->"
END = "<!-- end of import results -->"


def stages(paths: list[Path]) -> dict[str, float]:
    """Milliseconds an article spends in each stage of an import, one core, in order. The
    importer's own functions run as an import runs them; those called inside another stage
    (language detection in the parser; bleach and the paragraphs in finish()) are timed
    where they are called, and their time is taken out of the stage around them."""
    from webreader import duplicates, stems
    from webreader.db import open_db
    from webreader.importers import pipeline, textdump
    from webreader.importers.base import decode_text
    from webreader.importers.textdump import load_rules, parse_dump

    inner = dict.fromkeys(["language", "sanitize", "paragraphs"], 0.0)

    def timed(name, function):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                inner[name] += time.perf_counter() - started

        return run

    patches = [
        (textdump, "detect_language", "language"),
        (pipeline, "clean_html", "sanitize"),
        (pipeline.articles, "derived_columns", "paragraphs"),
    ]
    originals = [getattr(module, name) for module, name, _ in patches]
    for module, name, label in patches:
        setattr(module, name, timed(label, getattr(module, name)))
    rules = load_rules()
    read = parse = finish = sign = stem = 0.0
    prepared = []
    try:
        for path in paths:
            t0 = time.perf_counter()
            text, _ = decode_text(path.read_bytes())
            t1 = time.perf_counter()
            draft = parse_dump(text, rules)
            t2 = time.perf_counter()
            row = pipeline.finish(draft.article, str(path.resolve()))
            teasers = [pipeline.finish(t, str(path.resolve())) for t in draft.teasers]
            t3 = time.perf_counter()
            signature = duplicates.signature(row["text"])
            t4 = time.perf_counter()
            texts = [(r[c], r["lang"]) for r in [row, *teasers] for c in pipeline.INDEXED]
            worked = stems.work_out(texts)
            t5 = time.perf_counter()
            read, parse, finish = read + t1 - t0, parse + t2 - t1, finish + t3 - t2
            sign, stem = sign + t4 - t3, stem + t5 - t4
            title = draft.article["title"]
            ready = pipeline._Prepared(path, row, teasers, title, [], signature, worked)
            prepared.append((path, ready))
    finally:
        for (module, name, _), original in zip(patches, originals, strict=True):
            setattr(module, name, original)
    with tempfile.TemporaryDirectory() as work:
        db = open_db(Path(work) / "stages.db")
        started = time.perf_counter()
        batch = pipeline.FILES_PER_TRANSACTION
        for first in range(0, len(prepared), batch):
            list(pipeline._store_together(db, prepared[first : first + batch]))
        write = time.perf_counter() - started
        db.close()
    spent = {
        "read and decode the file": read,
        "parse the dump (language detection apart)": parse - inner["language"],
        "language detection (CLD2)": inner["language"],
        "sanitize (bleach, with webreader's limits)": inner["sanitize"],
        "plain text, slug, address, content hash": finish - inner["sanitize"] - inner["paragraphs"],
        "paragraphs and word count (for boilerplate)": inner["paragraphs"],
        "MinHash signature (rensa)": sign,
        "stems and search terms (PyStemmer)": stem,
        "write: a transaction of 100 files (insert, FTS5, duplicates, counts)": write,
    }
    return {name: seconds * 1000 / len(paths) for name, seconds in spent.items()}


def command(folder: Path, db: Path, jobs: int | None = None) -> dict:
    """`webreader import --db DB FOLDER` as a user runs it: seconds, articles/s over each
    tenth of the files, peak RSS of the command and of its largest worker."""
    files = sum(1 for _ in folder.iterdir())
    argv = [sys.executable, "-m", "webreader", "import", "--db", str(db), str(folder)]
    if jobs:
        argv += ["--jobs", str(jobs)]
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    tenths, done, mark = [], 0, started
    step = max(files // 10, 1)
    for line in child.stdout:
        if line.startswith("imported: "):
            done += 1
            if done % step == 0:
                now = time.perf_counter()
                tenths.append(step / (now - mark))
                mark = now
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    assert status == 0 and done == files, f"imported {done} of {files} (status {status})"
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "files": files,
        "seconds": seconds,
        "rate": files / seconds,
        "tenths": tenths,
        "peak_mb": usage.ru_maxrss / 1024,
        "largest_child_mb": workers / 1024,
    }


def report(dumps: int, stage_ms: dict[str, float], run: dict, kb: float) -> str:
    jobs = os.cpu_count()
    total = sum(stage_ms.values())
    lines = [
        f"`webreader import` with its defaults ({jobs} worker processes on {jobs} cores) on "
        f"{dumps:,} generated dumps of {kb:.1f} KB: **{run['seconds']:,.0f} s, "
        f"{run['rate']:,.0f} articles/s** end to end (start-up included), peak RSS "
        f"{run['peak_mb']:.0f} MB.",
        "",
        "Articles/s over each tenth of the folder, as the library grows: "
        + ", ".join(f"{r:,.0f}" for r in run["tenths"])
        + ".",
        "",
        "| stage (one core, ms an article) | ms |",
        "|---|---:|",
        *[f"| {name} | {ms:.2f} |" for name, ms in stage_ms.items()],
        f"| **all stages** | **{total:.2f}** |",
    ]
    return "\n".join(lines)


def write_between_markers(path: Path, text: str, command_line: str) -> None:
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{BEGIN}\n\nMeasured by `{command_line}`.\n\n{text}\n\n{END}"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        current = head + block + rest.split(END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(current, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dumps", type=int, default=100_000)
    parser.add_argument("--stage-dumps", type=int, default=1000, help="dumps the stages time")
    parser.add_argument("--folder", type=Path, help="reuse (or fill) this folder of dumps")
    parser.add_argument("--write", type=Path, help="put the results in this Markdown file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="webreader-import-") as work:
        folder = args.folder or Path(work) / "dumps"
        if not folder.exists() or sum(1 for _ in folder.iterdir()) != args.dumps:
            generate.write_dumps(folder, args.dumps)
        paths = sorted(folder.iterdir())
        stage_ms = stages(paths[: args.stage_dumps])
        run = command(folder, Path(work) / "library.db")
        kb = sum(p.stat().st_size for p in paths[:1000]) / min(len(paths), 1000) / 1024
    text = report(args.dumps, stage_ms, run, kb)
    print(text)
    if args.write:
        shown = " ".join(argv if argv is not None else sys.argv[1:])
        write_between_markers(args.write, text, f"python bench/importing.py {shown}".strip())


if __name__ == "__main__":
    main()
