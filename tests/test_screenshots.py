"""The README's screenshots come from one command that works."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_screenshot_command_makes_every_picture_the_readme_shows(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "docs" / "screenshots.py"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    made = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(made) == 8
    for name in made:
        assert f"docs/screenshots/{name}" in readme
        assert (ROOT / "docs" / "screenshots" / name).is_file()
        width, height = png_size(tmp_path / name)
        assert (width, height) == ((1280, 800) if "desktop" in name else (390, 844))
