"""The outside programs tests drive: Debian's Chromium, and the front-end tools that
tests/run.sh installs from the npm registry. docs/screenshots.py launches Chromium from here too."""

from pathlib import Path

NODE_MODULES = Path(__file__).resolve().parent / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"

# Playwright cannot download its own browser on this machine: Debian's, headless, and quiet
# (no network of its own, so nothing but the page under test reaches the servers).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def add_subscription_rows(db_path) -> None:
    """A library's Subscriptions screen with something in each part: a working feed, a
    failing one in a folder, a paused one, and a watched folder with a failure."""
    import time

    from webreader.db import insert_subscription, open_db, record_watched_file

    now = time.time()
    db = open_db(db_path)
    try:
        defaults = {"paused": 0, "full_text": 0, "failures": 0, "folder": None, "error": None}
        rows = [
            {
                "url": "https://example.org/feed.xml",
                "title": "Știri locale",
                "every_seconds": 3600,
                "status": "updated",
                "checked_at": now - 120,
                "new_article_at": now - 120,
                "next_check_at": now + 3480,
                "created_at": now - 86400,
            },
            {
                "url": "https://example.net/rss",
                "title": None,
                "folder": "Sport",
                "every_seconds": 900,
                "status": "failed",
                "failures": 3,
                "error": "the server answered 500 Internal Server Error",
                "checked_at": now - 60,
                "next_check_at": now + 3600,
                "created_at": now - 600,
                "full_text": 1,
            },
            {
                "url": "https://example.com/atom",
                "title": "Paused <b>feed</b>",
                "paused": 1,
                "every_seconds": 86400,
                "status": "unchanged",
                "next_check_at": now,
                "created_at": now,
            },
        ]
        for row in rows:
            insert_subscription(db, {**defaults, **row})
        record_watched_file(
            db,
            {
                "path": "/srv/drop/bad.txt",
                "folder": "/srv/drop",
                "size": 0,
                "mtime_ns": 0,
                "status": "failed",
                "message": "the file is empty",
                "moved_to": "/srv/drop/webreader-failed/bad.txt",
                "at": now - 30,
            },
        )
    finally:
        db.close()
