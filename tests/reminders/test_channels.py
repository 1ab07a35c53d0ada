"""Email through a real SMTP server and chat through a real HTTP hook."""

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import apprise
import pytest

from creditokr.reminders.models import Delivery, Kind, Preference, Status
from creditokr.reminders.sending import send_due
from tests.conftest import make_key_result
from tests.reminders.conftest import MONDAY_9AM, at, plan_at
from tests.reminders.servers import chat_hook, smtp_server


@pytest.fixture
def planned(public_objective, people):
    make_key_result(public_objective, people["member"], title="Cure rate & roll")
    plan_at(MONDAY_9AM)


def smtp_settings(settings, port: int) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    settings.DEFAULT_FROM_EMAIL = "okr@example.test"


def test_a_reminder_arrives_by_smtp_with_text_html_and_headers(
    planned, settings, client
):
    with smtp_server() as (inbox, port):
        smtp_settings(settings, port)
        with at(MONDAY_9AM):
            assert send_due("w1") == 1

    (message,) = inbox.messages
    delivery = Delivery.objects.get()
    assert message["To"] == "member@example.test"
    assert message["From"] == "okr@example.test"
    assert message["Subject"] == "Time to check in: Cure rate & roll"
    assert (
        re.sub(r"\.[0-9a-f]{12}@", "@", message["Message-ID"])
        == f"<delivery-{delivery.pk}.check_in@okr.example.test>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert rich is not None
    text, html = plain.get_content(), rich.get_content()
    assert "Cure rate & roll" in text
    assert "Cure rate &amp; roll" in html
    link = message["List-Unsubscribe"].strip("<>")
    assert f"Stop messages like this one: {link}" in text

    # The link works without signing in: GET asks, POST unsubscribes.
    path = urlsplit(link).path
    assert client.get(path).status_code == 200
    assert not Preference.objects.exists()
    assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    (choice,) = Preference.objects.all()
    assert (choice.user.username, choice.kind, choice.enabled) == (
        "member",
        Kind.CHECK_IN,
        False,
    )


def test_a_refused_connection_is_recorded_and_retried(planned, settings):
    with smtp_server() as (_, port):
        pass  # stopped again: nothing listens on the port now
    smtp_settings(settings, port)

    with at(MONDAY_9AM):
        send_due("w1")

    delivery = Delivery.objects.get()
    assert delivery.status == Status.FAILED
    assert "Connection" in delivery.last_error


def test_chat_goes_to_the_configured_hook_as_plain_text(planned, settings, people):
    with chat_hook() as (received, port):
        settings.CHAT_URLS = [f"json://127.0.0.1:{port}/hook"]
        Preference.objects.create(
            user=people["member"], kind=Kind.CHECK_IN, email=False, chat=True
        )
        plan_at(MONDAY_9AM.replace(day=23))
        with at(datetime(2026, 11, 23, 9, 1, tzinfo=UTC)):
            send_due("w1")

    chat = Delivery.objects.get(channel="chat")
    assert chat.status == Status.SENT
    (posted,) = received
    # A chat channel is shared: it hears who has something due and where,
    # never the items (its members may not see them) or an unsubscribe link.
    assert posted["title"].startswith("CreditOKR: ")
    assert "check-ins are due" in posted["message"]
    assert "http://okr.example.test/my-work/" in posted["message"]
    assert "Cure rate" not in posted["message"]
    assert "unsubscribe" not in posted["message"].lower()


def test_a_chat_hook_that_is_down_is_a_failed_attempt(planned, settings, people):
    with chat_hook() as (_, port):
        pass
    settings.CHAT_URLS = [f"json://127.0.0.1:{port}/hook"]
    Preference.objects.create(
        user=people["member"], kind=Kind.CHECK_IN, email=False, chat=True
    )
    plan_at(MONDAY_9AM.replace(day=23))

    with at(datetime(2026, 11, 23, 9, 1, tzinfo=UTC)):
        send_due("w1")

    assert Delivery.objects.get(channel="chat").status == Status.FAILED


@pytest.mark.parametrize(
    "url",
    [
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#credit-risk",
        # Teams takes messages through a Power Automate workflow (apprise
        # 2.3 has no msteams:// any more, as Microsoft retired connectors).
        "workflows://prod-12.westeurope.logic.azure.com/a1b2c3d4e5f6/Xy9_Ab-Cd0EfGhIj",
        "https://prod-12.westeurope.logic.azure.com:443/workflows/a1b2c3d4e5f6/"
        "triggers/manual/paths/invoke?api-version=2016-06-01&sig=Xy9_Ab-Cd0EfGhIj",
    ],
)
def test_slack_and_teams_addresses_are_understood(url):
    assert apprise.Apprise.instantiate(url) is not None
