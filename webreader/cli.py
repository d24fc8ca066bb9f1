"""The webreader command: serve a library, import articles into it."""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import ipaddress
import os
import sqlite3
import sys
from pathlib import Path

import click

from webreader import __version__
from webreader.db import DEFAULT_DB, checkpoint_in_background, copy_database, open_db
from webreader.export import FORMATS as EXPORT_FORMATS
from webreader.importers.pipeline import IMPORT_SUFFIXES, InvalidDump, find_files, import_sources
from webreader.importers.textdump import load_rules
from webreader.importers.web import is_url


def _duration(_ctx, _param, value: str) -> int:
    from webreader.subscriptions import MAX_EVERY, MIN_EVERY, parse_duration

    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if not MIN_EVERY <= seconds <= MAX_EVERY:
        raise click.BadParameter("give a duration from a minute (1m) to a week (7d)")
    return seconds


def _db_option(must_exist: bool):
    """--db, for commands that create the library and for those that need it."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_DB,
        envvar="WEBREADER_DB",
        show_default=True,
        show_envvar=True,
        help="The SQLite file of the library; "
        + ("it must exist." if must_exist else "created if missing."),
    )


db_option = _db_option(must_exist=False)
existing_db_option = _db_option(must_exist=True)


IMPORT_CACHE_KB = 64 * 1024
LIVE_STREAMS = 2  # live.STREAMS (not imported here: it loads the app)
IMPORT_CHECKPOINT_PAGES = 10_000


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


def _flag(name: str, envvar: str, help_text: str):
    return click.option(
        name, is_flag=True, default=False, envvar=envvar, show_envvar=True, help=help_text
    )


@cli.command()
@db_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="WEBREADER_HOST",
    show_envvar=True,
    help="Address to listen on. Only loopback unless you say otherwise.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    envvar="WEBREADER_PORT",
    show_envvar=True,
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    envvar="WEBREADER_THREADS",
    show_envvar=True,
    help="Worker threads answering requests.",
)
@click.option(
    "--url-prefix",
    default="",
    envvar="WEBREADER_URL_PREFIX",
    show_envvar=True,
    help="Serve under this path (/reader), as a reverse proxy forwards it.",
)
@click.option(
    "--trust-proxy",
    type=click.IntRange(0, 5),
    default=0,
    envvar="WEBREADER_TRUST_PROXY",
    show_envvar=True,
    help="How many reverse proxies stand in front: their X-Forwarded-For/-Proto/-Host "
    "headers are believed (never -Prefix: use --url-prefix). 0 (the default) believes none.",
)
@click.option(
    "--allowed-hosts",
    default="",
    envvar="WEBREADER_ALLOWED_HOSTS",
    show_envvar=True,
    help="Host names the server answers to, comma-separated (reader.example.org; "
    ".example.org for it and its subdomains). IP addresses and localhost always work; "
    "any other name gets 400, which stops DNS-rebinding pages.",
)
@click.option(
    "--refresh-every",
    default="15m",
    show_default=True,
    envvar="WEBREADER_REFRESH_EVERY",
    show_envvar=True,
    callback=_duration,
    help="How often the server checks which subscriptions are due (15m, 2h; a minute at least).",
)
@click.option(
    "--watch",
    "watched",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="WEBREADER_WATCH",
    show_envvar=True,
    help="A folder whose new files are imported within seconds (repeatable).",
)
@_flag(
    "--no-refresh",
    "WEBREADER_NO_REFRESH",
    "Leave the subscriptions to `webreader refresh` (cron); the server checks none.",
)
@_flag("--private", "WEBREADER_PRIVATE", "Reading needs the admin login too.")
@_flag("--read-only", "WEBREADER_READ_ONLY", "Nothing can be changed, logged in or not.")
@_flag(
    "--login-required",
    "WEBREADER_LOGIN_REQUIRED",
    "Changes need the admin login even on loopback (always so on other addresses and "
    "behind a trusted proxy).",
)
def serve(
    db_path: Path,
    host: str,
    port: int,
    threads: int,
    url_prefix: str,
    trust_proxy: int,
    allowed_hosts: str,
    refresh_every: int,
    watched: tuple[Path, ...],
    no_refresh: bool,
    private: bool,
    read_only: bool,
    login_required: bool,
) -> None:
    """Serve the library in a browser with waitress.

    On loopback (the default) the library is yours alone and needs no login. On any other
    address, or behind a reverse proxy (--trust-proxy), changing it needs the admin login,
    so webreader will not start there until `webreader set-password` has set one.
    The secret key that signs sessions is kept in the database; WEBREADER_SECRET_KEY
    overrides it (an environment variable only: a command line shows in `ps`).

    \b
    Example:
        webreader serve --db articles.db --port 8000
        webreader serve --host 0.0.0.0 --private
        webreader serve --trust-proxy 1 --allowed-hosts reader.example.org
    """
    from waitress.server import create_server

    from webreader import auth, create_app, security
    from webreader.access_log import log_to_stderr

    db = _open(db_path)
    try:
        has_password = auth.password_hash(db) is not None
    finally:
        db.close()
    public = not is_loopback(host) or trust_proxy > 0
    needs_login = public or login_required or private
    if needs_login and not read_only and not has_password:
        where = f"on {host}" if not is_loopback(host) else "behind a proxy"
        raise click.ClickException(
            f"refusing to serve {where} with no admin password: anyone could change "
            f"the library. Set one first:\n\n    webreader set-password --db {db_path}\n\n"
            "or serve it read-only (--read-only)."
        )
    if private and not has_password:
        raise click.ClickException(
            f"--private needs an admin password: webreader set-password --db {db_path}"
        )
    app = create_app(
        {
            "DATABASE": str(db_path),
            "LOGIN_REQUIRED": needs_login,
            "PRIVATE": private,
            "READ_ONLY": read_only,
            "URL_PREFIX": url_prefix,
            "TRUST_PROXY": trust_proxy,
            "ALLOWED_HOSTS": allowed_hosts,
            # Live streams hold a thread each: two threads stay for everything else.
            "STREAMS": max(0, min(LIVE_STREAMS, threads - 2)),
        }
    )
    log_to_stderr()
    checkpoint_in_background(db_path)
    if watched and not read_only:
        import threading

        from webreader.watching import watch

        watch(str(db_path), list(watched), load_rules(), stop=threading.Event())
        click.echo("watching " + ", ".join(str(folder) for folder in watched), err=True)
    if not no_refresh and not read_only:
        import threading

        from webreader.subscriptions import refresh_in_background

        # A server others reach fetches nothing of its own network, as the Add form.
        refresh_in_background(
            str(db_path),
            refresh_every,
            load_rules(),
            public_only=needs_login,
            stop=threading.Event(),
        )
    _fewer_malloc_arenas()
    _enough_file_descriptors(CONNECTION_LIMITS["connection_limit"])
    try:
        server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="webreader",
            # waitress drops every X-Forwarded-* header it was not told to trust; the app
            # (werkzeug's ProxyFix, see create_app) reads them when --trust-proxy says so.
            clear_untrusted_proxy_headers=not trust_proxy,
            **CONNECTION_LIMITS,
            max_request_body_size=app.config["MAX_CONTENT_LENGTH"] + 64 * 1024,
        )
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    security.harden_waitress(server, per_client_limit=not trust_proxy)
    shown_host = f"[{host}]" if ":" in host else host
    prefix = app.config["URL_PREFIX"]
    click.echo(
        f"webreader serving {db_path} on http://{shown_host}:{server.effective_port}{prefix}/"
    )
    modes = [
        "read-only" if read_only else ("changes need the admin login" if needs_login else ""),
        "reading needs the login" if private else "",
    ]
    if any(modes):
        click.echo("; ".join(m for m in modes if m).capitalize() + ".")
    click.echo("Press Ctrl+C to stop.")
    sys.stdout.flush()
    # What is loaded by now (Flask, lxml, trafilatura, Babel's data) lives as long as the
    # server: out of the collector's way. Its full collections walked all of it, and made
    # one API call in a hundred take 30 ms instead of 13 (bench/api.py).
    gc.freeze()
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.close()


# Idle and slow connections cost waitress a socket, not a thread: allow many (its default of
# 100 let 100 idle sockets stop the server), close the idle ones after a minute, and watch
# them with poll(), which has no 1,024-descriptor ceiling as select() has.
CONNECTION_LIMITS = {
    "connection_limit": 1000,
    "channel_timeout": 60,
    "cleanup_interval": 15,
    "asyncore_use_poll": True,
    # Cookies here are under 4 KB; waitress would take 256 KB of headers.
    "max_request_header_size": 32 * 1024,
}


def _enough_file_descriptors(needed: int) -> None:
    """Raise the soft limit on open files towards the hard one, so connection_limit holds."""
    try:
        import resource
    except ImportError:  # not on Unix
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed + 256  # the database, its WAL, logs, fetches
    if soft != resource.RLIM_INFINITY and soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def _fewer_malloc_arenas() -> None:
    """glibc gives threads malloc arenas of their own (up to 8 per core), and memory freed
    in one is not reused by another: with waitress's threads the server grew by about 10 MB
    more than it used. Two arenas (MALLOC_ARENA_MAX=2, as set before the threads start) is
    the usual remedy. Elsewhere than glibc this does nothing."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-8, 2)  # M_ARENA_MAX


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: reachable from this machine only."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _read_password(prompt: str) -> str:
    """Asked twice without echo on a terminal; else the first line of standard input (a
    second line, if any, must repeat it)."""
    stdin = sys.stdin
    if stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt="Repeat it")
    lines = stdin.read().splitlines()
    password = lines[0] if lines else ""
    if len(lines) > 1 and lines[1] != password:
        raise click.ClickException("password not set: the two lines on standard input differ")
    return password


