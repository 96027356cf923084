"""Outbox and SMTP delivery against a real SMTP server (aiosmtpd on 127.0.0.1)."""

import threading
from datetime import timedelta

import pytest

from portal import create_app
from portal.db import db
from portal.mail import commands, delivery, transport
from portal.mail import outbox as mail
from portal.models import Company, OutboxMessage, utcnow
from portal.sandbox.mailbox import register_devmail

HOUR = timedelta(hours=1)


@pytest.fixture
def mail_app(app, smtp):
    mail.init_app(app)
    commands.register_commands(app)
    app.config.update(PORTAL_SMTP_URL=smtp.url, PORTAL_MAIL_IMMEDIATE=False)
    with app.app_context():
        yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def company(mail_app):
    return Company.create(name="Acme Cloud", invoice_prefix="ACME")


def queue(company, n=1, *, name=None, to="ada@example.com", subject=None, key="k"):
    """Enqueue ``n`` sign-in e-mails in one committed transaction; return their ids."""
    context = {
        "company_name": name or company.name,
        "brand_color": "#0f766e",
        "portal_header": "Billing for Acme customers",
        "link": "http://portal.test/portal/access/abc?x=1&y=2",
        "lifetime": "15 minutes",
        "greeting_name": "Ada",
    }
    with db.atomic():
        rows = [
            mail.enqueue(
                company=company,
                kind="sign_in",
                to=to,
                template="sign_in",
                context=context,
                dedupe_key=f"{key}-{i}",
                subject=subject,
            )
            for i in range(n)
        ]
    return [row.id for row in rows]


def row(message_id) -> OutboxMessage:
    return OutboxMessage.get_by_id(message_id)


def test_rolled_back_transaction_leaves_no_message(company, smtp):
    with pytest.raises(RuntimeError), db.atomic():
        queue(company)
        raise RuntimeError("the business change failed")
    assert OutboxMessage.select().count() == 0
    assert delivery.deliver_due("w1") == 0
    assert smtp.envelopes == []


def test_enqueue_only_writes_and_dedupes(company, smtp):
    first = queue(company, key="same")
    again = queue(company, key="same")
    assert first == again
    assert row(first[0]).status == "pending"
    assert smtp.envelopes == []  # nothing leaves before a worker runs


def test_two_workers_send_each_message_exactly_once(mail_app, company, smtp):
    queue(company, 50)
    results = []

    def work(name):
        with mail_app.app_context(), db.connection_context():
            results.append(delivery.deliver_due(name, batch=50))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = [m["Message-ID"] for m in smtp.messages()]
    assert len(ids) == 50 and len(set(ids)) == 50
    assert sum(results) == 50
    statuses = {m.status for m in OutboxMessage.select()}
    assert statuses == {"sent"}
    assert {m.attempts for m in OutboxMessage.select()} == {1}


def test_server_down_keeps_message_pending_then_sends_once(mail_app, company, smtp, dead_smtp_url):
    (message_id,) = queue(company)
    mail_app.config["PORTAL_SMTP_URL"] = dead_smtp_url
    now = utcnow()
    assert delivery.deliver_due("w1", now=now) == 0
    down = row(message_id)
    assert (down.status, down.attempts) == ("pending", 1)
    assert down.next_attempt_at > now and down.last_error
    mail_app.config["PORTAL_SMTP_URL"] = smtp.url
    assert delivery.deliver_due("w1", now=now + timedelta(seconds=5)) == 0  # backing off
    assert delivery.deliver_due("w1", now=now + HOUR) == 1
    assert delivery.deliver_due("w1", now=now + 2 * HOUR) == 0
    assert len(smtp.envelopes) == 1
    assert (row(message_id).status, row(message_id).attempts) == ("sent", 2)


