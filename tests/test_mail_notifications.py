"""E-mail notifications end to end: SOAP messages over HTTP make events, the mail consumer
turns them into mails and a real SMTP server (aiosmtpd on 127.0.0.1) receives them; the test
mail; an SMTP server that refuses or is down (retried, never lost); the stored password is
encrypted; the address rules."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from soapgw.core.enums import SmtpSecurity
from soapgw.core.errors import Invalid
from soapgw.core.mail import outbox, recipients, smtp_settings
from soapgw.core.mail.policy import judge_smtp_host
from soapgw.core.upstream_secret import PasswordBox
from soapgw.core.webhooks.deliveries import RetryPolicy
from soapgw.mail_out.dispatcher import MailDispatcher
from soapgw.store.models import MailMessage, Setting

from conftest import free_port
from mail_server import MailServer
from soap_messages import BOOT, envelope, post

FAST = RetryPolicy(base=0.05, cap=0.2, window=3600)


@pytest.fixture
def mail_server():
    server = MailServer()
    yield server
    server.close()


def configure(gateway, port: int, username: str = "", password: str = "") -> None:
    with gateway.sessions.begin() as db:
        smtp_settings.save(db, PasswordBox(gateway.settings.instance_path), host="127.0.0.1",
                           port=port, security=SmtpSecurity.NONE.value, username=username,
                           from_address="soapgw@example.com", password=password)


def add_recipient(gateway, address: str, chosen: list[str]) -> None:
    with gateway.sessions.begin() as db:
        recipients.add(db, address, chosen)


def mailer(gateway, policy=FAST) -> MailDispatcher:
    return MailDispatcher(gateway.sessions, gateway.settings, policy=policy, timeout=5)


def pump(dispatcher: MailDispatcher, until, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not until():
        assert time.monotonic() < deadline, "timed out"
        dispatcher.run_once()
        time.sleep(0.05)


def soap(live_url: str, identity: str, action: str, body: str) -> None:
    reply = post(live_url, envelope(identity, body, action=f"/{action}"), action=f"/{action}")
    assert reply.status_code in (200, 400), reply.text


def status(connector: int, state: str, error: str = "NoError") -> str:
    return (f"<cs:statusNotificationRequest><cs:connectorId>{connector}</cs:connectorId>"
            f"<cs:status>{state}</cs:status><cs:errorCode>{error}</cs:errorCode>"
            "</cs:statusNotificationRequest>")


def mails(gateway) -> list[MailMessage]:
    with gateway.sessions() as db:
        return list(db.scalars(select(MailMessage).order_by(MailMessage.id)))


def test_chosen_events_reach_the_chosen_recipients(gateway, seed, live_url, mail_server):
    seed.station("CP-M")
    configure(gateway, mail_server.port)
    add_recipient(gateway, "ops@example.com",
                  ["station.booted", "connector.faulted", "station.unknown"])
    add_recipient(gateway, "billing@example.com", ["transaction.started"])
    soap(live_url, "CP-M", "BootNotification", BOOT)
    soap(live_url, "CP-M", "StatusNotification", status(2, "Available"))  # no mail
    soap(live_url, "CP-M", "StatusNotification", status(2, "Faulted", "GroundFailure"))
    soap(live_url, "CP-NOBODY", "Heartbeat", "<cs:heartbeatRequest/>")
    soap(live_url, "CP-NOBODY", "Heartbeat", "<cs:heartbeatRequest/>")  # news once only
    dispatcher = mailer(gateway)
    pump(dispatcher, lambda: len(mail_server.received) >= 3)
    dispatcher.run_once()
    subjects = sorted(m["Subject"] for m in mail_server.received)
    assert subjects == [
        "[soapgw] CP-M: booted (Acme X1, firmware 1.2.3)",
        "[soapgw] CP-M: connector 2 Faulted (GroundFailure)",
        "[soapgw] CP-NOBODY: unknown station seen (Heartbeat from http://127.0.0.1:9/ocpp)",
    ]
    assert {m["To"] for m in mail_server.received} == {"ops@example.com"}
    assert all(m["From"] == "soapgw@example.com" for m in mail_server.received)
    faulted = next(m for m in mail_server.received if "Faulted" in m["Subject"])
    body = faulted.get_content()
    assert "Connector Faulted: CP-M" in body and '"errorCode": "GroundFailure"' in body
    assert [m.state for m in mails(gateway)] == ["sent"] * 3


def test_test_mail_goes_through_the_queue(gateway, mail_server):
    configure(gateway, mail_server.port)
    with gateway.sessions.begin() as db:
        outbox.queue_test_mail(db, "me@example.com", "soapgw@example.com")
    pump(mailer(gateway), lambda: mail_server.received)
    (received,) = mail_server.received
    assert received["Subject"] == "[soapgw] Test mail" and received["To"] == "me@example.com"
    assert "The SMTP settings work" in received.get_content()
    assert mails(gateway)[0].state == "sent"


def test_a_refusing_then_absent_server_is_retried_and_nothing_is_lost(gateway, seed, live_url):
    seed.station("CP-R")
    server = MailServer(refuse_first=2)
    try:
        configure(gateway, server.port)
        add_recipient(gateway, "ops@example.com", ["station.booted"])
        soap(live_url, "CP-R", "BootNotification", BOOT)
        dispatcher = mailer(gateway)
        pump(dispatcher, lambda: server.received)
        (mail,) = mails(gateway)
        assert server.refused == 2 and mail.state == "sent" and mail.attempts == 3
    finally:
        server.close()
    # nothing listens any more: the mail waits with its error and is sent once a server is back
    dead_port = free_port()
    configure(gateway, dead_port)
    soap(live_url, "CP-R", "BootNotification", BOOT)
    dispatcher.run_once()
    time.sleep(0.1)
    dispatcher.run_once()
    waiting = mails(gateway)[-1]
    assert waiting.state == "pending" and waiting.attempts >= 1
    assert "ConnectionRefusedError" in waiting.last_error
    server = MailServer()
    try:
        configure(gateway, server.port)
        pump(dispatcher, lambda: server.received)
        assert mails(gateway)[-1].state == "sent"
    finally:
        server.close()


def test_a_mail_failing_past_the_window_is_kept_as_failed_and_can_be_retried(gateway):
    configure(gateway, free_port())
    with gateway.sessions.begin() as db:
        outbox.queue_test_mail(db, "me@example.com", "soapgw@example.com")
    mailer(gateway, RetryPolicy(base=0.05, window=0)).run_once()
    (failed,) = mails(gateway)
    assert failed.state == "failed" and failed.last_error
    server = MailServer()
    try:
        configure(gateway, server.port)
        with gateway.sessions.begin() as db:
            outbox.retry(db, failed.id)
        pump(mailer(gateway), lambda: server.received)
        assert mails(gateway)[0].state == "sent"
    finally:
        server.close()


def test_smtp_login_with_the_password_stored_encrypted(gateway):
    server = MailServer(auth=("mailer", "pa55-word!"))
    try:
        configure(gateway, server.port, username="mailer", password="pa55-word!")
        with gateway.sessions() as db:
            stored = dict(db.execute(select(Setting.key, Setting.value)).all())
        assert "pa55-word!" not in "".join(stored.values())
        assert stored["smtp_password"].startswith("gAAAA")  # a Fernet token
        with gateway.sessions.begin() as db:  # saving again without a password keeps it
            smtp_settings.save(db, PasswordBox(gateway.settings.instance_path),
                               host="127.0.0.1", port=server.port, security="none",
                               username="mailer", from_address="soapgw@example.com")
            outbox.queue_test_mail(db, "me@example.com", "soapgw@example.com")
        pump(mailer(gateway), lambda: server.received)
    finally:
        server.close()


def test_settings_and_recipients_refuse_bad_values(gateway):
    box = PasswordBox(gateway.settings.instance_path)
    with gateway.sessions.begin() as db:
        with pytest.raises(Invalid) as invalid:
            smtp_settings.save(db, box, host="smtp://x", port=0, security="ssl", username="",
                               from_address="not an address")
        assert set(invalid.value.problems) == {"host", "port", "security", "from_address"}
        with pytest.raises(Invalid) as invalid:
            recipients.add(db, "a@example.com\r\nBcc: x@evil.test", ["station.booted"])
        assert "address" in invalid.value.problems
        with pytest.raises(Invalid) as invalid:
            recipients.add(db, "a@example.com", [])
        assert "events" in invalid.value.problems


def test_removing_the_last_recipient_releases_the_event_cursor(gateway):
    with gateway.sessions.begin() as db:
        recipient = recipients.add(db, "a@example.com", ["station.offline"])
        assert outbox.cursor(db) is not None
        recipients.remove(db, recipient.id)
        assert outbox.cursor(db) is None


@pytest.mark.parametrize("address, allowed", [
    ("127.0.0.1", True), ("10.1.2.3", True), ("192.168.0.10", True), ("203.0.113.7", True),
    ("169.254.169.254", False), ("fe80::1", False), ("0.0.0.0", False), ("224.0.0.1", False)])
def test_smtp_host_rules(address, allowed):
    # an admin types the host: private relays are fine, metadata and link-local never
    assert judge_smtp_host("relay", [address]).allowed is allowed
    assert not judge_smtp_host("relay", []).allowed


def test_soapgw_dispatch_sends_the_mails(gateway, database_url, tmp_path, mail_server):
    """The helper process ``soapgw serve`` runs: its mail thread, here one round."""
    from conftest import command_env, soapgw_command
    configure(gateway, mail_server.port)
    with gateway.sessions.begin() as db:
        outbox.queue_test_mail(db, "me@example.com", "soapgw@example.com")
    env = command_env(database_url, SOAPGW_INSTANCE_PATH=str(tmp_path / "instance"))
    done = soapgw_command("dispatch", "--once", env=env)
    assert done.returncode == 0, done.stderr
    assert [m["Subject"] for m in mail_server.received] == ["[soapgw] Test mail"]
    assert mails(gateway)[0].state == "sent"


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_checks_the_host_name_while_connecting_to_the_judged_address(gateway, tmp_path,
                                                                         security):
    import ssl

    from mail_server import self_signed
    cert, server_context = self_signed(tmp_path)
    server = MailServer(auth=("mailer", "pa55-word!"),
                        **{"starttls" if security == "starttls" else "implicit_tls":
                           server_context})
    try:
        box = PasswordBox(gateway.settings.instance_path)
        with gateway.sessions.begin() as db:
            smtp_settings.save(db, box, host="localhost", port=server.port, security=security,
                               username="mailer", password="pa55-word!",
                               from_address="soapgw@example.com")
            outbox.queue_test_mail(db, "me@example.com", "soapgw@example.com")
        trusting = ssl.create_default_context(cafile=str(cert))
        dispatcher = MailDispatcher(gateway.sessions, gateway.settings, policy=FAST, timeout=5,
                                    tls_context=trusting)
        pump(dispatcher, lambda: server.received)
        # a client that does not trust the certificate refuses it: the name is checked
        with gateway.sessions.begin() as db:
            outbox.queue_test_mail(db, "me@example.com", "soapgw@example.com")
        MailDispatcher(gateway.sessions, gateway.settings, policy=FAST, timeout=5).run_once()
        last = mails(gateway)[-1]
        assert last.state == "pending" and "CERTIFICATE_VERIFY_FAILED" in last.last_error
    finally:
        server.close()


@pytest.mark.slow
def test_soapgw_serve_sends_mail_from_its_dispatcher(served_gateway, sqlite_url, tmp_path,
                                                     mail_server):
    from soapgw.store.database import make_engine, make_session_factory
    from soapgw.store.migrate import upgrade
    engine = make_engine(sqlite_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as db:
        smtp_settings.save(db, PasswordBox(tmp_path / "instance"), host="127.0.0.1",
                           port=mail_server.port, security="none", username="",
                           from_address="soapgw@example.com")
        outbox.queue_test_mail(db, "me@example.com", "soapgw@example.com")
    served_gateway(sqlite_url, SOAPGW_INSTANCE_PATH=str(tmp_path / "instance"))
    deadline = time.monotonic() + 30
    while not mail_server.received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [m["Subject"] for m in mail_server.received] == ["[soapgw] Test mail"]
    engine.dispose()


def test_the_queue_opens_a_write_transaction_only_for_new_events(gateway):
    from soapgw.core import events
    from soapgw.core.enums import EventType
    from soapgw.core.events import NewEvent
    with gateway.sessions.begin() as db:
        assert not outbox.has_news(db)  # nobody receives mail: no cursor
        recipients.add(db, "a@example.com", ["station.offline"])
        assert not outbox.has_news(db)
        events.publish(db, [NewEvent(EventType.STATION_OFFLINE, "CP-1", {
            "lastMessageAt": None, "heartbeatInterval": 300})])
        assert outbox.has_news(db)
        assert outbox.enqueue(db) == 1
        assert not outbox.has_news(db)
    (mail,) = mails(gateway)
    assert mail.subject == "[soapgw] CP-1: went offline (last message never)"
