"""The load generator the HTTP benchmarks share: asyncio clients on keep-alive
HTTP/1.1 connections, each sending its next request as soon as the last
answer is read, in this process (so the figures include the machine's cost
of making the load, like any client on the same box)."""
from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

# What a client sends next: a path to GET, or (path, JSON body) to POST.
NextRequest = Callable[[], "str | tuple[str, bytes]"]


async def exchange(reader, writer, host: str, path: str, body: bytes | None = None,
                   headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One keep-alive request (a GET, or a POST of `body` as JSON); (status, headers, body)."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    if body is None:
        head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n{extra}\r\n"
    else:
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n{extra}\r\n")
    writer.write(head.encode() + (body or b""))
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    answered = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in answered:
        answer = await reader.readexactly(int(answered["content-length"]))
    else:  # the server closes the connection after this answer
        answer = await reader.read()
    if answered.get("connection", "").lower() == "close":
        raise ConnectionResetError("closed by the server")
    return int(lines[0].split()[1]), answered, answer


async def request(reader, writer, host: str, path: str, body: bytes | None = None) -> tuple[int, int]:
    """One keep-alive request; (status, body bytes)."""
    status, _, answer = await exchange(reader, writer, host, path, body)
    return status, len(answer)


async def one(port: int, host: str, path: str) -> tuple[int, int]:
    """A single GET on a connection of its own."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await request(reader, writer, host, path)
    finally:
        writer.close()


class Load:
    """`connections` clients sending `next_request()` for `seconds`. Every
    answer other than `expected` counts as an error, like a dropped connection."""

    def __init__(self, port: int, host: str, next_request: NextRequest, connections: int, seconds: float,
                 expected: int = 200):
        self.port, self.host, self.next_request = port, host, next_request
        self.connections, self.seconds, self.expected = connections, seconds, expected
        self.latencies: list[float] = []
        self.sizes: list[int] = []
        self.statuses: dict[int, int] = {}
        self.dropped = 0

    async def _client(self, deadline: float) -> None:
        reader = writer = None
        while time.perf_counter() < deadline:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            what = self.next_request()
            path, body = (what, None) if isinstance(what, str) else what
            start = time.perf_counter()
            try:
                status, size = await request(reader, writer, self.host, path, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.dropped += 1
                writer.close()
                reader = writer = None
                continue
            self.latencies.append((time.perf_counter() - start) * 1000)
            self.sizes.append(size)
            self.statuses[status] = self.statuses.get(status, 0) + 1
        if writer is not None:
            writer.close()

    async def _run(self) -> float:
        start = time.perf_counter()
        await asyncio.gather(*(self._client(start + self.seconds) for _ in range(self.connections)))
        return time.perf_counter() - start

    def run(self) -> dict:
        elapsed = asyncio.run(self._run())
        ordered = sorted(self.latencies)
        right = self.statuses.get(self.expected, 0)
        return {"requests": len(ordered), "answers": {str(k): v for k, v in sorted(self.statuses.items())},
                "errors": self.dropped + len(ordered) - right, "seconds": round(elapsed, 2),
                "requests_per_s": round(len(ordered) / elapsed, 1),
                f"{self.expected}_per_s": round(right / elapsed, 1),
                "p50_ms": round(statistics.median(ordered), 2) if ordered else None,
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2) if ordered else None,
                "body_bytes": int(statistics.median(self.sizes)) if self.sizes else 0}
