"""Adding, editing and archiving key results through the forms."""

from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from creditokr.accounts.models import Role
from creditokr.okrs import access, services
from creditokr.okrs.board import objective_cards
from creditokr.okrs.models import KeyResult, Objective
from tests.conftest import TODAY, make_key_result, make_user

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


def key_result_data(owner, **changes) -> dict[str, object]:
    data = {
        "title": "30+ delinquency rate",
        "owner": owner.pk,
        "kind": "decrease",
        "unit": "percent",
        "currency_code": "",
        "unit_label": "",
        "start_value": "8.0",
        "target_mode": "absolute",
        "target_value": "6.8",
        "target_change": "",
        "due_date": "",
        "weight": "1",
    }
    return data | changes


def edit_data(key_result: KeyResult, **changes) -> dict[str, object]:
    data = key_result_data(
        key_result.owner,
        title=key_result.title,
        kind=key_result.kind,
        unit=key_result.unit,
        start_value=str(key_result.start_value),
        target_mode=key_result.target_mode,
        target_value=str(key_result.target_value),
        target_change=""
        if key_result.target_change is None
        else key_result.target_change,
        version=key_result.version,
    )
    return data | changes


def create(client, objective, data, **extra):
    url = reverse("key_result_create", args=[objective.pk])
    return client.post(url, data, **extra)


def errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors[field])


