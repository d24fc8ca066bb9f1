"""`pip install .` (not editable) serves pages with templates and static files from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent


def test_installed_wheel_serves_pages_from_another_directory(tmp_path, serve, db_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    installed = target / "webreader"
    assert (installed / "templates" / "base.html").is_file()
    assert (installed / "static" / "style.css").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Only the installed copy can be imported: the checkout is not on the path.
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONSAFEPATH": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import webreader; print(webreader.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(target)

    server = serve(db_path, cwd=elsewhere, env=env)
    with urllib.request.urlopen(server.url + "/articles/1") as response:
        page = BeautifulSoup(response.read(), "html.parser")
    assert page.select_one("#article h1").get_text().startswith("Vladimir Putin")
    for asset in [s["src"] for s in page.find_all("script")] + [
        link["href"] for link in page.select("link[rel=stylesheet]")
    ]:
        with urllib.request.urlopen(server.url + asset) as response:
            assert response.status == 200
            assert len(response.read()) > 500
