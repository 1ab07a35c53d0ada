"""The history on an objective's page, its own history page and the
organisation-wide activity feed: what each reader sees, and what not."""

from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from creditokr.accounts.models import Role
from creditokr.activity.models import ChangeRecord
from creditokr.activity.recording import attribute
from creditokr.cycles.services import advance_cycle_state
from creditokr.okrs import services
from creditokr.okrs.models import Initiative, KeyResult, Objective
from tests.activity.conftest import NOW
from tests.conftest import TODAY, make_key_result, make_objective, make_user

HTMX = {"HX-Request": "true"}


def history_url(objective: Objective, query: str = "") -> str:
    return reverse("objective_history", args=[objective.pk]) + query


def sentences(response) -> list[str]:
    return [entry.sentence for entry in response.context["entries"]]


@pytest.fixture
def edited(people, public_key_result):
    """A key result whose target went from 6.8% to 6.5%, with a reason, and
    a check-in on it, an hour later."""
    key_result = KeyResult.objects.get(pk=public_key_result.pk)
    key_result.target_value = Decimal("6.5")
    services.update_key_result(
        people["manager"], key_result, 1, reason="Risk appetite cut"
    )
    with time_machine.travel(NOW.replace(hour=13), tick=False):
        services.record_check_in(
            people["member"],
            key_result,
            as_of=TODAY,
            value=Decimal("7.4"),
            confidence="at_risk",
            note="Bureau feed late",
            today=TODAY,
        )
    return key_result


# An objective's history


def test_the_history_page_shows_who_when_what_and_why(client, people, edited):
    people["viewer"].time_zone = "Asia/Singapore"
    people["viewer"].save()
    client.force_login(people["viewer"])

    page = client.get(history_url(edited.objective))

    assert page.status_code == 200
    text = page.content.decode()
    assert sentences(page) == [
        "Member recorded 7.4% on “30+ delinquency rate”",
        "Manager changed the target of key result “30+ delinquency rate”",
        "CreditOKR created key result “30+ delinquency rate”",
        "CreditOKR created objective “Reduce 30+ delinquency”",
    ]
    target = page.context["entries"][1]
    assert [(c.label, c.before, c.after) for c in target.changes] == [
        ("Target", "6.8%", "6.5%")
    ]
    assert "Target:</span> 6.8% → 6.5%" in text
    assert "Reason: Risk appetite cut" in text
    # 13:00 UTC is 21:00 in Singapore.
    assert "15 Nov 2026, 21:00" in text
    check_in = page.context["entries"][0]
    assert check_in.details == [
        ("As of", "15 Nov 2026"),
        ("Confidence", "At risk"),
        ("Note", "Bureau feed late"),
        ("Objective status", "Not started → On track"),
        ("Key result status", "Not started → On track"),
    ]


def test_the_objective_page_loads_its_history_lazily(client, people, edited):
    client.force_login(people["viewer"])
    url = history_url(edited.objective)

    page = client.get(reverse("objective_detail", args=[edited.objective_id]))
    section = client.get(url, headers=HTMX)

    assert f'hx-get="{url}" hx-trigger="load"' in page.content.decode()
    assert "Risk appetite cut" not in page.content.decode()
    assert section.status_code == 200
    assert "<html" not in section.content.decode()
    assert 'id="objective-history"' in section.content.decode()
    assert "Reason: Risk appetite cut" in section.content.decode()
    assert "HX-Request" in section["Vary"]


def test_the_section_shows_the_newest_ten_and_links_to_the_rest(
    client, people, public_objective
):
    for n in range(11):
        public_objective.title = f"Title {n}"
        attribute(public_objective, people["manager"])
        public_objective.save()
    client.force_login(people["viewer"])

    section = client.get(history_url(public_objective), headers=HTMX)

    shown = sentences(section)
    assert len(shown) == 10
    assert section.context["more"] is True
    assert shown[0] == "Manager changed the title of objective “Title 10”"
    assert "See all changes" in section.content.decode()