class FormOnPage(HTMLParser):
    """What a browser would send from the page's form, as it was shown."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        name = found.get("name", "")
        if tag == "input" and (
            found.get("type") not in ("radio", "checkbox") or "checked" in found
        ):
            self.data[name] = found.get("value", "")
        elif tag == "textarea":
            self.textarea = name
            self.data[name] = ""
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select and "selected" in found:
            self.data[self.select] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            # Browsers drop the newline Django puts after <textarea>.
            text = self.data[self.textarea]
            self.data[self.textarea] = text.removeprefix("\n")
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.data[self.textarea] += data


def shown_form(page) -> dict[str, str]:
    parser = FormOnPage()
    parser.feed(page.text)
    return parser.data


# Creating


def test_a_manager_adds_a_key_result_with_a_fixed_target(
    client, people, public_objective
):
    client.force_login(people["manager"])

    response = create(client, public_objective, key_result_data(people["member"]))

    key_result = KeyResult.objects.get()
    assert response.status_code == 302
    assert key_result.objective == public_objective
    assert key_result.owner == people["member"]
    assert key_result.start_value == Decimal("8.0")
    assert key_result.target_value == Decimal("6.8")
    assert key_result.weight == Decimal(1)
    assert key_result.due_date is None


def test_a_title_ending_in_a_full_stop_is_quoted_without_it(
    client, people, public_objective
):
    client.force_login(people["member"])
    data = key_result_data(people["member"], title="Cut 30+ delinquency to 6.8%.")

    response = create(client, public_objective, data)

    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert said == ["Added “Cut 30+ delinquency to 6.8%”."]


def test_a_relative_percent_target_is_worked_out_from_the_baseline(
    client, people, public_objective
):
    client.force_login(people["member"])
    data = key_result_data(
        people["member"],
        target_mode="relative_percent",
        target_change="-15",
        target_value="",
    )

    create(client, public_objective, data)

    key_result = KeyResult.objects.get()
    assert key_result.target_value == Decimal("6.8")
    assert key_result.target_change == Decimal(-15)
    assert key_result.target_mode == "relative_percent"


def test_a_percentage_points_target_is_the_baseline_plus_the_change(
    client, people, public_objective
):
    client.force_login(people["member"])
    data = key_result_data(
        people["member"], target_mode="percentage_points", target_change="-1.5"
    )

    create(client, public_objective, data)

    assert KeyResult.objects.get().target_value == Decimal("6.5")


def test_editing_the_baseline_of_a_relative_target_moves_the_target(
    client, people, public_objective
):
    key_result = make_key_result(
        public_objective,
        people["member"],
        target_mode="relative_percent",
        target_change=Decimal(-15),
    )
    client.force_login(people["member"])
    url = reverse("key_result_edit", args=[key_result.pk])

    response = client.post(
        url, edit_data(key_result, start_value="10", reason="Restated baseline")
    )

    key_result.refresh_from_db()
    assert response.status_code == 302
    assert key_result.start_value == Decimal(10)
    assert key_result.target_value == Decimal("8.5")


def test_a_definition_can_be_entered_on_the_new_key_result_form(
    client, people, public_objective
):
    client.force_login(people["member"])
    url = reverse("key_result_create", args=[public_objective.pk])
    page = client.get(url)
    definition = "Accounts 30+ days past due / active accounts, month end."

    response = client.post(
        url, key_result_data(people["member"], definition=definition)
    )

    assert 'name="definition"' in page.text
    assert "What the number counts and its conventions" in page.text
    assert response.status_code == 302
    assert KeyResult.objects.get().definition == definition


def test_changing_only_the_weight_keeps_how_it_is_measured(
    client, people, public_objective
):
    definition = "Mean days from a complete application to the credit decision."
    key_result = make_key_result(
        public_objective,
        people["member"],
        title="Average credit approval time",
        unit="days",
        start_value=Decimal("3.2"),
        target_value=Decimal(2),
        definition=definition,
    )
    client.force_login(people["member"])
    url = reverse("key_result_edit", args=[key_result.pk])
    sent = shown_form(client.get(url)) | {"weight": "2"}

    response = client.post(url, sent)

    key_result.refresh_from_db()
    assert response.status_code == 302
    assert key_result.weight == Decimal(2)
    assert key_result.definition == definition


def test_the_key_result_pages_show_every_field_of_the_form(
    client, people, public_key_result
):
    """A field the page leaves out is posted empty and wiped on each save."""
    client.force_login(people["member"])
    pages = [
        client.get(reverse("key_result_create", args=[public_key_result.objective_id])),
        client.get(reverse("key_result_edit", args=[public_key_result.pk])),
    ]

    for page in pages:
        sent = shown_form(page)
        assert set(page.context["form"].fields) <= set(sent)


def test_a_milestone_needs_no_numbers(client, people, public_objective):
    client.force_login(people["member"])
    data = key_result_data(
        people["member"],
        title="Bureau data integrated",
        kind="milestone",
        start_value="",
        target_value="",
    )

    response = create(client, public_objective, data)

    key_result = KeyResult.objects.get()
    assert response.status_code == 302
    assert key_result.kind == "milestone"
    assert key_result.target_value is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"target_value": "9"},
            "target_value",
            "A decrease needs a target below the start value.",
        ),
        (
            {"kind": "increase", "target_value": "6"},
            "target_value",
            "An increase needs a target above the start value.",
        ),
        (
            {
                "target_mode": "relative_percent",
                "start_value": "",
                "target_change": "-15",
            },
            "start_value",
            "A relative target needs a baseline (start value).",
        ),
        (
            {"unit": "currency"},
            "currency_code",
            "Give the currency's code, like GBP or EUR.",
        ),
        (
            {"unit": "currency", "currency_code": "gbp"},
            "currency_code",
            "A currency code is three capital letters, like GBP or EUR, not 'gbp'.",
        ),
        (
            {"start_value": "120", "kind": "stay_below", "target_value": "5"},
            "start_value",
            "A percentage must be between 0 and 100, not 120.",
        ),
        (
            {"due_date": "2026-09-30"},
            "due_date",
            "FY2027 Q3 starts on 1 Oct 2026; the due date cannot be before that.",
        ),
        (
            {"due_date": "2027-01-01"},
            "due_date",
            "FY2027 Q3 ends on 31 Dec 2026; pick a date up to then, or leave it "
            "empty for the cycle end.",
        ),
        ({"due_date": "2026-02-31"}, "due_date", "2026-02-31 is not a real date."),
        (
            {"weight": "-1"},
            "weight",
            "A weight cannot be negative; use 0 to leave it out of the roll-up.",
        ),
        ({"start_value": "abc"}, "start_value", "Enter a finite number, like 4.25."),
        ({"target_value": "NaN"}, "target_value", "Enter a finite number, like 4.25."),
        (
            {"weight": "100000"},
            "weight",
            "100000 is too large to store; the largest is 99,999.999.",
        ),
        (
            {
                "unit": "count",
                "kind": "increase",
                "start_value": "1.5",
                "target_value": "40",
            },
            "start_value",
            "A count must be a whole number of 0 or more, not 1.5.",
        ),
    ],
)
def test_each_bad_definition_gets_its_own_message_and_nothing_is_saved(
    client, people, public_objective, changes, field, message
):
    client.force_login(people["member"])

    response = create(
        client, public_objective, key_result_data(people["member"], **changes)
    )

    assert response.status_code == 400
    assert errors(response, field) == [message]
    assert not KeyResult.objects.exists()


def test_a_bad_edit_changes_nothing(client, people, public_key_result):
    client.force_login(people["member"])
    url = reverse("key_result_edit", args=[public_key_result.pk])

    response = client.post(
        url, edit_data(public_key_result, title="New", target_value="9")
    )

    assert response.status_code == 400
    public_key_result.refresh_from_db()
    assert public_key_result.title == "30+ delinquency rate"
    assert public_key_result.target_value == Decimal("6.8")
    assert public_key_result.version == 1


def test_a_member_may_only_make_themselves_the_owner(client, people, teams, quarter):
    objective = Objective.objects.create(
        cycle=quarter, team=teams["credit_risk"], owner=people["member"], title="Mine"
    )
    client.force_login(people["member"])

    form = client.get(reverse("key_result_create", args=[objective.pk])).context["form"]
    response = create(client, objective, key_result_data(people["manager"]))

    assert list(form.fields["owner"].queryset) == [people["member"]]
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors
    assert not KeyResult.objects.exists()


def test_a_manager_may_pick_any_active_owner(client, people, public_objective):
    client.force_login(people["manager"])

    form = client.get(reverse("key_result_create", args=[public_objective.pk])).context[
        "form"
    ]

    assert people["outsider"] in form.fields["owner"].queryset


def test_a_viewer_cannot_add_or_edit_key_results(
    client, people, public_objective, public_key_result
):
    client.force_login(people["viewer"])

    added = create(client, public_objective, key_result_data(people["viewer"]))
    edit_url = reverse("key_result_edit", args=[public_key_result.pk])
    edited = client.post(edit_url, edit_data(public_key_result, title="X"))

    assert added.status_code == 403
    assert edited.status_code == 403
    assert KeyResult.objects.count() == 1


def test_an_outsider_gets_404_for_key_results_of_a_team_only_objective(
    client, people, private_objective, private_key_result
):
    client.force_login(people["outsider"])

    assert (
        client.get(
            reverse("key_result_create", args=[private_objective.pk])
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("key_result_edit", args=[private_key_result.pk])).status_code
        == 404
    )
    assert (
        client.post(
            reverse("key_result_archive", args=[private_key_result.pk]),
            {"action": "archive"},
        ).status_code
        == 404
    )


def test_a_second_save_over_a_newer_version_is_a_conflict(
    client, people, public_key_result
):
    client.force_login(people["member"])
    url = reverse("key_result_edit", args=[public_key_result.pk])
    loaded = client.get(url).context["form"]["version"].value()
    theirs = KeyResult.objects.get(pk=public_key_result.pk)
    theirs.target_value = Decimal("7")
    services.update_key_result(people["manager"], theirs, 1, reason="Budget cut")

    response = client.post(
        url, edit_data(public_key_result, target_value="6", version=loaded)
    )

    assert response.status_code == 409
    assert "Someone else changed this key result" in response.content.decode()
    assert ("Target value", "7") in response.context["conflict"].values
    public_key_result.refresh_from_db()
    assert public_key_result.target_value == Decimal(7)

    over_htmx = client.post(
        url, edit_data(public_key_result, target_value="6", version=loaded), **HTMX
    )
    assert over_htmx.status_code == 200
    assert "Someone else changed this key result" in over_htmx.content.decode()


def test_htmx_gets_errors_with_200_and_success_as_a_client_redirect(
    client, people, public_objective
):
    client.force_login(people["member"])

    bad = create(
        client, public_objective, key_result_data(people["member"], title=""), **HTMX
    )
    good = create(client, public_objective, key_result_data(people["member"]), **HTMX)

    assert bad.status_code == 200
    assert "This field is required." in bad.content.decode()
    assert good.status_code == 200
    page = reverse("objective_detail", args=[public_objective.pk])
    assert good["HX-Redirect"] == f"{page}#kr-{KeyResult.objects.get().pk}"


# Archiving


def test_an_archived_key_result_leaves_the_objective_progress_until_restored(
    client, people, organisation, public_objective, public_key_result
):
    other = make_key_result(public_objective, people["member"], title="Cure rate")
    services.record_check_in(
        people["member"], public_key_result, as_of=TODAY, value=Decimal("7.4")
    )
    client.force_login(people["member"])
    url = reverse("key_result_archive", args=[other.pk])
    actor = access.actor_for(people["member"])

    def progress():
        objectives = Objective.objects.filter(pk=public_objective.pk)
        return objective_cards(actor, objectives, organisation, TODAY)[0].progress

    assert progress() == Decimal(25)
    assert client.post(url, {"action": "archive"}).status_code == 302
    other.refresh_from_db()
    assert other.archived
    assert progress() == Decimal(50)

    client.post(url, {"action": "restore"})
    other.refresh_from_db()
    assert not other.archived
    assert progress() == Decimal(25)


def test_archiving_a_key_result_needs_a_post(client, people, public_key_result):
    client.force_login(people["member"])

    response = client.get(reverse("key_result_archive", args=[public_key_result.pk]))

    assert response.status_code == 405


# Keeping what the editor did not change


def test_a_deactivated_owner_stays_when_a_manager_edits_the_title(
    client, people, public_key_result
):
    member = people["member"]
    member.is_active = False
    member.save()
    client.force_login(people["manager"])
    url = reverse("key_result_edit", args=[public_key_result.pk])

    page = client.get(url)
    response = client.post(url, edit_data(public_key_result, title="30+ DPD rate"))

    assert (
        f'<option value="{member.pk}" selected>Member (member, deactivated)</option>'
        in page.text
    )
    assert response.status_code == 302
    public_key_result.refresh_from_db()
    assert public_key_result.owner == member
    assert public_key_result.title == "30+ DPD rate"


def test_a_deactivated_person_is_not_offered_for_new_key_results(
    client, people, public_objective
):
    people["outsider"].is_active = False
    people["outsider"].save()
    client.force_login(people["manager"])

    form = client.get(reverse("key_result_create", args=[public_objective.pk])).context[
        "form"
    ]

    assert people["outsider"] not in form.fields["owner"].queryset


# Who may own a key result


def offered(page, field: str) -> list[str]:
    choices = page.context["form"].fields[field].widget.choices
    return [str(label) for value, label in choices if value != ""]


@pytest.fixture
def collector(teams):
    """A member of Collections who only reads Credit Risk's objectives."""
    collector = make_user("collector", teams["collections"], Role.MEMBER)
    collector.memberships.create(team=teams["credit_risk"], role=Role.VIEWER)
    return collector


