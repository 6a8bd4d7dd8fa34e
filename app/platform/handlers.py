"""Mails the platform sends after a directory transaction commits (outbox
handlers, app.effects): none yet."""
