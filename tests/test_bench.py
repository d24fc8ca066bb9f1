"""The benchmarks run, at smoke size, and print every figure (no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_run_at_smoke_size_and_print_their_table(tmp_path):
    report = tmp_path / "BENCH.md"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--articles",
            "300",
            "--duration",
            "1",
            "--dumps",
            "30",
            "--write",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for measure in [
        "Flask hello (baseline)",
        "plain Flask view",
        "article fragment (htmx)",
        "full page (newest 50)",
        "search as you type (htmx)",
        "search, one reader typing (1 connection)",
        "Datasette row page",
        "Datasette row JSON",
    ]:
        row = next(line for line in out.splitlines() if line.startswith(f"| {measure}"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert re.fullmatch(r"[\d,]+", cells[1]), row  # requests/s
        assert cells[-1] == "0", row  # no failed requests
    for figure in [
        "search query alone",
        "import (parse",
        "bleach.clean alone",
        "peak memory",
        "headline click",
        "full page load",
    ]:
        assert figure in out
    assert "<!-- bench results -->" in report.read_text(encoding="utf-8")
