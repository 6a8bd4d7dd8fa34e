"""A small threaded HTTP/1.1 server for the emulator's WSGI app, on the
standard library, with keep-alive.

Why not werkzeug's development server: it closes the connection after every
answer, so each SDK call pays a new TCP connection and a new thread, which
caps it near a hundred requests a second on two cores. Here a connection
lives on (as the SDK's requests session expects) and answers go out without
Nagle's delay.
"""
from __future__ import annotations

import socket
import sys
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from urllib.parse import unquote_to_bytes

MAX_BODY = 2 * 1024 * 1024  # the app refuses above 1 MB with Stripe's error; past this we do not even read it
IDLE_SECONDS = 75  # an idle keep-alive connection is closed after this


class WSGIHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vitrine-stripe-emulator"
    timeout = IDLE_SECONDS
    dropped = False

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # no access log: hundreds of lines a second would drown what matters

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_DELETE = do_OPTIONS = do_HEAD = do_PUT = do_PATCH = do_GET

    def _serve(self) -> None:
        body = self._body()
        if body is None:
            return
        status, headers, payload = self._call_app(self._environ(body))
        if self.dropped:
            return  # the app dropped this connection on purpose (a fault injected for tests)
        try:
            code, _, reason = status.partition(" ")
            self.send_response(int(code), reason)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:  # the client went away meanwhile
            self.close_connection = True

    def _body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(HTTPStatus.LENGTH_REQUIRED)
            return None
        length = self.headers.get("Content-Length", "0").strip() or "0"
        if not length.isascii() or not length.isdigit():
            self.send_error(HTTPStatus.BAD_REQUEST, "Invalid Content-Length")
            return None
        if int(length) > MAX_BODY:
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return None
        return self.rfile.read(int(length))

    def _environ(self, body: bytes) -> dict:
        path, _, query = self.path.partition("?")
        environ = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"), "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": self.server.server_address[0], "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version, "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "emulator.drop_connection": self._drop,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _drop(self) -> None:
        """Close this connection without an answer: the client sees it fail after the work was done."""
        self.close_connection = self.dropped = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _call_app(self, environ: dict) -> tuple[str, list, bytes]:
        started: list = []

        def start_response(status, headers, exc_info=None):
            started[:] = [status, headers]

        try:
            chunks = self.server.app(environ, start_response)
            try:
                payload = b"".join(chunks)
            finally:
                getattr(chunks, "close", lambda: None)()
            return started[0], started[1], payload
        except Exception:  # the app answers its own errors; this is a last resort that keeps the server up
            traceback.print_exc(file=sys.stderr)
            return "500 Internal Server Error", [("Content-Type", "text/plain")], b"internal error"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, host: str, port: int, app):
        self.app = app
        super().__init__((host, port), WSGIHandler)
