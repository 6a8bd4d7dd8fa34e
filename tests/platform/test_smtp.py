"""Mail over SMTP never carries credentials in plain text: real aiosmtpd
servers on 127.0.0.1 with certificates from a private (trustme) CA."""
import ssl
import uuid
from contextlib import contextmanager

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from app.notifications.service import MailSecurityError, send_email
from tests.conftest import free_port


class Recorder:
    """What the server saw: AUTH attempts (decoded) and delivered messages."""

    def __init__(self):
        self.logins: list[tuple[str, str]] = []
        self.messages: list[bytes] = []

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, str(path)


def _server_context(authority) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@contextmanager
def smtp_server(*, starttls=None, implicit=None):
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, tls_context=starttls, ssl_context=implicit,
                            authenticator=recorder.authenticate, auth_require_tls=starttls is not None)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def _send(app, monkeypatch, url: str, ca_file: str | None):
    monkeypatch.setitem(app.config, "SMTP_URL", url)
    monkeypatch.setitem(app.config, "SMTP_CA_FILE", ca_file or "")
    with app.app_context():
        return send_email([f"{uuid.uuid4().hex[:8]}@example.com"], "Hello", "Sent over TLS.")


def test_smtp_with_credentials_uses_starttls_and_decoded_credentials(app, monkeypatch, ca):
    authority, ca_file = ca
    with smtp_server(starttls=_server_context(authority)) as (server, port):
        _send(app, monkeypatch, f"smtp://user%40example.com:p%40ss%3Aword@127.0.0.1:{port}", ca_file)
    assert server.logins == [("user@example.com", "p@ss:word")]
    assert len(server.messages) == 1 and b"Sent over TLS." in server.messages[0]


def test_smtp_starttls_scheme_keeps_working(app, monkeypatch, ca):
    authority, ca_file = ca
    with smtp_server(starttls=_server_context(authority)) as (server, port):
        _send(app, monkeypatch, f"smtp+starttls://mailer:secret@127.0.0.1:{port}", ca_file)
    assert server.logins == [("mailer", "secret")] and len(server.messages) == 1


def test_credentials_are_never_sent_to_a_server_without_starttls(app, monkeypatch, ca):
    _, ca_file = ca
    with smtp_server() as (server, port):  # offers AUTH in plain text, no STARTTLS
        with pytest.raises(MailSecurityError, match="STARTTLS"):
            _send(app, monkeypatch, f"smtp://mailer:secret@127.0.0.1:{port}", ca_file)
    assert server.logins == [] and server.messages == []


def test_implicit_tls(app, monkeypatch, ca):
    authority, ca_file = ca
    with smtp_server(implicit=_server_context(authority)) as (server, port):
        _send(app, monkeypatch, f"smtps://mailer:s%20cret@127.0.0.1:{port}", ca_file)
    assert server.logins == [("mailer", "s cret")] and len(server.messages) == 1


def test_certificates_are_verified_by_default(app, monkeypatch, ca):
    authority, _ = ca
    with smtp_server(starttls=_server_context(authority)) as (server, port):
        with pytest.raises(ssl.SSLCertVerificationError):
            _send(app, monkeypatch, f"smtp://mailer:secret@127.0.0.1:{port}", None)  # the private CA is not trusted
    assert server.logins == [] and server.messages == []


def test_without_credentials_plain_smtp_still_delivers(app, monkeypatch):
    with smtp_server() as (server, port):
        _send(app, monkeypatch, f"smtp://127.0.0.1:{port}", None)
    assert server.logins == [] and len(server.messages) == 1


def test_an_unknown_scheme_is_refused(app, monkeypatch):
    with pytest.raises(MailSecurityError, match="scheme"):
        _send(app, monkeypatch, "http://127.0.0.1:25", None)
