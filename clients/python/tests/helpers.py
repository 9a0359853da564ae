"""Test helpers: a fault-injecting TCP proxy and a scripted HTTP server."""

from __future__ import annotations

import http.server
import os
import socket
import threading
from typing import List, Optional, Tuple


class CuttingProxy:
    """Forwards TCP connections to ``target`` and, once, closes a connection
    after ``cut_after`` bytes have flowed in ``direction`` ("up": client to
    server, "down": server to client). Later connections pass untouched."""

    def __init__(self, target: Tuple[str, int], cut_after: int, direction: str) -> None:
        self.target = target
        self.cut_after = cut_after
        self.direction = direction
        self.cuts = 0
        self._armed = True
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            state = {"done": False}
            threading.Thread(target=self._pipe, args=(client, upstream, "up", state), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, "down", state), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, direction: str, state: dict) -> None:
        moved = 0
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if direction == self.direction:
                    with self._lock:
                        armed = self._armed
                    if armed and moved + len(data) > self.cut_after:
                        with self._lock:
                            self._armed = False
                            self.cuts += 1
                        dst.sendall(data[: self.cut_after - moved])
                        break
                    moved += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


Response = Tuple[int, dict, bytes]


class ScriptedServer:
    """An HTTP server that responds to each request with the next scripted
    response (the last one repeats) and records the requests it saw."""

    def __init__(self, responses: List[Response]) -> None:
        self.responses = list(responses)
        self.requests: List[Tuple[str, str, dict]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                if length:
                    self.rfile.read(length)
                owner.requests.append((self.command, self.path, dict(self.headers)))
                status, headers, body = owner.responses[0] if len(owner.responses) == 1 else owner.responses.pop(0)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _serve

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def problem(status: int, detail: str, headers: Optional[dict] = None) -> Response:
    import json

    h = {"Content-Type": "application/problem+json"}
    h.update(headers or {})
    return status, h, json.dumps({"title": "x", "status": status, "detail": detail}).encode()


def server_from_env() -> Optional[Tuple[str, str, str]]:
    url = os.environ.get("COFFER_URL")
    if not url:
        return None
    return url, os.environ["COFFER_USER"], os.environ["COFFER_PASSWORD"]


def write_random_file(path: str, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        written = 0
        counter = 0
        while written < size:
            n = min(len(block), size - written)
            f.write(counter.to_bytes(8, "big") + block[8:n] if n > 8 else block[:n])
            written += n
            counter += 1
