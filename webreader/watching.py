"""Watched folders: files a scraper drops into a folder are imported within seconds.

watchdog reports files created, changed or moved in (inotify on Linux); a file is imported
once it has stopped changing for SETTLE_SECONDS, so one still being written is never read
half-way. Files already there when watching starts are imported too (an import of an
unchanged file changes nothing). A file that cannot be imported is logged and moved into
FAILED_FOLDER beside it, so it is not tried again and again; the watcher goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from webreader.importers.pipeline import IMPORT_SUFFIXES, find_files, import_file
from webreader.importers.textdump import DumpRules

SETTLE_SECONDS = 1.0
FAILED_FOLDER = "webreader-failed"
logger = logging.getLogger("webreader.watching")


class _Changes(FileSystemEventHandler):
    """Files that changed, and when they last did."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.changed: dict[Path, float] = {}
        self.wake = threading.Event()

    def note(self, path: str | bytes) -> None:
        file = Path(path if isinstance(path, str) else path.decode())
        if file.suffix.lower() not in IMPORT_SUFFIXES or FAILED_FOLDER in file.parts:
            return
        with self.lock:
            self.changed[file] = time.monotonic()
        self.wake.set()

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.note(event.src_path)

    def on_modified(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.note(event.src_path)

    def on_closed(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.note(event.src_path)

    def on_moved(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.note(event.dest_path)

    def settled(self, now: float) -> list[Path]:
        """The files that have not changed for SETTLE_SECONDS, taken off the list."""
        with self.lock:
            ready = [p for p, when in self.changed.items() if now - when >= SETTLE_SECONDS]
            for path in ready:
                del self.changed[path]
            return sorted(ready)


def watch(
    db_path: str, folders: list[Path], rules: DumpRules, *, stop: threading.Event
) -> threading.Thread:
    """Watches the folders (recursively) from a thread of its own, with its own connection,
    until stop is set."""
    from webreader.db import open_db

    open_db(db_path).close()  # the schema made here, before the thread's connection opens
    changes = _Changes()
    observer = Observer()
    for folder in folders:
        observer.schedule(changes, str(folder), recursive=True)
    observer.start()
    for path in find_files(folders):  # what is there already
        if FAILED_FOLDER not in path.parts:
            changes.note(str(path))

    def run() -> None:
        db = open_db(db_path)
        try:
            while not stop.is_set():
                changes.wake.wait(SETTLE_SECONDS / 4)
                changes.wake.clear()
                for path in changes.settled(time.monotonic()):
                    # A link could name any file the server may read: only files proper.
                    if path.is_file() and not path.is_symlink():
                        _import(db, path, rules)
        finally:
            observer.stop()
            observer.join(timeout=5)
            db.close()

    thread = threading.Thread(target=run, name="webreader-watch", daemon=True)
    thread.start()
    return thread


def _import(db, path: Path, rules: DumpRules) -> None:
    try:
        result = import_file(db, path, rules)
    except Exception:  # a bug must not stop the watcher: logged, the file set aside
        logger.exception("watch: importing %s failed", path)
        _set_aside(path)
        return
    if result.status == "failed":
        logger.warning("watch: %s: %s (moved to %s)", path, result.error, FAILED_FOLDER)
        _set_aside(path)
    else:
        logger.info("watch: %s: %s", path, result.status)


def _set_aside(path: Path) -> None:
    """Moves a file that failed into FAILED_FOLDER beside it (a name not taken yet)."""
    folder = path.parent / FAILED_FOLDER
    try:
        folder.mkdir(exist_ok=True)
        target = folder / path.name
        n = 1
        while target.exists():
            target = folder / f"{path.stem}-{n}{path.suffix}"
            n += 1
        path.rename(target)
    except OSError as exc:
        logger.error("watch: cannot move %s aside: %s", path, exc)
