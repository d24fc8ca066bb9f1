"""The webreader command: serve a library, import articles into it."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click

from webreader import __version__
from webreader.db import DEFAULT_DB, open_db
from webreader.importers import InvalidDump, find_files, import_file
from webreader.importers.textdump import load_rules

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    envvar="WEBREADER_DB",
    show_default=True,
    show_envvar=True,
    help="The SQLite file of the library; created if missing.",
)


def _open(db_path: Path):
    try:
        return open_db(db_path)
    except (sqlite3.Error, OSError, ValueError) as exc:
        raise click.ClickException(f"cannot open database {db_path}: {exc}") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="webreader")
def cli() -> None:
    """A calm, fast, self-hosted reader for news articles, in one SQLite file.

    \b
    Example:
        webreader import articles/
        webreader serve
    """


@cli.command()
@db_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="WEBREADER_HOST",
    help="Address to listen on. Only loopback unless you say otherwise.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    envvar="WEBREADER_PORT",
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    envvar="WEBREADER_THREADS",
    help="Worker threads answering requests.",
)
def serve(db_path: Path, host: str, port: int, threads: int) -> None:
    """Serve the library in a browser with waitress.

    \b
    Example:
        webreader serve --db articles.db --port 8000
    """
    from waitress.server import create_server

    from webreader import create_app

    _open(db_path).close()
    app = create_app({"DATABASE": str(db_path)})
    try:
        server = create_server(app, host=host, port=port, threads=threads, ident="webreader")
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"webreader serving {db_path} on http://{shown_host}:{server.effective_port}/")
    click.echo("Press Ctrl+C to stop.")
    sys.stdout.flush()
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.close()


@cli.command("import")
@db_option
@click.option(
    "--rules",
    "rules_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="WEBREADER_RULES",
    show_envvar=True,
    help="A TOML file of extra boilerplate rules (see dump_rules.toml); repeatable.",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def import_(db_path: Path, rules_files: tuple[Path, ...], paths: tuple[Path, ...]) -> None:
    """Import text dumps: files, or folders of .txt files (recursively).

    Importing the same file twice changes nothing; a corrected version updates
    the stored article. Bad files are reported and skipped; the others still
    go in, and the exit status is 1 if any file failed.

    \b
    Example:
        webreader import --db articles.db stiri-protv-2024-11-27-putin-kazahstan.txt
        webreader import ~/saved-articles/
    """
    try:
        rules = load_rules(*rules_files)
    except InvalidDump as exc:
        raise click.ClickException(str(exc)) from exc
    db = _open(db_path)
    counts = {"imported": 0, "updated": 0, "unchanged": 0, "failed": 0}
    try:
        for path in paths:
            if not path.exists():
                click.echo(f"webreader: {path}: no such file or folder", err=True)
                counts["failed"] += 1
        for path in find_files(p for p in paths if p.exists()):
            result = import_file(db, path, rules)
            counts[result.status] += 1
            if result.status == "failed":
                click.echo(f"webreader: {path}: {result.error}", err=True)
                continue
            for warning in result.warnings:
                click.echo(f"webreader: {path}: warning: {warning}", err=True)
            teasers = f" (+{result.teasers} teasers)" if result.teasers else ""
            click.echo(f"{result.status}: {path}: {result.title}{teasers}")
    finally:
        db.close()
    click.echo(", ".join(f"{n} {status}" for status, n in counts.items()))
    if counts["failed"]:
        sys.exit(1)
