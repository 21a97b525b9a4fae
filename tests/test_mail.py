"""Outgoing mail (issue 11 item 5): through a real SMTP server on loopback, or, without
MAIL_URL in development, to the outbox folder with its links on the console; production
without MAIL_URL refuses to start."""
from __future__ import annotations

import email
import email.policy

import pytest

from casemgr.config import Config, ConfigError
from casemgr.mail import MailError, send_mail, send_to_user
from casemgr.models.enums import Role
from tests.conftest import first_link, make_app, message_text
from tests.factories import create_user
from tests.test_config import run_cli

PRODUCTION = {"CASEMGR_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "postgres://u:p@db/casemgr"}


def test_a_message_goes_through_smtp_as_text_with_an_html_alternative(app, mailbox):
    with app.app_context():
        assert send_mail("ana@example.test", "Hello", "Open https://casemgr.example.test/x?y=1 now.",
                         "<p><a href='https://casemgr.example.test/x'>Open</a></p>") is None
    message = mailbox.last("ana@example.test")
    assert message["Subject"] == "Hello"
    assert message["From"] == "casemgr <no-reply@localhost>"
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(preferencelist=("html",)).get_content().startswith("<p>")
    assert first_link(message) == "https://casemgr.example.test/x?y=1"


def test_a_message_to_a_user_is_rendered_in_their_language(app, db, mailbox):
    user = create_user(Role.PARENT, locale="es", full_name="Lucía Pérez")
    send_to_user(user, "password_reset", "Reset your casemgr password", link="https://casemgr.example.test/r", minutes=30)
    message = mailbox.last(user.email)
    assert message["Subject"] == "Restablezca su contraseña de casemgr"
    assert "Hola Lucía Pérez" in message_text(message)


def test_without_mail_url_messages_go_to_the_outbox_and_their_links_to_the_console(database_url, tmp_path, capsys):
    app = make_app(database_url, MAIL_URL=None, MAIL_OUTBOX=str(tmp_path / "outbox"))
    with app.app_context():
        path = send_mail("ben@example.test", "Your link", "Open https://casemgr.example.test/invitations/abc to start.",
                         "<p>html</p>")
    assert path.parent == tmp_path / "outbox" and path.suffix == ".eml"
    assert (path.parent.stat().st_mode & 0o777, path.stat().st_mode & 0o777) == (0o700, 0o600)  # live links inside
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ben@example.test" and message["Subject"] == "Your link"
    assert first_link(message) == "https://casemgr.example.test/invitations/abc"
    console = capsys.readouterr().err
    assert "ben@example.test" in console and "https://casemgr.example.test/invitations/abc" in console


def test_an_unreachable_mail_server_is_a_clear_error(database_url):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(database_url, MAIL_URL=f"smtp://127.0.0.1:{port}", MAIL_TIMEOUT=3)
    with app.app_context(), pytest.raises(MailError, match="could not be sent"):
        send_mail("c@example.test", "x", "y")


def test_production_refuses_to_start_without_mail_url():
    with pytest.raises(ConfigError, match="MAIL_URL .* is required when CASEMGR_ENV=production"):
        Config.from_environ(PRODUCTION)
    settings = Config.from_environ({**PRODUCTION, "MAIL_URL": "smtps://casemgr:secret@mail.example.org",
                                    "MAIL_FROM": "Riverside casemgr <casemgr@riverside.example.org>"})
    assert settings["MAIL_URL"] == "smtps://casemgr:secret@mail.example.org"
    assert settings["MAIL_FROM"] == "Riverside casemgr <casemgr@riverside.example.org>"
    result = run_cli("db", "upgrade", **PRODUCTION)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "casemgr: MAIL_URL (smtp://user:password@host:587 or smtps://...) is required when CASEMGR_ENV=production"]


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "smtp://host:notaport", "mail.example.org"])
def test_a_mail_url_that_is_not_smtp_is_refused(url):
    with pytest.raises(ConfigError, match="MAIL_URL"):
        Config.from_environ({"MAIL_URL": url})


# --- TLS: STARTTLS on smtp://, TLS from the start on smtps://, with sign-in -----------------


@pytest.fixture()
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1 that this test's clients trust."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


def _tls_server(certificate, implicit: bool):
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from tests.conftest import SmtpServer, _free_port

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"casemgr", b"s3cret/pass")
        return AuthResult(success=ok)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    handler = SmtpServer()
    # aiosmtpd does not count TLS from the start as TLS for AUTH: the whole connection is encrypted anyway
    options = dict(authenticator=authenticate, auth_require_tls=not implicit)
    if implicit:
        controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ssl_context=context, **options)
    else:
        controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), tls_context=context,
                                require_starttls=True, **options)
    handler.controller = controller
    controller.start()
    return handler, controller


@pytest.mark.parametrize("scheme, implicit", [("smtp", False), ("smtps", True)])
def test_mail_goes_over_tls_and_signs_in(database_url, certificate, scheme, implicit):
    handler, controller = _tls_server(certificate, implicit)
    try:
        url = f"{scheme}://casemgr:s3cret%2Fpass@127.0.0.1:{controller.port}"
        app = make_app(database_url, MAIL_URL=url, MAIL_TIMEOUT=5)
        with app.app_context():
            send_mail("tls@example.test", "Over TLS", "Sent over TLS.")
        assert [m["Subject"] for m in handler.messages] == ["Over TLS"]
        wrong = make_app(database_url, MAIL_URL=url.replace("s3cret", "wrong"), MAIL_TIMEOUT=5)
        with wrong.app_context(), pytest.raises(MailError):
            send_mail("tls@example.test", "Refused", "Wrong password.")
        assert len(handler.messages) == 1
    finally:
        controller.stop()
