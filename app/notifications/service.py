"""Sending email: over SMTP when SMTP_URL is set, else as .eml files in var/mail/."""
from __future__ import annotations

import smtplib
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app

SENDER = "Vitrine <no-reply@vitrine.test>"


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
        parts = urlsplit(smtp_url)
        with smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=30) as smtp:
            if parts.scheme == "smtp+starttls":
                smtp.starttls()
            if parts.username:
                smtp.login(parts.username, parts.password or "")
            smtp.send_message(message)
    else:
        outbox = Path(current_app.config["VAR_DIR"]) / "mail"
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        (outbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml").write_bytes(bytes(message))
    return message
