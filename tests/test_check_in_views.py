"""Checking in on a key result through the form."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from creditokr.accounts.models import Role
from creditokr.cycles.models import CycleState
from creditokr.okrs import access
from creditokr.okrs.board import objective_cards
from creditokr.okrs.fields import NumberField
from creditokr.okrs.models import CheckIn, Objective
from tests.conftest import TODAY, make_key_result, make_user

HTMX = {"HTTP_HX_REQUEST": "true"}
NOON_ON_TODAY = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOON_ON_TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _frozen(clock):
    return clock


def check_in(client, key_result, **fields):
    data = {"value": "7.4", "confidence": "", "note": "", "as_of": "2026-11-15"}
    url = reverse("check_in_create", args=[key_result.pk])
    extra = fields.pop("extra", {})
    return client.post(url, data | fields, **extra)


def test_the_owner_checks_in_and_progress_follows(
    client, people, organisation, public_key_result
):
    client.force_login(people["member"])

    response = check_in(client, public_key_result, confidence="at_risk", note="Q3 push")

    saved = CheckIn.objects.get()
    assert response.status_code == 302
    assert saved.value == Decimal("7.4")
    assert saved.as_of == TODAY
    assert saved.confidence == "at_risk"
    assert saved.note == "Q3 push"
    assert saved.author == people["member"]
    actor = access.actor_for(people["member"])
    objectives = Objective.objects.filter(pk=public_key_result.objective_id)
    card = objective_cards(actor, objectives, organisation, TODAY)[0]
    assert card.key_results[0].progress == Decimal(50)
    assert card.progress == Decimal(50)


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_success_message_reads_as_a_sentence(client, people, public_objective):
    key_result = make_key_result(
        public_objective,
        people["member"],
        title="Decrease average credit approval time to 2 days.",
        unit="days",
        start_value=Decimal("3.2"),
        target_value=Decimal(2),
    )
    client.force_login(people["member"])

    response = check_in(client, key_result, value="2.6")

    assert said(response) == [
        "Checked in 2.6 days on “Decrease average credit approval time to 2 "
        "days” as of 15 Nov 2026."
    ]


def test_a_milestone_check_in_says_whether_it_is_done(client, people, public_objective):
    milestone = make_key_result(
        public_objective,
        people["member"],
        title="Bureau data in the approval flow.",
        kind="milestone",
        start_value=None,
        target_value=None,
    )
    client.force_login(people["member"])

    response = check_in(client, milestone, value="", done="yes")

    assert said(response) == [
        "Checked in on “Bureau data in the approval flow”: done, as of 15 Nov 2026."
    ]


def test_a_key_result_without_a_baseline_asks_for_no_value(
    client, people, public_objective
):
    key_result = make_key_result(
        public_objective,
        people["member"],
        start_value=None,
        target_value=None,
        target_mode="relative_percent",
        target_change=Decimal(-15),
    )
    client.force_login(people["member"])
    url = reverse("check_in_create", args=[key_result.pk])

    page = client.get(url)
    sent = check_in(client, key_result, value="7.4")

    assert "value" not in page.context["form"].fields
    assert 'name="value"' not in page.text
    assert "from — to —" not in page.text
    assert "Its baseline is not set yet; the owner sets it on" in page.text
    edit_url = reverse("key_result_edit", args=[key_result.pk])
    assert f'<a href="{edit_url}">the key result\'s edit page</a>.' in page.text
    assert "Save check-in" not in page.text
    assert sent.status_code == 400
    assert CheckIn.objects.count() == 0


@pytest.mark.parametrize("typed", ["abc", "NaN", "nan", "inf", "-Infinity"])
def test_a_value_that_is_not_a_finite_number_is_refused_clearly(
    client, people, public_key_result, typed
):
    client.force_login(people["member"])

    response = check_in(client, public_key_result, value=typed)

    assert response.status_code == 400
    [message] = response.context["form"].errors["value"]
    assert message.startswith("Enter a finite number, like 4.25")
    assert CheckIn.objects.count() == 0


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2026-02-31", "2026-02-31 is not a real date."),
        (
            "2026-11-16",
            "The as-of date cannot be in the future (today is 15 Nov 2026).",
        ),
        ("2026-09-30", "FY2027 Q3 starts on 1 Oct 2026; pick a date from then."),
        ("15/11/2026", "Enter the date as year-month-day, like 2026-11-15."),
    ],
)
def test_an_impossible_as_of_date_is_refused_inline(
    client, people, public_key_result, as_of, message
):
    client.force_login(people["member"])

    response = check_in(client, public_key_result, as_of=as_of)

    assert response.status_code == 400
    assert response.context["form"].errors["as_of"] == [message]
    assert CheckIn.objects.count() == 0


@pytest.mark.parametrize(
    ("unit", "kind", "value", "message"),
    [
        (
            "percent",
            "decrease",
            "101",
            "A percentage must be between 0 and 100, not 101.",
        ),
        ("days", "decrease", "-2", "A number of days cannot be negative (-2)."),
        (
            "count",
            "increase",
            "3.5",
            "A count must be a whole number of 0 or more, not 3.5.",
        ),
    ],
)
def test_a_value_impossible_in_its_unit_is_refused(
    client, people, public_objective, unit, kind, value, message
):
    start, target = (
        (Decimal(10), Decimal(2)) if kind == "decrease" else (Decimal(0), Decimal(40))
    )
    key_result = make_key_result(
        public_objective,
        people["member"],
        unit=unit,
        kind=kind,
        start_value=start,
        target_value=target,
    )
    client.force_login(people["member"])

    response = check_in(client, key_result, value=value)

    assert response.status_code == 400
    assert response.context["form"].errors["value"] == [message]
    assert CheckIn.objects.count() == 0


def test_a_missing_value_is_asked_for(client, people, public_key_result):
    client.force_login(people["member"])

    response = check_in(client, public_key_result, value="")

    assert response.context["form"].errors["value"] == ["Enter the current value."]
    assert CheckIn.objects.count() == 0


def test_back_dating_after_the_cycle_has_ended_is_allowed(
    client, people, clock, public_key_result
):
    clock.move_to(datetime(2027, 1, 10, 12, 0, tzinfo=UTC))
    client.force_login(people["member"])

    response = check_in(client, public_key_result, value="7.1", as_of="2026-12-30")

    assert response.status_code == 302
    saved = CheckIn.objects.get()
    assert saved.as_of == date(2026, 12, 30)
    assert saved.value == Decimal("7.1")


def test_late_check_ins_in_a_closed_cycle_are_allowed(
    client, people, clock, public_key_result
):
    cycle = public_key_result.objective.cycle
    cycle.state = CycleState.CLOSED
    cycle.save()
    clock.move_to(datetime(2027, 1, 10, 12, 0, tzinfo=UTC))
    client.force_login(people["member"])

    response = check_in(client, public_key_result, value="6.9", as_of="2026-12-31")

    assert response.status_code == 302
    assert CheckIn.objects.get().value == Decimal("6.9")


def test_the_as_of_date_defaults_to_today_in_the_organisation(
    client, people, organisation, public_key_result
):
    organisation.time_zone = "Pacific/Kiritimati"
    organisation.save()
    client.force_login(people["member"])

    response = client.get(reverse("check_in_create", args=[public_key_result.pk]))

    assert response.context["form"]["as_of"].value() == date(2026, 11, 16)


def test_a_milestone_asks_only_whether_it_is_done(client, people, public_objective):
    milestone = make_key_result(
        public_objective,
        people["member"],
        title="Bureau data in the approval flow",
        kind="milestone",
        start_value=None,
        target_value=None,
    )
    client.force_login(people["member"])

    form = client.get(reverse("check_in_create", args=[milestone.pk])).context["form"]
    missing = check_in(client, milestone, value="", done="")
    done = check_in(client, milestone, value="", done="yes")

    assert "value" not in form.fields
    assert "done" in form.fields
    assert missing.context["form"].errors["done"] == [
        "Say whether the milestone is done."
    ]
    assert done.status_code == 302
    saved = CheckIn.objects.get()
    assert saved.done is True
    assert saved.value is None


def test_a_number_key_result_does_not_ask_about_done(client, people, public_key_result):
    client.force_login(people["member"])

    form = client.get(reverse("check_in_create", args=[public_key_result.pk])).context[
        "form"
    ]

    assert "done" not in form.fields
    assert form.fields["value"].label == "Current value (%)"


def test_an_archived_key_result_takes_no_check_ins(client, people, public_key_result):
    public_key_result.archived = True
    public_key_result.save()
    client.force_login(people["member"])

    response = check_in(client, public_key_result)

    assert response.status_code == 400
    assert "archived" in response.content.decode()
    assert CheckIn.objects.count() == 0


def test_a_viewer_cannot_check_in(client, people, public_key_result):
    client.force_login(people["viewer"])

    assert check_in(client, public_key_result).status_code == 403
    assert CheckIn.objects.count() == 0


def test_a_member_cannot_check_in_on_someone_elses_key_result(
    client, people, teams, public_key_result
):
    colleague = make_user("colleague", teams["credit_risk"], Role.MEMBER)
    client.force_login(colleague)

    assert check_in(client, public_key_result).status_code == 403
    assert CheckIn.objects.count() == 0


def test_an_outsider_gets_404_for_a_team_only_key_result(
    client, people, private_key_result
):
    client.force_login(people["outsider"])

    assert check_in(client, private_key_result, value="3").status_code == 404
    assert CheckIn.objects.count() == 0


def test_htmx_gets_errors_with_200_and_success_as_a_client_redirect(
    client, people, public_key_result
):
    client.force_login(people["member"])

    bad = check_in(client, public_key_result, value="abc", extra=HTMX)
    good = check_in(client, public_key_result, extra=HTMX)

    assert bad.status_code == 200
    assert "Enter a finite number, like 4.25." in bad.content.decode()
    assert good.status_code == 200
    assert good["HX-Redirect"] == reverse(
        "objective_detail", args=[public_key_result.objective_id]
    )
    assert CheckIn.objects.count() == 1


@given(text=st.text(max_size=40))
def test_whatever_is_typed_the_value_is_a_storable_number_or_a_clear_message(text):
    field = NumberField(required=False)
    value, messages = None, []

    try:
        value = field.clean(text)
    except ValidationError as error:
        messages = error.messages

    if messages:
        assert messages[0].startswith(
            ("Enter a finite number", "Use ", "Leave out the % sign")
        ) or messages[0].endswith(
            "is too large to store; the largest is 99,999,999,999.9999."
        )
    else:
        assert value is None or (value.is_finite() and abs(value) < Decimal(10) ** 18)


def test_the_cycle_list_and_the_check_in_form_use_few_queries(
    client, people, public_key_result, django_assert_max_num_queries
):
    client.force_login(people["member"])
    url = reverse("check_in_create", args=[public_key_result.pk])

    with django_assert_max_num_queries(12):
        client.get(url, **HTMX)
    with django_assert_max_num_queries(12):
        client.get(reverse("cycle_list"))


@pytest.fixture
def key_result_in_currency(client, people, public_objective):
    member = people["member"]
    key_result = make_key_result(
        public_objective,
        member,
        title="Recovered amount",
        kind="increase",
        unit="currency",
        currency_code="GBP",
        start_value=Decimal(0),
        target_value=Decimal("99999999999.9999"),
    )
    client.force_login(member)
    return key_result, client


def test_the_largest_storable_amount_round_trips_exactly(key_result_in_currency):
    """SQLite keeps about 15 significant digits; we accept no more."""
    key_result, client = key_result_in_currency

    client.post(
        reverse("check_in_create", args=[key_result.pk]),
        {"value": "99999999999.9999", "as_of": "2026-11-14", "confidence": ""},
    )

    stored = CheckIn.objects.get(key_result=key_result)
    assert stored.value == Decimal("99999999999.9999")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "100000000000",
            "100000000000 is too large to store; the largest is 99,999,999,999.9999.",
        ),
        ("1e999", "1e999 is too large to store; the largest is 99,999,999,999.9999."),
        ("1.23456", "Use at most 4 decimal places."),
        ("6.8%", "Leave out the % sign: enter 6.8 for 6.8%."),
    ],
)
def test_values_that_cannot_be_stored_exactly_are_refused(
    key_result_in_currency, typed, message
):
    key_result, client = key_result_in_currency

    response = client.post(
        reverse("check_in_create", args=[key_result.pk]),
        {"value": typed, "as_of": "2026-11-14", "confidence": ""},
    )

    assert message in response.text
    assert not CheckIn.objects.filter(key_result=key_result).exists()