def test_a_team_only_key_result_is_offered_to_those_who_can_work_on_it(
    client, people, private_objective, collector
):
    client.force_login(people["manager"])

    page = client.get(reverse("key_result_create", args=[private_objective.pk]))

    assert offered(page, "owner") == [
        "Admin (admin)",
        "Manager (manager)",
        "Member (member)",
    ]


def test_an_organisation_wide_key_result_is_offered_to_anyone_who_can_act(
    client, people, public_objective, collector
):
    client.force_login(people["manager"])

    page = client.get(reverse("key_result_create", args=[public_objective.pk]))

    assert offered(page, "owner") == [
        "Admin (admin)",
        "Collector (collector)",
        "Manager (manager)",
        "Member (member)",
        "Outsider (outsider)",
    ]


@pytest.mark.parametrize(
    ("who", "message"),
    [
        (
            "outsider",
            "Outsider cannot see this team-only objective; pick someone in "
            "Credit Risk.",
        ),
        (
            "viewer",
            "Viewer has read-only access and could not check in or change "
            "anything; pick someone with a member or manager role.",
        ),
        (
            "collector",
            "Collector is a viewer in Credit Risk and could not check in or "
            "change this team-only objective; pick a member or manager of "
            "Credit Risk.",
        ),
    ],
)
def test_an_owner_who_could_not_do_the_work_is_refused_by_name(
    client, people, private_objective, collector, who, message
):
    person = collector if who == "collector" else people[who]
    client.force_login(people["manager"])

    response = create(client, private_objective, key_result_data(person))

    assert response.status_code == 400
    assert errors(response, "owner") == [message]
    assert not KeyResult.objects.exists()