@cli.command("set-password")
@db_option
def set_password(db_path: Path) -> None:
    """Set the admin password, which changing the library needs on a public server.

    On a terminal it is asked for twice, without echo; piped, the first line of standard
    input is the password (a second line, if any, must repeat it). At least 10 characters.
    It is stored as a salted scrypt hash in the database. Setting a new one logs every
    session out.

    \b
    Example:
        webreader set-password --db articles.db
        printf '%s\\n' "$PASSWORD" | webreader set-password --db articles.db
    """
    from webreader import auth

    password = _read_password("Admin password")
    db = _open(db_path)
    try:
        auth.set_password(db, password)
    except auth.WeakPassword as exc:
        raise click.ClickException(f"password not set: {exc}") from exc
    finally:
        db.close()
    click.echo(f"Admin password set for {db_path}.")


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
@click.option("--dry-run", is_flag=True, help="Show what would happen; change nothing.")
@click.option(
    "--fetch-full",
    is_flag=True,
    help="For feed entries that carry only a summary, fetch and extract the whole page.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=None,
    envvar="WEBREADER_JOBS",
    show_envvar=True,
    help="Processes that read, parse and sanitize files ahead of the one that writes "
    "(default: one per CPU core; used from 40 files on).",
)
@click.argument("sources", nargs=-1, required=True)
def import_(
    db_path: Path,
    rules_files: tuple[Path, ...],
    dry_run: bool,
    fetch_full: bool,
    jobs: int | None,
    sources: tuple[str, ...],
) -> None:
    """Import articles from files, folders (searched recursively) and URLs: text dumps,
    saved web pages, RSS and Atom feeds, and JSON Lines exports.

    Importing the same file twice changes nothing; a corrected version updates the stored
    article, and so does the same page saved again (same URL). Bad files are reported and
    skipped; the others still go in, and the exit status is 1 if any file failed. On a
    terminal a progress bar shows the count, the rate and the time left.

    \b
    Example:
        webreader import --db articles.db stiri-protv-2024-11-27-putin-kazahstan.txt
        webreader import --dry-run ~/saved-articles/
        webreader import https://example.org/feed.xml --fetch-full
    """
    from tqdm import tqdm

    try:
        rules = load_rules(*rules_files)
    except InvalidDump as exc:
        raise click.ClickException(str(exc)) from exc
    # A dry run on a library that does not exist yet must not create it.
    db = _open(":memory:" if dry_run and not db_path.exists() else db_path)
    # The writer's pages of the indexes it updates (search, bands, titles): 64 MB of them,
    # not SQLite's default 2 MB, which a large library's import reads again and again.
    db.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KB}")
    # The WAL moved into the database every 40 MB rather than every 4 MB: a page the import
    # changes again and again (the search index's, the counts') is copied and synced once.
    db.execute(f"PRAGMA wal_autocheckpoint = {IMPORT_CHECKPOINT_PAGES}")
    counts = {"imported": 0, "updated": 0, "unchanged": 0}  # articles
    files_read = 0
    failures: list[tuple[Path, str]] = []
    prefix = "would be " if dry_run else ""
    urls = [s for s in sources if is_url(s)]
    paths = [Path(s) for s in sources if not is_url(s)]
    kinds = ", ".join(sorted(IMPORT_SUFFIXES))
    for path in paths:
        if not path.exists():
            failures.append((path, "no such file or folder"))
        elif path.is_dir() and next(find_files([path]), None) is None:
            failures.append((path, f"no file to import in this folder (webreader imports {kinds})"))
    given_failures = len(failures)
    files: list[Path | str] = [*find_files(p for p in paths if p.exists()), *urls]
    # On stderr, and only on a terminal: stdout stays one line per file, for scripts.
    imported = import_sources(
        db, files, rules, fetch_full=fetch_full, jobs=jobs or os.cpu_count() or 1
    )
    progress = tqdm(
        imported, total=len(files), unit="file", file=sys.stderr, disable=None, dynamic_ncols=True
    )
    if dry_run:
        # Every file goes through every step in one transaction, rolled back at the end, so
        # that later files see what earlier ones would have written.
        db.conn.execute("BEGIN")
    try:
        for path, result in progress:
            if result.status != "failed":
                files_read += 1
                for status, n in (result.counts or {result.status: 1}).items():
                    if status in counts:
                        counts[status] += n
            if result.status == "failed":
                failures.append((path, result.error or "failed"))
                progress.write(f"webreader: {path}: {result.error}", file=sys.stderr)
                continue
            for warning in result.warnings:
                progress.write(f"webreader: {path}: warning: {warning}", file=sys.stderr)
            teasers = f" (+{result.teasers} teasers)" if result.teasers else ""
            click.echo(f"{prefix}{result.status}: {path}: {result.title}{teasers}")
    finally:
        progress.close()
        if dry_run:
            db.conn.rollback()
        db.close()
    for path, reason in failures[:given_failures]:
        click.echo(f"webreader: {path}: {reason}", err=True)
    articles = "article" if counts["imported"] == 1 else "articles"
    click.echo(
        f"{prefix}{counts['imported']} {articles} imported, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged; {files_read} {_plural(files_read, 'file')} read, "
        f"{len(failures)} failed"
    )
    if failures:
        click.echo("Failed:", err=True)
        for path, reason in failures:
            click.echo(f"  {path}: {reason}", err=True)
    if failures:
        sys.exit(1)


