"""A real DNS server on 127.0.0.1 for tests (UDP, packets by dnslib).

A test sets the records it wants and points the app's DNS_RESOLVERS at
`server.address`:

    with DnsServer() as server:
        server.set("_vitrine-challenge.shop.example.com", "TXT", "vitrine-verification=…")
        server.set("shop.example.com", "CNAME", "myshop.localhost")
        server.sequence("rebind.example.com", "A", ["203.0.114.7"], ["127.0.0.1"])  # one answer per query
        server.silent.add("slow.example.com")  # never answered: the client times out

A name with records of other types only gets an empty answer (NOERROR); an
unknown name gets NXDOMAIN. Every question is logged in `queries`.
"""
from __future__ import annotations

import socket
import threading

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, TXT, A, DNSRecord

RDATA = {"A": A, "AAAA": AAAA, "CNAME": CNAME, "TXT": TXT}


def _key(name: str) -> str:
    return name.lower().rstrip(".")


class DnsServer:
    def __init__(self):
        self._answers: dict[tuple[str, str], list[list[str]]] = {}
        self.silent: set[str] = set()
        self.queries: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._sock.getsockname()[1]}"

    def set(self, name: str, rtype: str, *values: str) -> None:
        """Answer every query for (name, type) with these values (none: remove them)."""
        self.sequence(name, rtype, list(values))

    def sequence(self, name: str, rtype: str, *answers: list[str]) -> None:
        """Answer the first query with answers[0], the next with answers[1]…; the last one repeats."""
        with self._lock:
            if answers and any(answers):
                self._answers[(_key(name), rtype)] = [list(each) for each in answers]
            else:
                self._answers.pop((_key(name), rtype), None)

    def asked(self, name: str, rtype: str | None = None) -> int:
        return sum(1 for qname, qtype in self.queries if qname == _key(name) and rtype in (None, qtype))

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                packet, client = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            try:
                request = DNSRecord.parse(packet)
            except Exception:  # not DNS: ignore it, as a server would
                continue
            reply = self._reply(request)
            if reply is not None:
                self._sock.sendto(reply.pack(), client)

    def _reply(self, request: DNSRecord) -> DNSRecord | None:
        name, rtype = _key(str(request.q.qname)), QTYPE[request.q.qtype]
        with self._lock:
            self.queries.append((name, rtype))
            if name in self.silent:
                return None
            answers = self._answers.get((name, rtype))
            values = (answers.pop(0) if len(answers) > 1 else answers[0]) if answers else None
            known = any(key[0] == name for key in self._answers)
        reply = request.reply()
        if values is not None:
            for value in values:
                reply.add_answer(RR(request.q.qname, QTYPE.reverse[rtype], rdata=RDATA[rtype](value), ttl=0))
        elif not known:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply
