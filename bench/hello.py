"""The baselines: a minimal Flask app under waitress with the settings webreader's serve
uses. GET / says hello; GET /plain/<id> is the plain view the issue describes: one SQLite
query, the article's HTML returned as it is, no template, no session.

    python bench/hello.py --threads 4 [--db library.db]   # prints its URL, serves until stopped
"""

from __future__ import annotations

import argparse
import sqlite3
import threading

from flask import Flask, abort
from waitress.server import create_server

app = Flask(__name__)
_local = threading.local()


@app.get("/")
def hello() -> str:
    return "Hello, World!"


@app.get("/plain/<int:article_id>")
def plain(article_id: int) -> str:
    if not hasattr(_local, "db"):
        _local.db = sqlite3.connect(app.config["DB"])
    row = _local.db.execute("SELECT html FROM articles WHERE id = ?", [article_id]).fetchone()
    if row is None:
        abort(404)
    return row[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--db")
    args = parser.parse_args()
    app.config["DB"] = args.db
    server = create_server(app, host="127.0.0.1", port=args.port, threads=args.threads)
    print(f"hello serving on http://127.0.0.1:{server.effective_port}/", flush=True)
    server.run()