@cli.command()
@existing_db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default="jsonl",
    show_default=True,
    help="jsonl: one article per line, which `webreader import` takes back; markdown: to read; "
    "opml: the subscriptions (`webreader import` subscribes to them again).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default="-",
    help="File to write; - (the default) is standard output.",
)
def export(db_path: Path, fmt: str, output: Path) -> None:
    """Export every article and teaser, in import order.

    \b
    Example:
        webreader export --format jsonl -o library.jsonl
        webreader import --db copy.db library.jsonl      # an equal library
        webreader export --format markdown -o library.md
        webreader export --format opml -o subscriptions.opml   # the subscriptions
    """
    from webreader.articles import iter_articles
    from webreader.export import export_lines

    if not db_path.exists():
        raise click.ClickException(f"no library at {db_path}")
    if fmt == "opml":
        _export_opml(db_path, output)
        return
    db = _open(db_path)
    try:
        written = 0
        with click.open_file(str(output), "w", encoding="utf-8") as out:
            for chunk in export_lines(iter_articles(db), fmt):
                out.write(chunk)
                written += 1
    finally:
        db.close()
    if str(output) != "-":  # on standard output the export is all there is
        click.echo(f"exported {written} articles and teasers from {db_path} to {output}")


def _export_opml(db_path: Path, output: Path) -> None:
    from webreader.db import list_subscriptions
    from webreader.importers.opml import to_opml

    db = _open(db_path)
    try:
        rows = list_subscriptions(db)
    finally:
        db.close()
    with click.open_file(str(output), "w", encoding="utf-8") as out:
        out.write(to_opml(rows))
    if str(output) != "-":
        click.echo(f"exported {len(rows)} subscriptions from {db_path} to {output}")


