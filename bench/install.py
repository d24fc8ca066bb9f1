"""The weight of webreader: how long `pip install .` takes into a fresh environment, and how
large that environment is, with its largest packages.

    python bench/install.py [--cold]

--cold gives pip an empty cache, so that downloads count (what a first install costs);
without it pip may reuse wheels it has cached (what a reinstall or an upgrade costs).
The environment is made in a temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def size_mb(path: Path) -> float:
    """Bytes on disk (as `du` counts them) under path, in MB."""
    blocks = sum(p.lstat().st_blocks for p in path.rglob("*") if not p.is_symlink())
    return blocks * 512 / 1e6


def measure(cold: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as work:
        env = Path(work) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        command = [str(env / "bin/pip"), "install", "--quiet", "--disable-pip-version-check"]
        if cold:
            command += ["--cache-dir", str(Path(work) / "cache")]
        started = time.perf_counter()
        subprocess.run([*command, str(ROOT)], check=True)
        seconds = time.perf_counter() - started
        (site,) = (env / "lib").glob("python*/site-packages")
        packages = {p.name: size_mb(p) for p in site.iterdir() if p.is_dir()}
        return {
            "seconds": seconds,
            "total_mb": size_mb(env),
            "largest": sorted(packages.items(), key=lambda item: -item[1])[:8],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", action="store_true", help="an empty pip cache")
    args = parser.parse_args()
    found = measure(args.cold)
    cache = "empty pip cache" if args.cold else "pip's cache as it is"
    print(f"pip install . into a fresh environment ({cache}): {found['seconds']:.1f} s")
    print(f"environment: {found['total_mb']:.0f} MB; largest packages:")
    for name, mb in found["largest"]:
        print(f"  {name:32} {mb:6.1f} MB")


if __name__ == "__main__":
    main()
