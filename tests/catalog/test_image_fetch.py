"""The import's image fetcher against real HTTP(S) servers and a real DNS
server, all on 127.0.0.1: one lookup, every address checked, the connection
made to a checked address, each redirect hop checked, a total deadline."""
import ipaddress
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
import trustme

from app.catalog import image_fetch
from app.catalog.image_fetch import FetchProblem, FetchSettings, ImageFetcher, download
from tenants.dns import DnsSettings, parse_server
from tests.catalog.helpers import png_bytes
from tests.tenants.dns_server import DnsServer

PUBLIC = "93.184.216.34"  # a public address (tests never connect to it; see `internet`)


class Handler(BaseHTTPRequestHandler):
    """Serves `site.files`, `site.redirects` and two slow-drip paths, and logs requests."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        site = self.server.site
        site.requests.append((self.path, self.headers["Host"]))
        if self.path in site.redirects:
            self.send_response(302)
            self.send_header("Location", site.redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/drip":  # headers at once, then one byte at a time
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self._drip(b"x" * 100000)
        elif self.path == "/drip-headers":  # the status line and headers themselves, byte by byte
            self._drip(b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 100000 + b"\r\n\r\n")
        elif self.path in site.files:
            body = site.files[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def _drip(self, data: bytes) -> None:
        stop = self.server.site.stop
        try:
            for at in range(len(data)):
                if stop.wait(0.05):  # the server's pace, not the test's synchronisation
                    return
                self.wfile.write(data[at:at + 1])
                self.wfile.flush()
        except OSError:
            pass  # the client hung up: what the deadline is for

    def log_message(self, *args):
        pass


def serve(tls_context: ssl.SSLContext | None = None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    server.site = SimpleNamespace(files={}, redirects={}, requests=[], stop=threading.Event(),
                                  port=server.server_port, server=server)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def site():
    """An HTTP server on 127.0.0.1: the internal service an attacker is after, or a test's image host."""
    server, thread = serve()
    yield server.site
    server.site.stop.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def internet():
    """The internet, as far as a test may reach it: any public address a fetch
    connects to lands on this loopback server, and the addresses are logged."""
    server, thread = serve()
    dialed = []

    def connect(address, timeout):
        dialed.append(address)
        public = ipaddress.ip_address(address[0]).is_global
        return socket.create_connection(("127.0.0.1", server.server_port) if public else address, timeout=timeout)

    yield SimpleNamespace(site=server.site, dialed=dialed, connect=connect)
    server.site.stop.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def dns():
    with DnsServer() as server:
        yield server


def settings(dns, internet=None, **changes) -> FetchSettings:
    fields = {"dns": DnsSettings((parse_server(dns.address),), timeout=1.0), **changes}
    if internet is not None:
        fields["connect"] = internet.connect
    return FetchSettings(**fields)


def test_a_name_is_looked_up_once_and_the_request_keeps_its_host(site, dns):
    site.files["/photo.png"] = png_bytes()
    dns.set("images.example.com", "A", "127.0.0.1")
    url = f"http://images.example.com:{site.port}/photo.png"
    assert download(url, allow_private=True, settings=settings(dns)) == site.files["/photo.png"]
    assert site.requests == [("/photo.png", f"images.example.com:{site.port}")]
    assert (dns.asked("images.example.com", "A"), dns.asked("images.example.com", "AAAA")) == (1, 1)


def test_dns_rebinding_never_reaches_the_loopback_server(site, internet, dns):
    """The name answers a public address first and 127.0.0.1 after: the fetch
    connects to the address it checked, which is not the internal server."""
    site.files["/secret.png"] = b"internal only"
    internet.site.files["/secret.png"] = png_bytes()
    dns.sequence("rebind.example.com", "A", [PUBLIC], ["127.0.0.1"])
    url = f"http://rebind.example.com:{site.port}/secret.png"

    assert download(url, settings=settings(dns, internet)) == internet.site.files["/secret.png"]
    assert internet.dialed == [(PUBLIC, site.port)]
    assert internet.site.requests == [("/secret.png", f"rebind.example.com:{site.port}")]
    assert site.requests == []
    assert dns.asked("rebind.example.com", "A") == 1

    # Now the name says 127.0.0.1 from the start: refused before connecting.
    with pytest.raises(FetchProblem, match="private network"):
        download(url, settings=settings(dns, internet))
    assert internet.dialed == [(PUBLIC, site.port)] and site.requests == []


@pytest.mark.parametrize("address", [
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1",  # NAT64: 127.0.0.1, 169.254.169.254, 10.0.0.1
    "2002:7f00:1::1", "2002:c0a8:101::1",  # 6to4: 127.0.0.1, 192.168.1.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "::7f00:1", "::ffff:0:7f00:1",  # IPv4-compatible and -translated
])
def test_ipv6_addresses_wrapping_ipv4_are_refused_as_literals_and_from_dns(site, internet, dns, address):
    for allow_private in (False, True):  # loopback allowed in tests does not open these
        with pytest.raises(FetchProblem, match="wraps an IPv4"):
            download(f"http://[{address}]:{site.port}/", allow_private, settings(dns, internet))
    dns.set("wrapped.example.com", "A", PUBLIC)
    dns.set("wrapped.example.com", "AAAA", address)
    with pytest.raises(FetchProblem, match="wraps an IPv4"):  # one bad address spoils the name
        download(f"http://wrapped.example.com:{site.port}/", settings=settings(dns, internet))
    assert internet.dialed == [] and site.requests == []


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
                                 "http://[::1]/", "http://[fd00::1]/", "http://0.0.0.0/", "http://100.64.0.1/",
                                 "http://[::ffff:10.0.0.1]/", "http://224.0.0.1/"])