def test_the_full_history_is_paged_by_fifty(client, people, public_objective):
    for n in range(50):
        public_objective.title = f"Title {n}"
        public_objective.save()
    client.force_login(people["viewer"])

    first = client.get(history_url(public_objective))
    second = client.get(history_url(public_objective, "?page=2"))

    # 50 edits and the creation: 51 changes.
    assert first.context["page"].paginator.count == 51
    assert len(first.context["entries"]) == 50
    assert sentences(second) == ["CreditOKR created objective “Reduce 30+ delinquency”"]
    assert "?page=2" in first.content.decode()


def test_one_key_results_history_has_its_changes_and_check_ins_only(
    client, people, edited
):
    other = make_key_result(edited.objective, people["member"], title="Cure rate")
    initiative = Initiative.objects.create(
        objective=edited.objective, title="Call campaign", key_result=other
    )
    client.force_login(people["viewer"])

    only_kr = client.get(history_url(edited.objective, f"?key_result={edited.pk}"))
    only_initiative = client.get(
        history_url(edited.objective, f"?initiative={initiative.pk}")
    )

    assert sentences(only_kr) == [
        "Member recorded 7.4% on “30+ delinquency rate”",
        "Manager changed the target of key result “30+ delinquency rate”",
        "CreditOKR created key result “30+ delinquency rate”",
    ]
    assert sentences(only_initiative) == [
        "CreditOKR created initiative “Call campaign”"
    ]
    assert f"?key_result={edited.pk}" in only_kr.content.decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("?key_result=abc", "key_result", "Pick one of this objective's key results"),
        ("?initiative=99999", "initiative", "Pick one of this objective's initiatives"),
    ],
)
def test_a_filter_value_not_offered_is_refused_with_what_to_pick(
    client, people, edited, query, field, message
):
    client.force_login(people["viewer"])

    response = client.get(history_url(edited.objective, query))

    assert response.status_code == 400
    [error] = response.context["filters"].errors[field]
    assert error.startswith(message)
    assert "entries" not in response.context


def test_a_key_result_of_another_objective_is_not_offered(
    client, people, edited, quarter, teams
):
    elsewhere = make_key_result(
        make_objective(quarter, teams["credit_risk"], people["member"]),
        people["member"],
    )
    client.force_login(people["viewer"])

    response = client.get(history_url(edited.objective, f"?key_result={elsewhere.pk}"))

    assert response.status_code == 400


def test_a_hidden_parent_is_not_named_in_a_visible_objectives_history(
    client, people, public_objective, private_objective
):
    public_objective.parent = private_objective
    public_objective.save()
    client.force_login(people["outsider"])

    page = client.get(history_url(public_objective))

    [change] = page.context["entries"][0].changes
    assert (change.label, change.before, change.after) == (
        "Parent objective",
        "—",
        "an objective you cannot see",
    )
    assert private_objective.title not in page.content.decode()


def test_a_visible_parent_is_named(client, people, public_objective, private_objective):
    public_objective.parent = private_objective
    public_objective.save()
    client.force_login(people["viewer"])

    page = client.get(history_url(public_objective))

    [change] = page.context["entries"][0].changes
    assert change.after == "Tighten limits for the watch list"


# Access


@pytest.fixture
def private_history(people, private_key_result):
    """A team-only objective with an edit, a check-in and an archive."""
    objective = private_key_result.objective
    objective.priority = "high"
    attribute(objective, people["manager"], "Regulator visit")
    objective.save()
    services.record_check_in(
        people["member"],
        private_key_result,
        as_of=TODAY,
        value=Decimal(12),
        today=TODAY,
    )
    services.archive_key_result(people["manager"], private_key_result)
    return objective


def test_an_outsider_cannot_open_a_team_only_objectives_history(
    client, people, private_history
):
    client.force_login(people["outsider"])

    assert client.get(history_url(private_history)).status_code == 404
    assert client.get(history_url(private_history), headers=HTMX).status_code == 404


def test_the_feed_leaves_a_team_only_objective_out_for_an_outsider(
    client, people, public_objective, private_history
):
    client.force_login(people["outsider"])

    feed = client.get(reverse("activity_feed"))

    text = feed.content.decode()
    assert feed.status_code == 200
    for secret in ("Tighten limits", "Watch-list limit reviews", "Regulator visit"):
        assert secret not in text
    visible = {
        r.pk
        for r in ChangeRecord.objects.all()
        if r.objective_id in (None, public_objective.pk)
    }
    assert feed.context["page"].paginator.count == len(visible)
    assert f"{len(visible)} changes" in text
    assert {e.record.pk for e in feed.context["entries"]} == visible


