"""A loopback server speaking the OpenAI chat-completions streaming protocol with scripted text (our test double).

Used where a test needs an answer of a given shape (e.g. longer than a platform's message limit), or a model
whose output and timing the test controls (one that streams a piece and then waits until released), in a
process the test cannot reach into: the bot reaches it through the real ``openai`` backend.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChatServer:
    """A loopback server speaking the chat-completions streaming protocol (our test double).

    Every request is answered with ``pieces``; with ``hold_after`` set, the stream stops after that many pieces
    until ``release()`` (``holding`` is set meanwhile: the client is certainly generating)."""

    def __init__(self, pieces: list[str], status: int = 200, hold_after: int | None = None) -> None:
        self.requests: list[dict] = []
        self.pieces = pieces
        self.hold_after = hold_after
        self.holding = threading.Event()
        self._released = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                if status != 200:
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(b'{"error": "overloaded"}')
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for n, piece in enumerate(outer.pieces):
                    if n == outer.hold_after:
                        outer.holding.set()
                        outer._released.wait()
                    chunk = {"choices": [{"delta": {"content": piece}, "index": 0}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self) -> None:
        """Let every held stream go on, and hold no more."""
        self.hold_after = None
        self._released.set()

    def close(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()


def scripted_env(server: ChatServer) -> dict[str, str]:
    """The settings (as environment variables) of a `tuyabot` process answering through ``server``."""
    return {"LLM_BACKEND": "openai", "LLM_BASE_URL": server.url, "LLM_MODEL": "scripted", "LLM_MAX_RETRIES": "0"}
