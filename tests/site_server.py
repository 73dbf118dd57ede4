"""A small real HTTP site on loopback for crawler and indexing tests (ours, stdlib only).

Routes are mutable while it runs (to simulate a site that changes between crawls); every request
is recorded with its headers. Pages get an ETag and honour If-None-Match with 304.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None
    etag: bool = True
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Content-Encoding
    delay_seconds: float = 0.0  # a slow page
    reset: bool = False  # the connection is dropped before any response


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]


@dataclass
class Site:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    delay_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event | None = None  # when set: every response waits until this event is set

    def hold(self) -> threading.Event:
        """Hold every response until the returned event is set (a refresh that lasts as long as a test needs)."""
        self.released = threading.Event()
        return self.released

    def requested_paths(self) -> list[str]:
        with self.lock:
            return [urlsplit(r.path).path for r in self.requests]


def start(site: Site) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with site.lock:
                site.requests.append(RecordedRequest(self.path, dict(self.headers.items())))
            if site.released is not None:
                site.released.wait(timeout=120)
            if site.delay_seconds:
                time.sleep(site.delay_seconds)  # a slow site (what the test asked for)
            path = urlsplit(self.path).path.rstrip("/") or "/"
            route = site.routes.get(path)
            if route is None:
                return self._send(404, b"<h1>No encontrada</h1>", "text/html; charset=utf-8", {})
            if route.reset:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
            time.sleep(route.delay_seconds)  # a slow page (what the test asked for)
            headers = dict(route.headers)
            if route.location:
                headers["Location"] = route.location
            if route.status == 200 and route.etag:
                etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
                headers["ETag"] = etag
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", route.content_type, headers)
            body = route.body.replace(b"{BASE}", f"http://{self.headers['Host']}".encode())
            return self._send(route.status, body, route.content_type, headers)

        def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            with contextlib.suppress(OSError):  # the client stopped reading (a body over its bound)
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
