"""Watched folders: files a scraper drops into a folder are imported within seconds.

watchdog reports files created, changed or moved in (inotify on Linux); a file is imported
once it has stopped changing for SETTLE_SECONDS, so one still being written is never read
half-way (a scraper does best to write under a temporary name, such as `x.txt.part`, and
rename when done: only the suffixes `import` takes are read). Files already there when
watching starts are imported too, except those imported before and unchanged since (their
size and modification time are kept in watched_files). A file that cannot be imported is
logged, shown in the page's import status (the Subscriptions screen) and moved into
FAILED_FOLDER beside it, so it is not tried again and again; the watcher goes on.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from webreader import db as queries
from webreader.importers.pipeline import IMPORT_SUFFIXES, ImportResult, find_files, import_file
from webreader.importers.textdump import DumpRules

SETTLE_SECONDS = 1.0
FAILED_FOLDER = "webreader-failed"
MAX_FILE_BYTES = 100 * 1024 * 1024  # larger exports are for `webreader import`
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

    folders = [folder.resolve() for folder in folders]
    changes = _Changes()
    observer = Observer()
    for folder in folders:
        observer.schedule(changes, str(folder), recursive=True)
    observer.start()
    db = open_db(db_path)  # the schema made here, before the thread's connection opens
    try:
        for folder in folders:  # what is there already, unless imported before unchanged
            present = [p for p in find_files([folder]) if FAILED_FOLDER not in p.parts]
            queries.forget_watched_files(db, str(folder), {str(p) for p in present})
            for path in present:
                if not _imported_before(db, path):
                    changes.note(str(path))
    finally:
        db.close()

    def run() -> None:
        db = open_db(db_path)
        try:
            while not stop.is_set():
                changes.wake.wait(SETTLE_SECONDS / 4)
                changes.wake.clear()
                for path in changes.settled(time.monotonic()):
                    # A link could name any file the server may read: only files proper.
                    if path.is_file() and not path.is_symlink():
                        _import(db, path, _root(path, folders), rules)
        finally:
            observer.stop()
            observer.join(timeout=5)
            db.close()

    thread = threading.Thread(target=run, name="webreader-watch", daemon=True)
    thread.start()
    return thread


def _root(path: Path, folders: list[Path]) -> Path:
    """The watched folder a file is in."""
    return next((f for f in folders if path.is_relative_to(f)), path.parent)


def _imported_before(db, path: Path) -> bool:
    row = queries.watched_file(db, str(path))
    if row is None or row["status"] == "failed":
        return False
    stat = path.stat()
    return row["size"] == stat.st_size and row["mtime_ns"] == stat.st_mtime_ns


def _import(db, path: Path, folder: Path, rules: DumpRules) -> None:
    try:
        stat = path.stat()
    except OSError:
        return  # gone again (renamed or deleted after it settled)
    if stat.st_size > MAX_FILE_BYTES:
        result = ImportResult(
            path,
            "failed",
            error=f"larger than {MAX_FILE_BYTES // 2**20} MB: import it with `webreader import`",
        )
    else:
        try:
            result = import_file(db, path, rules)
        except Exception as exc:  # a bug must not stop the watcher: logged, the file set aside
            logger.exception("watch: importing %s failed", path)
            result = ImportResult(path, "failed", error=f"could not import it: {exc}")
    moved_to = None
    if result.status == "failed":
        moved_to = _set_aside(path)
        logger.warning("watch: %s: %s (moved to %s)", path, result.error, moved_to)
    else:
        logger.info("watch: %s: %s", path, result.status)
    queries.record_watched_file(
        db,
        {
            "path": str(path),
            "folder": str(folder),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "status": result.status,
            "message": result.error,
            "moved_to": str(moved_to) if moved_to else None,
            "at": time.time(),
        },
    )


def _set_aside(path: Path) -> Path | None:
    """Moves a file that failed into FAILED_FOLDER beside it, under a name not taken yet.
    A hard link claims the new name atomically (a rename would replace a file that
    appeared there meanwhile); where the file system has none, a rename."""
    folder = path.parent / FAILED_FOLDER
    try:
        folder.mkdir(exist_ok=True)
        for n in range(1000):
            target = folder / (path.name if n == 0 else f"{path.stem}-{n}{path.suffix}")
            try:
                os.link(path, target)
            except FileExistsError:
                continue
            except OSError:  # no hard links here
                if target.exists():
                    continue
                path.rename(target)
                return target
            path.unlink()
            return target
    except OSError as exc:
        logger.error("watch: cannot move %s aside: %s", path, exc)
    return None