def test_the_team_sees_the_team_only_objectives_changes(
    client, people, public_objective, private_history
):
    client.force_login(people["viewer"])

    feed = client.get(reverse("activity_feed"))

    assert "Manager archived key result “Watch-list limit reviews”" in sentences(feed)
    assert feed.context["page"].paginator.count == ChangeRecord.objects.count()


def test_an_outsider_does_not_see_a_deleted_team_only_objectives_history(
    client, people, private_history
):
    private_history.delete()
    client.force_login(people["outsider"])

    feed = client.get(reverse("activity_feed"))

    assert "Tighten limits" not in feed.content.decode()
    client.force_login(people["viewer"])
    assert "Tighten limits" in client.get(reverse("activity_feed")).content.decode()


# The feed's filters


@pytest.fixture
def busy_organisation(people, teams, quarter, public_key_result):
    """Changes in Credit Risk (by the member and the manager), in
    Collections (by a collector) and to the quarter (by the admin)."""
    collector = make_user("collector", teams["collections"], Role.MANAGER)
    collections = make_objective(
        quarter, teams["collections"], collector, title="Raise cure rate"
    )
    attribute(collections, collector)
    collections.priority = "high"
    collections.save()
    services.record_check_in(
        people["member"],
        public_key_result,
        as_of=TODAY,
        value=Decimal("7.4"),
        today=TODAY,
    )
    services.archive_key_result(people["manager"], public_key_result)
    advance_cycle_state(quarter, "in_review", people["admin"])
    return collector


def test_the_feed_filters_by_team(client, people, teams, busy_organisation):
    client.force_login(people["viewer"])

    feed = client.get(reverse("activity_feed"), {"team": teams["collections"].pk})

    assert sentences(feed) == [
        "Collector changed the priority of objective “Raise cure rate”",
        "CreditOKR created objective “Raise cure rate”",
        "CreditOKR made Collector a manager of Collections",
    ]


def test_the_feed_filters_by_person(client, people, busy_organisation):
    client.force_login(people["viewer"])

    by_manager = client.get(reverse("activity_feed"), {"person": people["manager"].pk})
    by_admin = client.get(reverse("activity_feed"), {"person": people["admin"].pk})

    assert sentences(by_manager) == [
        "Manager archived key result “30+ delinquency rate”"
    ]
    assert sentences(by_admin) == ["Admin moved cycle “FY2027 Q3” to in review"]


def test_the_feed_filters_by_kind_and_person_together(
    client, people, busy_organisation
):
    client.force_login(people["viewer"])

    feed = client.get(
        reverse("activity_feed"), {"kind": "checkin", "person": people["member"].pk}
    )

    assert sentences(feed) == ["Member recorded 7.4% on “30+ delinquency rate”"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"team": "99999"}, "team", "Pick a team from the list."),
        ({"person": "x"}, "person", "Pick a person from the list."),
        ({"kind": "comment"}, "kind", "Pick what to show from the list: objectives,"),
    ],
)
def test_a_feed_filter_not_offered_is_refused(
    client, people, busy_organisation, query, field, message
):
    client.force_login(people["viewer"])

    response = client.get(reverse("activity_feed"), query)

    assert response.status_code == 400
    [error] = response.context["filters"].errors[field]
    assert error.startswith(message)
    assert "entries" not in response.context


def test_the_feed_pages_keep_the_filters(client, people, teams, public_objective):
    for n in range(51):
        public_objective.title = f"Title {n}"
        public_objective.save()
    client.force_login(people["viewer"])

    feed = client.get(reverse("activity_feed"), {"team": teams["credit_risk"].pk})

    assert len(feed.context["entries"]) == 50
    assert f"?team={teams['credit_risk'].pk}&amp;page=2" in feed.content.decode()


def test_the_header_links_to_the_feed(client, people):
    client.force_login(people["viewer"])

    page = client.get(reverse("activity_feed"))

    assert (
        f'<a href="{reverse("activity_feed")}" aria-current="page">Activity</a>'
        in page.content.decode()
    )