def test_a_read_only_owner_is_refused_on_an_organisation_wide_objective_too(
    client, people, public_key_result
):
    client.force_login(people["manager"])
    url = reverse("key_result_edit", args=[public_key_result.pk])

    response = client.post(url, edit_data(public_key_result, owner=people["viewer"].pk))

    assert response.status_code == 400
    assert errors(response, "owner") == [
        "Viewer has read-only access and could not check in or change anything; "
        "pick someone with a member or manager role."
    ]
    public_key_result.refresh_from_db()
    assert public_key_result.owner == people["member"]


def test_an_owner_who_cannot_see_it_is_kept_when_other_fields_change(
    client, people, private_key_result
):
    KeyResult.objects.filter(pk=private_key_result.pk).update(owner=people["outsider"])
    private_key_result.refresh_from_db()
    client.force_login(people["manager"])
    url = reverse("key_result_edit", args=[private_key_result.pk])

    page = client.get(url)
    response = client.post(url, edit_data(private_key_result, weight="2"))

    outsider = people["outsider"]
    assert (
        f'<option value="{outsider.pk}" selected>Outsider (outsider) '
        "(cannot see this objective)</option>" in page.text
    )
    assert response.status_code == 302
    private_key_result.refresh_from_db()
    assert private_key_result.owner == outsider
    assert private_key_result.weight == Decimal(2)