@pytest.mark.parametrize(
    "deferrals, status, attempts, delivered",
    [(3, "sent", 4, 1), (7, "sent", 8, 1), (8, "dead", 8, 0), (20, "dead", 8, 0)],
)
def test_retries_with_backoff_until_sent_or_dead(
    company, smtp, deferrals, status, attempts, delivered
):
    (message_id,) = queue(company)
    smtp.defer_next = deferrals
    now = utcnow()
    for hour in range(12):
        delivery.deliver_due("w1", now=now + hour * HOUR)
    message = row(message_id)
    assert (message.status, message.attempts) == (status, attempts)
    assert len(smtp.envelopes) == delivered
    assert (message.last_error is None) == (status == "sent")


@pytest.mark.parametrize("attempts, expected", [(1, 30), (2, 60), (4, 240), (7, 1920), (9, 3600)])
def test_backoff_doubles_and_is_capped(attempts, expected):
    assert delivery.backoff(attempts) == timedelta(seconds=expected)


def test_refused_recipient_is_dead_at_once(company, smtp):
    (message_id,) = queue(company)
    smtp.refuse_recipients = True
    assert delivery.deliver_due("w1") == 0
    assert (row(message_id).status, row(message_id).attempts) == ("dead", 1)


@pytest.mark.parametrize(
    "claim_offset, attempts_before, status_after, delivered",
    [
        (timedelta(seconds=-1), 1, "sent", 1),  # worker crashed: claim expired, picked up again
        (timedelta(seconds=60), 1, "sending", 0),  # another worker is still on it
        (timedelta(seconds=-1), 8, "dead", 0),  # crashed on the last allowed attempt
    ],
)
def test_abandoned_claims(company, smtp, claim_offset, attempts_before, status_after, delivered):
    (message_id,) = queue(company)
    now = utcnow()
    OutboxMessage.update(
        status="sending",
        claimed_by="crashed",
        claimed_until=now + claim_offset,
        attempts=attempts_before,
    ).where(OutboxMessage.id == message_id).execute()
    assert delivery.deliver_due("w1", now=now) == delivered
    assert row(message_id).status == status_after
    assert len(smtp.envelopes) == delivered


def test_message_headers_parts_and_escaping(mail_app, company, smtp):
    evil = "<script>alert(1)</script> & Sons"
    queue(company, name=evil, subject="Sign in\r\nBcc: thief@evil.example", key="evil")
    company.name = evil
    company.save()
    delivery.deliver_due("w1")
    (envelope,) = smtp.envelopes
    assert envelope.rcpt_tos == ["ada@example.com"]
    (received,) = smtp.messages()
    assert received["Subject"] == "Sign in Bcc: thief@evil.example"
    assert received["Bcc"] is None
    assert received["From"].addresses[0].display_name == evil
    assert received["From"].addresses[0].addr_spec == mail_app.config["PORTAL_MAIL_FROM"]
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert evil in text and "&lt;" not in text  # plain text is not HTML
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in html
    assert "x=1&amp;y=2" in html and "x=1&y=2" in text
    assert "This link expires in 15 minutes and can be used once." in text
    assert "If you didn't ask for this, you can ignore this email." in html.replace("&#39;", "'")


def test_message_id_is_stable_per_dedupe_key(mail_app, company):
    message = row(queue(company, key="stable")[0])
    built = [transport.build_message(message, company, "Billing <billing@acme.example>")]
    built.append(transport.build_message(message, company, "billing@acme.example"))
    assert built[0]["Message-ID"] == built[1]["Message-ID"]
    assert built[0]["Message-ID"].endswith("@acme.example>")
    assert "stable" not in built[0]["Message-ID"]  # the key itself is not disclosed


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com\r\nBcc: thief@evil.example",
        "a@x.example, b@y.example",
        "Ada <a@x.example>",
        "",
    ],
)
def test_addresses_that_could_add_recipients_are_refused(company, address):
    with pytest.raises(ValueError):
        queue(company, to=address)
    assert OutboxMessage.select().count() == 0


def test_trailing_newline_in_address_is_stripped(company):
    assert row(queue(company, to="ada@example.com\r\n")[0]).to_address == "ada@example.com"


