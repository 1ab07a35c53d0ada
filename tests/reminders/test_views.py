"""The notifications page, the unsubscribe link and the delivery admin."""

import pytest
from django.urls import reverse

from creditokr.accounts.models import User
from creditokr.reminders.delivery import enqueue
from creditokr.reminders.models import Delivery, Kind, Preference, Status
from creditokr.reminders.tokens import make_token


def link(user_id: int, kind: str) -> str:
    return reverse("reminder_unsubscribe", args=[make_token(user_id, kind)])


def test_the_notifications_page_shows_the_defaults(client, people):
    client.force_login(people["member"])

    page = client.get(reverse("notification_preferences"))

    assert page.status_code == 200
    form = page.context["form"]
    assert form["check_in-enabled"].initial is True
    assert form["check_in-chat"].initial is False
    assert form["digest-enabled"].initial is False  # not senior management


def test_saving_the_notifications_page_stores_every_kind(client, people):
    client.force_login(people["member"])
    data = {"check_in-enabled": "on", "check_in-chat": "on", "digest-enabled": "on"}

    response = client.post(reverse("notification_preferences"), data)

    assert response.status_code == 302
    stored = {
        p.kind: (p.enabled, p.email, p.chat)
        for p in Preference.objects.filter(user=people["member"])
    }
    assert stored[Kind.CHECK_IN] == (True, False, True)
    assert stored[Kind.DIGEST] == (True, False, False)
    assert stored[Kind.DEADLINE] == (False, False, False)
    assert Kind.INVITATION not in stored


def test_the_page_lists_what_was_sent_to_the_person_only(client, people):
    enqueue(people["member"], Kind.OVERDUE, "o:1", subject="Mine overdue", text="t")
    enqueue(people["manager"], Kind.OVERDUE, "o:1", subject="Theirs overdue", text="t")
    client.force_login(people["member"])

    page = client.get(reverse("notification_preferences"))

    assert "Mine overdue" in page.text
    assert "Theirs overdue" not in page.text


def test_the_unsubscribe_link_asks_first_without_sign_in(client, people):
    page = client.get(link(people["member"].pk, Kind.DEADLINE))

    assert page.status_code == 200
    assert "Deadlines coming up" in page.text or "deadlines coming up" in page.text
    assert not Preference.objects.exists()


def test_a_link_checker_s_head_request_changes_nothing(client, people):
    response = client.head(link(people["member"].pk, Kind.DEADLINE))

    assert response.status_code == 200
    assert not Preference.objects.exists()


def test_the_unsubscribe_link_stops_only_that_kind_for_that_person(client, people):
    response = client.post(link(people["member"].pk, Kind.DEADLINE))

    assert response.status_code == 200
    (choice,) = Preference.objects.all()
    assert (choice.user, choice.kind, choice.enabled) == (
        people["member"],
        Kind.DEADLINE,
        False,
    )


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        # A signature from some other key or salt.
        "eyJ1IjoxLCJrIjoiZGVhZGxpbmUifQ:1xSrde:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_an_unsigned_token_is_refused(client, people, token):
    response = client.post(reverse("reminder_unsubscribe", args=[token]))

    assert response.status_code == 404
    assert not Preference.objects.exists()


def test_a_token_changed_to_someone_else_is_refused(client, people):
    token = make_token(people["member"].pk, Kind.DEADLINE)
    payload, rest = token.split(":", 1)
    other = make_token(people["manager"].pk, Kind.DEADLINE).split(":", 1)[0]

    response = client.post(reverse("reminder_unsubscribe", args=[f"{other}:{rest}"]))

    assert payload != other
    assert response.status_code == 404
    assert not Preference.objects.exists()


def test_invitations_cannot_be_unsubscribed_from(client, people):
    response = client.get(link(people["member"].pk, Kind.INVITATION))

    assert response.status_code == 404


def test_a_deactivated_persons_link_is_refused(client, people):
    User.objects.filter(pk=people["member"].pk).update(is_active=False)

    assert client.get(link(people["member"].pk, Kind.DEADLINE)).status_code == 404


@pytest.fixture
def dead_delivery(people):
    (delivery,) = enqueue(people["member"], Kind.OVERDUE, "o:1", subject="s", text="t")
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.DEAD, attempts=5)
    return delivery


def test_superusers_list_and_retry_deliveries_in_the_admin(client, dead_delivery):
    root = User.objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(root)
    changelist = reverse("admin:reminders_delivery_changelist")

    page = client.get(changelist, {"status__exact": "dead"})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1

    client.post(
        changelist,
        {"action": "retry_now", "_selected_action": [dead_delivery.pk]},
    )
    dead_delivery.refresh_from_db()
    assert (dead_delivery.status, dead_delivery.attempts) == (Status.PENDING, 0)


def test_staff_who_are_not_superusers_cannot_see_deliveries(client, dead_delivery):
    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)

    page = client.get(reverse("admin:reminders_delivery_changelist"))

    assert page.status_code == 403