def test_a_read_only_owner_is_labelled_as_such(client, people, public_key_result):
    KeyResult.objects.filter(pk=public_key_result.pk).update(owner=people["viewer"])
    client.force_login(people["manager"])

    page = client.get(reverse("key_result_edit", args=[public_key_result.pk]))

    assert "Viewer (viewer) (read-only)" in offered(page, "owner")


def test_the_admin_and_every_other_path_refuse_an_owner_who_cannot_see_it(
    people, private_objective
):
    key_result = KeyResult(
        objective=private_objective,
        owner=people["outsider"],
        title="Watch-list reviews",
        kind="increase",
        unit="count",
        start_value=Decimal(0),
        target_value=Decimal(40),
    )

    with pytest.raises(ValidationError) as refused:
        services.check_key_result(key_result)

    assert refused.value.message_dict == {
        "owner": [
            "Outsider cannot see this team-only objective; pick someone in Credit Risk."
        ]
    }


# Where relative-target errors show


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"target_mode": "relative_percent", "target_change": "15"},
            "This change puts the target at 9.2. A decrease needs a target below the "
            "start value.",
        ),
        (
            {
                "kind": "increase",
                "target_mode": "percentage_points",
                "target_change": "-2",
            },
            "This change puts the target at 6. An increase needs a target above the "
            "start value.",
        ),
        (
            {
                "kind": "increase",
                "start_value": "80",
                "target_mode": "relative_percent",
                "target_change": "50",
            },
            "This change puts the target at 120. A percentage must be between 0 "
            "and 100, not 120.",
        ),
    ],
)
def test_relative_target_errors_show_under_the_target_change(
    client, people, public_objective, changes, message
):
    client.force_login(people["member"])
    data = key_result_data(people["member"], target_value="", **changes)

    response = create(client, public_objective, data)

    assert response.status_code == 400
    assert errors(response, "target_change") == [message]
    assert "target_value" not in response.context["form"].errors
    assert not KeyResult.objects.exists()
