"""A form submitted twice (a double click, a resend) creates one thing.

Every create form carries a one-time token. The first save records it in
the same transaction as what it creates; a second POST with the same token
creates nothing and goes to what the first one made.
"""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse

from creditokr.okrs import form_flow, submissions
from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective
from creditokr.okrs.submissions import AlreadySaved, SubmissionKind, SubmissionToken
from tests.test_edit_objectives import new_objective_data

HTMX = {"HTTP_HX_REQUEST": "true"}
NOON = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _frozen(clock):
    return clock


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def token_from(client, url: str) -> str:
    token: str = client.get(url).context["form"]["submission"].value()
    return token


@pytest.fixture
def forms(people, teams, quarter, public_objective, public_key_result):
    """Each create form: its URL, the data it posts and what it creates."""
    member = people["member"]
    return {
        "objective": (
            reverse("objective_create"),
            new_objective_data(quarter, teams["credit_risk"], member),
            Objective,
        ),
        "key_result": (
            reverse("key_result_create", args=[public_objective.pk]),
            {
                "title": "Cure rate",
                "owner": member.pk,
                "kind": "increase",
                "unit": "percent",
                "start_value": "20",
                "target_mode": "absolute",
                "target_value": "30",
                "weight": "1",
            },
            KeyResult,
        ),
        "check_in": (
            reverse("check_in_create", args=[public_key_result.pk]),
            {"value": "7.4", "confidence": "", "note": "", "as_of": "2026-11-15"},
            CheckIn,
        ),
        "initiative": (
            reverse("initiative_create", args=[public_objective.pk]),
            {
                "title": "Call the 30+ bucket weekly",
                "assignee": member.pk,
                "priority": "high",
                "state": "not_started",
            },
            Initiative,
        ),
    }


KINDS = ["objective", "key_result", "check_in", "initiative"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_create_form_carries_a_fresh_token(client, people, forms, kind):
    client.force_login(people["member"])
    url, _, _ = forms[kind]

    first, second = token_from(client, url), token_from(client, url)

    assert len(first) >= 32
    assert first != second


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_post_twice_creates_one(client, people, forms, kind):
    client.force_login(people["member"])
    url, data, model = forms[kind]
    before = model.objects.count()
    data = data | {"submission": token_from(client, url)}

    first = client.post(url, data)
    second = client.post(url, data)

    assert model.objects.count() == before + 1
    assert first.status_code == 302
    assert second.status_code == 302
    assert second.url == first.url
    assert said(second)[-1] == "That was already saved."


def test_a_repeated_objective_goes_to_the_first_one(client, people, forms):
    client.force_login(people["member"])
    url, data, _ = forms["objective"]
    data = data | {"submission": token_from(client, url)}

    client.post(url, data)
    second = client.post(url, data)

    made = Objective.objects.get(title="Cut approval time to 2 days")
    assert second.url == reverse("objective_detail", args=[made.pk])


def test_a_repeated_key_result_points_at_the_first_one(
    client, people, forms, public_objective
):
    client.force_login(people["member"])
    url, data, _ = forms["key_result"]
    data = data | {"submission": token_from(client, url)}

    client.post(url, data)
    second = client.post(url, data, **HTMX)

    made = KeyResult.objects.get(title="Cure rate")
    page = reverse("objective_detail", args=[public_objective.pk])
    assert second["HX-Redirect"] == f"{page}#kr-{made.pk}"


@pytest.mark.parametrize("kind", KINDS)
def test_a_second_request_that_passed_the_first_check_creates_nothing(
    client, people, forms, kind, monkeypatch
):
    """Two requests in flight: both pass the early look-up; the database
    constraint on the token stops the second inside its transaction."""
    client.force_login(people["member"])
    url, data, model = forms[kind]
    before = model.objects.count()
    data = data | {"submission": token_from(client, url)}
    monkeypatch.setattr(form_flow, "earlier_save", lambda request: None)

    first = client.post(url, data)
    second = client.post(url, data)

    assert model.objects.count() == before + 1
    assert SubmissionToken.objects.count() == 1
    assert second.url == first.url
    assert said(second)[-1] == "That was already saved."


def test_a_failed_save_does_not_use_up_the_token(client, people, forms):
    client.force_login(people["member"])
    url, data, _ = forms["objective"]
    data = data | {"submission": token_from(client, url)}

    refused = client.post(url, data | {"title": ""})
    saved = client.post(url, data)

    assert refused.status_code == 400
    assert refused.context["form"]["submission"].value() == data["submission"]
    assert saved.status_code == 302
    assert Objective.objects.filter(title=data["title"]).count() == 1


def test_a_malformed_token_is_refused(client, people, forms):
    client.force_login(people["member"])
    url, data, _ = forms["objective"]

    response = client.post(url, data | {"submission": "x' OR 1=1"})

    assert response.status_code == 400
    assert "This form is out of date; reload the page." in response.text
    assert not Objective.objects.filter(title=data["title"]).exists()


def test_a_token_older_than_a_day_is_forgotten(client, people, forms, clock):
    client.force_login(people["member"])
    url, data, _ = forms["objective"]
    data = data | {"submission": token_from(client, url)}
    client.post(url, data)

    clock.move_to(NOON + timedelta(days=1, minutes=1))
    again = client.post(url, data)

    assert again.status_code == 302
    assert Objective.objects.filter(title=data["title"]).count() == 2
    assert SubmissionToken.objects.count() == 1
    assert SubmissionToken.objects.get().created_at > NOON + timedelta(days=1)


def test_new_tokens_are_random_and_url_safe():
    tokens = {submissions.new_token() for _ in range(100)}

    assert len(tokens) == 100
    assert all(submissions.TOKEN.fullmatch(token) for token in tokens)


def test_an_edit_form_carries_no_token(client, people, public_objective):
    client.force_login(people["member"])

    form = client.get(reverse("objective_edit", args=[public_objective.pk])).context[
        "form"
    ]

    assert "submission" not in form.fields


@pytest.mark.parametrize("kind", KINDS)
def test_htmx_disables_the_submit_button_while_a_form_is_sent(
    client, people, forms, kind
):
    client.force_login(people["member"])
    url, _, _ = forms[kind]

    page = client.get(url)

    assert "hx-disabled-elt=\"find button[type='submit']\"" in page.text


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3",
    reason="needs two real connections with row locks: runs in the PostgreSQL pass",
)
@pytest.mark.django_db(transaction=True)
def test_two_saves_at_the_same_moment_make_one(public_objective):
    """The second save waits on the first one's claim, then finds it taken."""
    token = submissions.new_token()
    claimed = threading.Event()
    outcomes: dict[str, object] = {}

    def make(title: str) -> Initiative:
        claimed.set()
        time.sleep(0.3)  # hold the claim while the other request arrives
        return Initiative.objects.create(objective=public_objective, title=title)

    def save(name: str) -> None:
        try:
            outcomes[name] = submissions.create_once(
                token, SubmissionKind.INITIATIVE, lambda: make(name)
            )
        except AlreadySaved as repeat:
            outcomes[name] = repeat
        finally:
            connection.close()

    first = threading.Thread(target=save, args=["first"])
    first.start()
    assert claimed.wait(timeout=5)
    second = threading.Thread(target=save, args=["second"])
    second.start()
    first.join(timeout=10)
    second.join(timeout=10)

    made = outcomes["first"]
    repeat = outcomes["second"]
    assert isinstance(made, Initiative)
    assert isinstance(repeat, AlreadySaved)
    assert repeat.earlier.object_id == made.pk
    assert list(Initiative.objects.values_list("title", flat=True)) == ["first"]
