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
import sqlite3
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
RETRY_SECONDS = 5.0  # a file met with a busy database is tried again after this
logger = logging.getLogger("webreader.watching")


class _Changes(FileSystemEventHandler):
    """Files that changed, and when they last did."""

    def __init__(self, folders: list[Path]) -> None:
        self.lock = threading.Lock()
        self.changed: dict[Path, float] = {}
        self.wake = threading.Event()
        self.folders = folders

    def note(self, path: str | bytes, delay: float = 0.0) -> None:
        file = Path(os.fsdecode(path))
        if file.suffix.lower() not in IMPORT_SUFFIXES or _set_aside_already(file, self.folders):
            return
        with self.lock:
            self.changed[file] = time.monotonic() + delay
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
    changes = _Changes(folders)
    observer = Observer()
    for folder in folders:
        observer.schedule(changes, str(folder), recursive=True)
    observer.start()
    db = open_db(db_path)  # the schema made here, before the thread's connection opens
    try:
        for folder in folders:  # what is there already, unless imported before unchanged
            present = [p for p in find_files([folder]) if not _set_aside_already(p, folders)]
            try:
                queries.forget_watched_files(db, str(folder), {_name(p) for p in present})
                for path in present:
                    if not _imported_before(db, path):
                        changes.note(str(path))
            except (OSError, sqlite3.Error):  # the watcher starts all the same: all retried
                logger.exception("watch: could not compare %s with what was imported", folder)
                for path in present:
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
                    try:
                        # A link could name any file the server may read: only files proper.
                        if path.is_file() and not path.is_symlink():
                            _import(db, path, _root(path, folders), rules)
                    except sqlite3.OperationalError as exc:  # busy: the file waits its turn
                        logger.warning("watch: %s waits: %s", _name(path), exc)
                        changes.note(str(path), delay=RETRY_SECONDS)
                    except Exception:  # a bug must never stop the watcher
                        logger.exception("watch: %s could not be handled", _name(path))
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


def _set_aside_already(path: Path, folders: list[Path]) -> bool:
    """Whether a file lies in a FAILED_FOLDER inside a watched folder (the watched folder's
    own path may hold that name: it does not count)."""
    root = next((f for f in folders if path.is_relative_to(f)), None)
    inside = path.relative_to(root).parts if root else path.parts
    return FAILED_FOLDER in inside[:-1]


def _name(path: Path) -> str:
    """A file's name as the database keeps it: a name that is not UTF-8 (a file system
    allows any bytes) with its odd bytes written as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _imported_before(db, path: Path) -> bool:
    row = queries.watched_file(db, _name(path))
    if row is None or row["status"] == "failed":
        return False
    stat = path.stat()
    return row["size"] == stat.st_size and row["mtime_ns"] == stat.st_mtime_ns


def _import(db, path: Path, folder: Path, rules: DumpRules) -> None:
    """Imports one settled file and notes the outcome; raises sqlite3.OperationalError when
    the database is busy (the file is tried again later, not set aside)."""
    try:
        stat = path.stat()
    except OSError:
        return  # gone again (renamed or deleted after it settled)
    if _name(path) != str(path):
        result = ImportResult(
            path, "failed", error="its name is not valid UTF-8: rename it and drop it again"
        )
    elif stat.st_size > MAX_FILE_BYTES:
        result = ImportResult(
            path,
            "failed",
            error=f"larger than {MAX_FILE_BYTES // 2**20} MB: import it with `webreader import`",
        )
    else:
        try:
            result = import_file(db, path, rules)
        except sqlite3.OperationalError:
            raise
        except Exception as exc:  # a bug must not stop the watcher: logged, the file set aside
            logger.exception("watch: importing %s failed", _name(path))
            result = ImportResult(path, "failed", error=f"could not import it: {exc}")
    moved_to = None
    if result.status == "failed":
        moved_to = _set_aside(path)
        shown = _name(moved_to) if moved_to else "nowhere"
        logger.warning("watch: %s: %s (moved to %s)", _name(path), result.error, shown)
    else:
        logger.info("watch: %s: %s", _name(path), result.status)
    queries.record_watched_file(
        db,
        {
            "path": _name(path),
            "folder": _name(folder),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "status": result.status,
            "message": result.error,
            "moved_to": _name(moved_to) if moved_to else None,
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
        logger.error("watch: cannot move %s aside: %s", _name(path), exc)
    return None