def test_email_change_template(mail_app, company, smtp):
    with db.atomic():
        mail.enqueue(
            company=company,
            kind="email_change",
            to="new@example.com",
            template="email_change",
            context={
                "company_name": "Acme",
                "brand_color": "red; background:url(x)",
                "link": "http://portal.test/confirm",
                "lifetime": "30 minutes",
                "new_email": "new<b>@example.com",
            },
            dedupe_key="change-1",
        )
    delivery.deliver_due("w1")
    (received,) = smtp.messages()
    assert received["Subject"] == "Confirm your new billing email for Acme"
    html = received.get_body(("html",)).get_content()
    assert "new&lt;b&gt;@example.com" in html and "background:url" not in html
    assert "new<b>@example.com" in received.get_body(("plain",)).get_content()


@pytest.mark.parametrize("env, sent", [("development", 1), ("testing", None)])
def test_without_smtp_url(mail_app, company, env, sent):
    """Development: the dev mailbox is the inbox. Elsewhere: a clear error, nothing claimed."""
    (message_id,) = queue(company)
    mail_app.config.update(PORTAL_SMTP_URL="", PORTAL_ENV=env)
    if sent is None:
        with pytest.raises(transport.MailNotConfigured, match="PORTAL_SMTP_URL"):
            delivery.deliver_due("w1")
        assert (row(message_id).status, row(message_id).attempts) == ("pending", 0)
    else:
        assert delivery.deliver_due("w1") == sent
        assert row(message_id).status == "sent"


def test_cli_deliver_mail(mail_app, company, smtp):
    queue(company)
    result = mail_app.test_cli_runner().invoke(args=["deliver-mail"])
    assert result.exit_code == 0 and "Sent 1 message(s)." in result.output
    mail_app.config["PORTAL_SMTP_URL"] = ""
    result = mail_app.test_cli_runner().invoke(args=["deliver-mail"])
    assert result.exit_code == 1 and "PORTAL_SMTP_URL is not set" in result.output


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://mail.example:2525", ("mail.example", 2525, False, False, None, None)),
        ("smtp://u%40x:p%3Ass@mail.example", ("mail.example", 25, False, False, "u@x", "p:ss")),
        ("smtp://u:p@mail.example?starttls=1", ("mail.example", 587, False, True, "u", "p")),
        ("smtps://u:p@mail.example", ("mail.example", 465, True, False, "u", "p")),
    ],
)
def test_parse_smtp_url(url, expected):
    assert tuple(vars(transport.parse_smtp_url(url)).values()) == expected


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "smtp://host:notaport"])
def test_bad_smtp_url_is_a_clear_error(url):
    with pytest.raises(transport.MailNotConfigured):
        transport.parse_smtp_url(url)


def client_for(env, database_url):
    """GET on a fresh app in ``env``, on the portal's own host."""
    app = create_app(
        {
            "PORTAL_ENV": env,
            "PORTAL_BASE_URL": "http://portal.test",
            "PORTAL_DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        }
    )
    assert register_devmail(app) is (env == "development")
    register_devmail(app)  # idempotent: create_app mounts it already
    client = app.test_client()
    return lambda path: client.get(path, base_url="http://portal.test")


def test_dev_mailbox_shows_messages_without_running_them(database_url, company):
    queue(company, name='"><script>alert(1)</script>', key="dev")
    get = client_for("development", database_url)
    listing = get("/dev/mailbox")
    assert listing.status_code == 200
    assert "script-src" not in listing.headers["Content-Security-Policy"]
    detail = get(f"/dev/mailbox/{OutboxMessage.get().id}")
    page = detail.get_data(as_text=True)
    assert detail.status_code == 200
    assert "<script>" not in page and "<iframe title" in page and " sandbox " in page
    assert "http://portal.test/portal/access/abc?x=1&amp;y=2" in page
    assert get("/dev/mailbox/nope").status_code == 404


@pytest.mark.parametrize("env", ["testing", "production"])
def test_dev_mailbox_is_absent_outside_development(database_url, company, env):
    queue(company)
    get = client_for(env, database_url)
    assert get("/dev/mailbox").status_code == 404
    assert get(f"/dev/mailbox/{OutboxMessage.get().id}").status_code == 404