def test_private_addresses_are_refused(dns, internet, url):
    with pytest.raises(FetchProblem, match="private network"):
        download(url, settings=settings(dns, internet))
    assert internet.dialed == []


def test_names_c_resolvers_read_as_addresses_are_only_names(dns, internet):
    for host in ("0x7f.1", "2130706433", "127.1"):
        with pytest.raises(FetchProblem, match="cannot be found"):
            download(f"http://{host}/", settings=settings(dns, internet))
    assert internet.dialed == []


def test_every_redirect_hop_is_checked(site, dns, internet):
    site.files["/final.png"] = png_bytes()
    site.redirects.update({"/start": "/middle", "/middle": f"http://127.0.0.1:{site.port}/final.png",
                           "/to-metadata": "http://169.254.169.254/latest/meta-data/",
                           "/to-nat64": f"http://[64:ff9b::7f00:1]:{site.port}/final.png",
                           "/to-internal-name": f"http://internal.example.com:{site.port}/final.png"})
    dns.set("internal.example.com", "A", "10.1.2.3")
    loopback = settings(dns, internet)
    assert download(f"http://127.0.0.1:{site.port}/start", True, loopback) == site.files["/final.png"]
    for path, problem in [("/to-metadata", "private network"), ("/to-nat64", "wraps an IPv4"),
                          ("/to-internal-name", "private network")]:
        with pytest.raises(FetchProblem, match=problem):
            download(f"http://127.0.0.1:{site.port}{path}", True, loopback)
    assert [path for path, _ in site.requests] == ["/start", "/middle", "/final.png", "/to-metadata",
                                                     "/to-nat64", "/to-internal-name"]
    assert internet.dialed == [("127.0.0.1", site.port)] * 6


def test_redirect_loops_stop(site, dns):
    site.redirects["/loop"] = "/loop"
    with pytest.raises(FetchProblem, match="redirects too many times"):
        download(f"http://127.0.0.1:{site.port}/loop", True, settings(dns))
    assert len(site.requests) == image_fetch.MAX_REDIRECTS + 1


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_slow_drip_server_is_cut_off_at_the_deadline(site, dns, path):
    started = time.monotonic()
    with pytest.raises(FetchProblem, match="took more than 2 seconds"):
        download(f"http://127.0.0.1:{site.port}{path}", True, settings(dns, deadline=2))
    assert 1.9 < time.monotonic() - started < 4


def test_the_import_fetcher_takes_its_deadline_from_config(app, monkeypatch, site, dns):
    monkeypatch.setitem(app.config, "IMPORT_FETCH_DEADLINE", 1.5)
    monkeypatch.setitem(app.config, "DNS_RESOLVERS", [dns.address])
    dns.set("slow.example.com", "A", "127.0.0.1")
    url = f"http://slow.example.com:{site.port}/drip"
    with ImageFetcher(app, store_id=1, allow_private=True) as fetcher:
        fetcher.fetch({url})
        assert fetcher.result(url) == (None, "it took more than 1.5 seconds to download.")
    assert site.requests == [("/drip", f"slow.example.com:{site.port}")]


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def tls_site(ca, hostname: str):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(hostname).configure_cert(context)
    seen = []
    context.sni_callback = lambda sock, name, ctx: seen.append(name)
    server, thread = serve(context)
    return server, thread, seen


def test_tls_goes_to_the_checked_address_with_the_urls_name_for_sni_and_certificate(ca, dns, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    dns.set("secure.example.com", "A", "127.0.0.1")
    dns.set("other.example.com", "A", "127.0.0.1")
    server, thread, seen = tls_site(ca, "secure.example.com")
    try:
        server.site.files["/photo.png"] = png_bytes()
        tls = settings(dns, ca_certs=str(ca_file))
        url = f"https://secure.example.com:{server.site.port}/photo.png"
        assert download(url, True, tls) == server.site.files["/photo.png"]
        assert seen == ["secure.example.com"]
        assert server.site.requests == [("/photo.png", f"secure.example.com:{server.site.port}")]

        with pytest.raises(FetchProblem, match="certificate is not valid for other.example.com"):
            download(f"https://other.example.com:{server.site.port}/photo.png", True, tls)
        with pytest.raises(FetchProblem, match="certificate is not valid"):  # not our CA: the usual ones
            download(url, True, settings(dns))
        assert len(server.site.requests) == 1
    finally:
        server.site.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_name_that_cannot_be_found_is_looked_up_once_for_all_its_images(app, dns):
    """The first URL of a host goes alone; the host's others wait for it and
    fail at once, as "host unreachable", when it found the host down."""
    urls = {f"http://missing.example.com/{n}.png" for n in range(6)}
    with ImageFetcher(app, 1, allow_private=True, settings=settings(dns)) as fetcher:
        fetcher.fetch(urls)
        problems = sorted(fetcher.result(url)[1] for url in urls)
    assert dns.asked("missing.example.com", "A") == 1
    assert problems[0] == "host unreachable: missing.example.com did not answer earlier in this import, so it was " \
                          "not asked again."
    assert sum("host unreachable" in p for p in problems) == 5
    assert sum("cannot be found" in p for p in problems) == 1