@cli.command()
@existing_db_option
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
def backup(db_path: Path, force: bool, dest: Path) -> None:
    """Copy the library to DEST with SQLite's online backup API: safe while the server runs
    and imports write, and the copy is checked before it takes DEST's name.

    To restore, stop the server and put the copy in place of the library (see README.md),
    or serve the copy directly.

    \b
    Example:
        webreader backup --db articles.db backups/articles-2024-11-28.db
    """
    if not db_path.exists():
        raise click.ClickException(f"no library at {db_path}")
    if dest.exists() and not force:
        raise click.ClickException(f"{dest} exists; use --force to replace it")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"cannot make the folder {dest.parent}: {exc}") from exc
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        check, articles = copy_database(db_path, partial)
        if check != "ok":
            raise click.ClickException(f"the copy failed its integrity check: {check}")
        partial.replace(dest)
    except (sqlite3.Error, OSError) as exc:
        raise click.ClickException(f"backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"backed up {articles} articles and teasers from {db_path} to {dest}")


def _served(db) -> bool:
    """Whether the library is served to others (it has an admin password): then a refresh
    from cron fetches nothing of this machine's network either, as the server's does. Its
    subscriptions may have come from the page's Add form (OPML), and a feed may redirect."""
    from webreader import auth

    return auth.password_hash(db) is not None


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _report(checked) -> None:
    name = checked.subscription.get("title") or checked.subscription["url"]
    click.echo(f"{checked.status}: {name}: {checked.message}")


@cli.command()
@db_option
@click.option(
    "--full-text",
    is_flag=True,
    help="Entries that carry only a summary are completed from their page.",
)
@click.option(
    "--every",
    default="1h",
    show_default=True,
    callback=_duration,
    help="How often to check the feed: 30m, 2h, 1d (a minute at least).",
)
@click.argument("url")
def subscribe(db_path: Path, full_text: bool, every: int, url: str) -> None:
    """Subscribe to a feed (or to the feed a page names), and import what it holds now.

    \b
    Example:
        webreader subscribe https://example.org/feed.xml --every 30m
        webreader subscribe https://example.org/ --full-text
    """
    from webreader import subscriptions
    from webreader.importers.base import InvalidInput

    db = _open(db_path)
    try:
        checked = subscriptions.subscribe(
            db, url, load_rules(), every=every, full_text=full_text, public_only=_served(db)
        )
    except InvalidInput as exc:
        raise click.ClickException(f"cannot subscribe to {url}: {exc}") from exc
    finally:
        db.close()
    click.echo(f"subscribed to {checked.subscription['url']}")
    _report(checked)


@cli.command("subscriptions")
@existing_db_option
def subscriptions_(db_path: Path) -> None:
    """List the subscriptions: title, address, last check, last new article, status, next
    check.

    \b
    Example:
        webreader subscriptions --db articles.db
    """
    from webreader.db import list_subscriptions

    db = _open(db_path)
    try:
        rows = list_subscriptions(db)
    finally:
        db.close()
    if not rows:
        click.echo("No subscriptions. Add one with: webreader subscribe URL")
        return
    for row in rows:
        status = "paused" if row["paused"] and row["status"] != "gone" else row["status"]
        error = f" ({row['error']})" if row["error"] else ""
        click.echo(
            f"{row['id']}\t{row['title'] or '(untitled)'}\t{row['url']}\n"
            f"\tlast check {_when(row['checked_at'])}, last new article "
            f"{_when(row['new_article_at'])}, {status}{error}, next check "
            f"{'none' if row['paused'] else _when(row['next_check_at'])}"
        )


@cli.command()
@existing_db_option
@click.argument("subscription")
def unsubscribe(db_path: Path, subscription: str) -> None:
    """Stop checking a feed, named by its address or its number in `webreader
    subscriptions`. The articles it brought stay.

    \b
    Example:
        webreader unsubscribe 3
        webreader unsubscribe https://example.org/feed.xml
    """
    from webreader.db import delete_subscription, find_subscription

    db = _open(db_path)
    try:
        found = find_subscription(db, subscription)
        if found is None:
            raise click.ClickException(f"no subscription {subscription}")
        delete_subscription(db, found["id"])
    finally:
        db.close()
    click.echo(f"unsubscribed from {found['url']}")


@cli.command()
@existing_db_option
@click.option("--all", "everything", is_flag=True, help="Check every subscription now.")
def refresh(db_path: Path, everything: bool) -> None:
    """Check the subscriptions that are due and import what is new: one pass, for cron.
    The exit status is 1 if a feed failed (the others are checked all the same).

    \b
    Example:
        */15 * * * *  webreader refresh --db /srv/news/articles.db   (a crontab line)
        webreader refresh --all
    """
    from webreader import subscriptions

    db = _open(db_path)
    try:
        results = subscriptions.refresh(
            db, load_rules(), everything=everything, public_only=_served(db)
        )
    except subscriptions.Busy as exc:
        raise click.ClickException(f"{exc}; try again later") from exc
    finally:
        db.close()
    for checked in results:
        _report(checked)
    if not results:
        click.echo("no subscription was due")
    if any(c.status in ("failed", "gone", "waiting") for c in results):
        sys.exit(1)


@cli.group("api-key")
def api_key() -> None:
    """Keys for the Miniflux-compatible API (/v1/): one per app, each revocable.

    \b
    Example:
        webreader api-key create "phone"
        webreader api-key list
        webreader api-key revoke "phone"
    """


@api_key.command("create")
@db_option
@click.argument("name")
def api_key_create(db_path: Path, name: str) -> None:
    """Make a key named NAME and print it, once: only its hash is kept. An app sends it as
    the X-Auth-Token header.

    \b
    Example:
        webreader api-key create "phone" --db articles.db
    """
    from webreader import auth

    db = _open(db_path)
    try:
        token = auth.create_api_key(db, name)
    except ValueError as exc:
        raise click.ClickException(f"no key made: {exc}") from exc
    finally:
        db.close()
    click.echo(token)
    click.echo(f"(the key {name!r}: copy it now, it is not shown again)", err=True)


@api_key.command("list")
@existing_db_option
def api_key_list(db_path: Path) -> None:
    """List the keys: name, when made, when last used (never the keys themselves).

    \b
    Example:
        webreader api-key list --db articles.db
    """
    from webreader.db import list_api_keys

    db = _open(db_path)
    try:
        keys = list_api_keys(db)
    finally:
        db.close()
    if not keys:
        click.echo('No API keys. Make one with: webreader api-key create "NAME"')
    for key in keys:
        click.echo(
            f"{key['id']}\t{key['name']}\tmade {_when(key['created_at'])}, "
            f"last used {_when(key['last_used_at'])}"
        )


@api_key.command("revoke")
@existing_db_option
@click.argument("name")
def api_key_revoke(db_path: Path, name: str) -> None:
    """Revoke the key named NAME (or numbered so in `webreader api-key list`): apps using it
    are refused from the next call.

    \b
    Example:
        webreader api-key revoke "phone" --db articles.db
    """
    from webreader.db import delete_api_key

    db = _open(db_path)
    try:
        found = delete_api_key(db, name=name) or (
            name.isdigit() and delete_api_key(db, key_id=int(name))
        )
    finally:
        db.close()
    if not found:
        raise click.ClickException(f"no key named {name}")
    click.echo(f"revoked the key {name}")


@cli.command("fever-password")
@db_option
@click.option("--user", default="admin", show_default=True, help="The user name apps send.")
def fever_password(db_path: Path, user: str) -> None:
    """Set the Fever API's password (for Reeder, Unread, ReadKit, Fiery Feeds: their
    "Fever" account, at https://HOST/fever/). A password of its own, asked as
    set-password asks: the API keeps the MD5 of "user:password", as Fever does, so it must
    not be the admin password.

    \b
    Example:
        webreader fever-password --db articles.db
        printf '%s\\n' "$FEVER_PASSWORD" | webreader fever-password --user me
    """
    from webreader import auth

    password = _read_password("Fever password")
    db = _open(db_path)
    try:
        if auth.password_matches(db, password):
            raise click.ClickException(
                "password not set: use another than the admin password (Fever keeps a weak hash)"
            )
        auth.set_fever_password(db, user, password)
    except auth.WeakPassword as exc:
        raise click.ClickException(f"password not set: {exc}") from exc
    finally:
        db.close()
    click.echo(f"Fever password set for {user} in {db_path}; the endpoint is /fever/.")
