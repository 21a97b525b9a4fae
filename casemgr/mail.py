"""Outgoing mail (issue 11 item 5): plain text with an HTML alternative, in the
recipient's language.

With MAIL_URL set, messages go through that SMTP server: `smtp://` speaks plain SMTP
and switches to TLS (STARTTLS) when the server offers it, `smtps://` uses TLS from the
start; user and password in the URL sign in. Without it (development only: production
refuses to start), each message is written as an .eml file to the outbox folder and its
links are printed on the console, so the demo works offline.
"""
from __future__ import annotations

import os
import re
import smtplib
import ssl
import sys
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Response, current_app, has_request_context, render_template, url_for
from flask_babel import force_locale, gettext

from casemgr.config import data_dir
from casemgr.models import User

LINK = re.compile(r"https?://[^\s<>\"']+")


class MailError(RuntimeError):
    """The message could not be handed to the mail server; the text is for people."""


def send_mail(to: str, subject: str, text: str, html: str | None = None) -> Path | None:
    """Send one message. Returns the outbox file when the message went to the outbox."""
    return deliver(compose(to, subject, text, html))


def compose(to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="casemgr")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def deliver(message: EmailMessage) -> Path | None:
    """Hand a composed message to the mail server, or to the outbox without MAIL_URL."""
    url = current_app.config.get("MAIL_URL")
    if url:
        _send_smtp(url, message)
        return None
    return _write_to_outbox(message)


def deliver_after_response(response: Response, message: EmailMessage) -> None:
    """Send `message` once `response` has gone out, so how long the answer took says
    nothing about whether a message was sent (an account exists). A failure is logged:
    the person was already told the same thing either way."""
    app = current_app._get_current_object()

    def send() -> None:
        with app.app_context():
            try:
                deliver(message)
            except MailError:
                app.logger.warning("mail to %s not sent after the response", message["To"])

    response.call_on_close(send)


def compose_for_user(user: User, template: str, subject: str, **context) -> EmailMessage:
    """Render templates/mail/<template>.txt and .html in `user`'s language; `subject` is
    a catalog message (marked with N_), translated here."""
    with force_locale(user.locale or "en"):
        text = render_template(f"mail/{template}.txt", user=user, **context)
        html = render_template(f"mail/{template}.html", user=user, **context)
        translated = gettext(subject)
    return compose(user.email, translated, text, html)


def send_to_user(user: User, template: str, subject: str, **context) -> Path | None:
    return deliver(compose_for_user(user, template, subject, **context))


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a message: on CASEMGR_BASE_URL when set (so a forged Host
    header cannot redirect a reset link), else on the address of the request, else
    (the command line) on the local development server."""
    base = current_app.config.get("BASE_URL")
    if base is None and has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=base or "http://127.0.0.1:5000"):
        return url_for(endpoint, _external=True, **values)


def links(text: str) -> list[str]:
    return LINK.findall(text)


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    timeout = current_app.config["MAIL_TIMEOUT"]
    context = ssl.create_default_context()
    try:
        if parts.scheme == "smtps":
            server = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(parts.hostname, parts.port or 587, timeout=timeout)
        with server:
            server.ehlo()
            if parts.scheme == "smtp" and server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        current_app.logger.error("mail to %s not sent: %s", message["To"], error)
        raise MailError(gettext("The email could not be sent. Please try again in a few minutes.")) from error


def outbox_dir() -> Path:
    """The outbox folder, readable by its owner only: the messages carry live links."""
    configured = current_app.config.get("MAIL_OUTBOX")
    folder = Path(configured).expanduser() if configured else data_dir() / "outbox"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _write_to_outbox(message: EmailMessage) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = outbox_dir() / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(bytes(message))
    lines = [f"casemgr: mail to {message['To']} ({message['Subject']}) written to {path}"]
    lines += [f"  link: {link}" for link in links(message.get_body(preferencelist=("plain",)).get_content())]
    print("\n".join(lines), file=sys.stderr, flush=True)
    return path
