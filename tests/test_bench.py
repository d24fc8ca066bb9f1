"""The benchmarks run, at smoke size, and print every figure (no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench(script: str, *args: str) -> str:
    """bench/SCRIPT run with args, as a reader of BENCHMARKS.md would: its output."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_benchmarks_run_at_smoke_size_and_print_their_table(tmp_path):
    report = tmp_path / "BENCH.md"
    out = bench(
        "run.py", "--articles", "300", "--duration", "1", "--dumps", "30", "--write", str(report)
    )
    for measure in [
        "Flask hello (baseline)",
        "first opens, articles never opened (htmx)",
        "plain Flask view",
        "article fragment (htmx)",
        "full page (newest 50)",
        "search as you type, 8 connections, each query new (htmx)",
        "search, queries asked before (htmx)",
        "Datasette row page",
        "Datasette row JSON",
    ]:
        row = next(line for line in out.splitlines() if line.startswith(f"| {measure}"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert re.fullmatch(r"[\d,]+", cells[1]), row  # requests/s
        assert cells[-1] == "0", row  # no failed requests
    for figure in [
        "first open of an article as a fragment",
        "first open of an article as a full page",
        "revisit of those fragments",
        "click on a new headline to its article's heading focused, in Chromium",
        "search as a reader types, one request after another",
        "search query alone",
        "import (`webreader import --jobs 1`)",
        "import with the command's defaults",
        "import stages, ms an article on one core",
        "peak memory",
        "headline click",
        "full page load",
    ]:
        assert figure in out
    assert "<!-- bench results -->" in report.read_text(encoding="utf-8")


def test_the_scale_table_runs_at_smoke_size_and_keeps_rows_of_other_runs(tmp_path):
    report = tmp_path / "BENCH.md"
    report.write_text(
        "# Benchmarks\n\nText before.\n\n<!-- bench results -->\n\nrun.py's table\n",
        encoding="utf-8",
    )

    def scale(*sizes: str) -> str:
        options = ["--libraries", str(tmp_path / "libs"), "--opens", "10", "--searches", "20"]
        bench("scale.py", "--sizes", *sizes, *options, "--write", str(report))
        return report.read_text(encoding="utf-8")

    scale("200", "400")
    text = scale("400")
    assert text.startswith("# Benchmarks\n\nText before.\n")
    rows = [line for line in text.splitlines() if re.match(r"\| [\d,]+ \|", line)]
    assert [row.split(" |")[0] for row in rows] == ["| 200", "| 400"]
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert all(re.fullmatch(r"[\d.]+ / [\d.]+", cell) for cell in cells[1:5]), row
        assert cells[5].endswith(" GB")
    assert "- 200 and 400: `python bench/scale.py --sizes 200 400" in text
    assert "- 400: `python bench/scale.py --sizes 400" in text
    # run.py rewrites what follows its marker: the scale table stands before it.
    assert text.index("<!-- scale results -->") < text.index("<!-- bench results -->")
    assert text.endswith("<!-- bench results -->\n\nrun.py's table\n")


def test_the_comparison_runs_against_a_checkout_at_smoke_size(tmp_path):
    library = tmp_path / "a.db"
    bench("generate.py", "--articles", "400", "--db", str(library))
    lines = bench("compare.py", str(ROOT), str(library), "now", "--duration", "1").splitlines()
    for name in ("first open, fragment", "first open, full page", "revisit", "search as typed"):
        line = next(line for line in lines if line.startswith(f"now | {name}"))
        assert re.search(r"\| [\d.]+ / [\d.]+ ms$", line), line
    assert any(re.match(r"now \| wrk, first opens \| [\d,]+/s, [\d.]+×", line) for line in lines)


def test_the_import_bench_prints_its_figures_at_smoke_size(tmp_path):
    report = tmp_path / "BENCH.md"
    report.write_text("# Benchmarks\n\nBefore.\n", encoding="utf-8")
    out = bench("importing.py", "--dumps", "60", "--stage-dumps", "20", "--write", str(report))
    assert re.search(r"on 60 generated dumps of [\d.]+ KB: \*\*\d+ s, [\d,]+ articles/s", out)
    assert re.search(r"peak RSS \d+ MB", out)
    tenths = re.search(r"as the library grows: ([\d, ]+)\.", out).group(1).split(", ")
    assert len(tenths) == 10
    stages = re.findall(r"^\| (.+?) \| ([\d.]+) \|$", out, re.MULTILINE)
    assert len(stages) >= 9 and any(name.startswith("write") for name, _ in stages)
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nBefore.\n") and "<!-- import results -->" in text


def test_the_api_bench_prints_each_call_at_smoke_size(tmp_path):
    report = tmp_path / "BENCH.md"
    report.write_text("# Benchmarks\n\nBefore.\n", encoding="utf-8")
    out = bench("api.py", "--articles", "200", "--repeat", "3", "--write", str(report))
    rows = re.findall(r"^\| (.+?) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", out, re.M)
    names = [name for name, *_ in rows]
    assert "Miniflux: unread, 100 newest" in names and "Fever: 50 items" in names
    assert all(float(server_p50) > 0 for *_, server_p50 in rows)  # the access log's times
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nBefore.\n") and "<!-- api results -->" in text
