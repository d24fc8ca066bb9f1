"""The nginx example of docs/deploy.md, run for real: Debian's nginx with a self-signed
certificate in front of `webreader serve --trust-proxy 1`. The configuration is taken from
the page itself, so the docs cannot drift from what works."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, make_library
from webreader import auth
from webreader.db import connect

PASSWORD = "a long admin password"
CLIENT_ADDRESS = "127.0.0.2"  # not the proxy's own address: the access log must show it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "exited early"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(port)


def nginx_config(folder: Path, webreader_port: int, https_port: int, http_port: int) -> str:
    """docs/deploy.md's nginx blocks, with this test's ports, certificate and folders."""
    page = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    servers, cache_path = re.findall(r"```nginx\n(.*?)```", page, re.DOTALL)[:2]
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "/etc/letsencrypt/live/reader.example.org/fullchain.pem": str(folder / "cert.pem"),
        "/etc/letsencrypt/live/reader.example.org/privkey.pem": str(folder / "key.pem"),
        "http://127.0.0.1:8000": f"http://127.0.0.1:{webreader_port}",
    }
    for old, new in replacements.items():
        assert old in servers, f"docs/deploy.md no longer has {old!r}"
        servers = servers.replace(old, new)
    assert "/var/cache/nginx/webreader" in cache_path
    cache_path = cache_path.replace("/var/cache/nginx/webreader", str(folder / "cache"))
    temp = folder / "temp"
    return f"""
user {"root" if os.geteuid() == 0 else "nobody"};
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    {cache_path}
    {servers}
}}
"""


@pytest.fixture
def deployment(tmp_path, serve) -> Iterator[dict]:
    db_path = make_library(tmp_path)
    db = connect(db_path)
    auth.set_password(db, PASSWORD)
    db.close()
    log = tmp_path / "webreader.log"
    args = ("--trust-proxy", "1", "--allowed-hosts", "reader.example.org")
    port = serve(db_path, args=args, log=log).port
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=reader.example.org",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    (tmp_path / "temp").mkdir()
    https_port, http_port = _free_port(), _free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(tmp_path, port, https_port, http_port), encoding="utf-8")
    nginx = subprocess.Popen(
        ["nginx", "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(https_port, nginx)
        yield {
            "https": f"https://127.0.0.1:{https_port}",
            "http": f"http://127.0.0.1:{http_port}",
            "log": log,
            "db": db_path,
        }
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        nginx.stderr.close()


def _client() -> httpx.Client:
    transport = httpx.HTTPTransport(verify=False, local_address=CLIENT_ADDRESS)
    return httpx.Client(transport=transport, headers={"Host": "reader.example.org"})


def _access_log(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_the_documented_nginx_proxy_serves_webreader_over_https(deployment):
    with _client() as client:
        # Plain HTTP goes to HTTPS.
        redirect = client.get(deployment["http"] + "/articles/1")
        assert redirect.status_code == 301
        assert redirect.headers["Location"] == "https://reader.example.org/articles/1"

        # Forwarding headers a client sends are replaced or dropped by the proxy.
        spoofed = {
            "Accept-Encoding": "gzip",
            "X-Forwarded-Prefix": "//evil.example",
            "X-Forwarded-For": "6.6.6.6",
            "X-Forwarded-Host": "evil.example",
        }
        page = client.get(deployment["https"] + "/articles/1", headers=spoofed)
        assert page.status_code == 200 and "Putin" in page.text
        assert "evil.example" not in page.text
        assert page.headers["Content-Encoding"] == "gzip"
        assert "Content-Security-Policy" in page.headers
        # Visitors see no write controls: the proxy makes the library public.
        assert 'class="star-form"' not in page.text
        # A name the site does not answer to.
        other = client.get(deployment["https"] + "/articles/1", headers={"Host": "evil.example"})
        assert other.status_code == 400

        # Log in and star an article, through the proxy.
        logged_in = client.post(
            deployment["https"] + "/login",
            data={"password": PASSWORD, "next": "/articles/1"},
        )
        assert logged_in.status_code == 303 and logged_in.headers["Location"] == "/articles/1"
        # Over HTTPS (as the proxy tells), the session cookie is Secure.
        assert "Secure" in logged_in.headers["Set-Cookie"]
        page = BeautifulSoup(client.get(deployment["https"] + "/articles/1").text, "html.parser")
        starred = client.post(deployment["https"] + "/articles/1/star", data={"starred": "1"})
        assert starred.status_code == 303

        # Static files: served once by webreader, then from nginx's cache.
        stylesheet = page.select_one("link[rel=stylesheet]")["href"]
        for _ in range(3):
            static = client.get(deployment["https"] + stylesheet)
            assert static.status_code == 200 and "immutable" in static.headers["Cache-Control"]

    db = connect(deployment["db"])
    assert db.execute("SELECT starred_at FROM articles WHERE id = 1").fetchone()[0]
    db.close()
    log = _access_log(deployment["log"])
    assert log and {entry["remote"] for entry in log} == {CLIENT_ADDRESS}
    assert sum(entry["path"].startswith("/static/style.css") for entry in log) == 1
