"""Sending email: over SMTP when SMTP_URL is set, else as .eml files in var/mail/.

SMTP_URL schemes:
- `smtps://` implicit TLS (port 465 by default);
- `smtp+starttls://` STARTTLS, always (port 587 by default);
- `smtp://` STARTTLS whenever the URL carries credentials, and no log-in at
  all if the server does not offer it; without credentials, plain SMTP
  (a local relay).
Certificates are verified against the system's CAs, or SMTP_CA_FILE for a
private CA. User and password are percent-decoded (`user%40example.com`).
"""
from __future__ import annotations

import smtplib
import ssl
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from flask import current_app

SENDER = "Vitrine <no-reply@vitrine.test>"
SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailSecurityError(RuntimeError):
    """The SMTP settings or server would not keep the mail (or the credentials) safe."""


def send_email(to: list[str], subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config.get("MAIL_FROM", SENDER)
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain="vitrine.test")
    message.set_content(body)
    smtp_url = current_app.config.get("SMTP_URL")
    if smtp_url:
        _send_smtp(urlsplit(smtp_url), message)
    else:
        outbox = Path(current_app.config["VAR_DIR"]) / "mail"
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        (outbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml").write_bytes(bytes(message))
    return message


def _send_smtp(url: SplitResult, message: EmailMessage) -> None:
    if url.scheme not in SCHEMES:
        raise MailSecurityError(f"SMTP_URL scheme must be one of {', '.join(SCHEMES)}, not {url.scheme!r}.")
    host, port = url.hostname or "127.0.0.1", url.port or SCHEMES[url.scheme]
    user, password = unquote(url.username or ""), unquote(url.password or "")
    context = _tls_context()
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, port, timeout=30, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=30)
    with smtp:
        if url.scheme == "smtp+starttls" or (url.scheme == "smtp" and user):
            _start_tls(smtp, context)
        if user:
            smtp.login(user, password)
        smtp.send_message(message)


def _start_tls(smtp: smtplib.SMTP, context: ssl.SSLContext) -> None:
    smtp.ehlo()
    if not smtp.has_extn("starttls"):
        raise MailSecurityError("The SMTP server does not offer STARTTLS; refusing to send credentials "
                                "or mail in plain text. Use smtps:// if it speaks implicit TLS.")
    smtp.starttls(context=context)
    smtp.ehlo()


def _tls_context() -> ssl.SSLContext:
    """Verifying context: the system's CAs, or SMTP_CA_FILE (a private CA)."""
    return ssl.create_default_context(cafile=current_app.config.get("SMTP_CA_FILE") or None)
