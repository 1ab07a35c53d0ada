"""Archive and restore, confirmed with the roll-up effect shown first.

FY2027 Q3 runs 1 Oct - 31 Dec 2026; on 15 Nov a steady pace expects
45/91 = 49.45%. A key result more than 10 points behind that is at risk,
more than 25 off track.

"Collect faster" has two key results:
- "Cut DSO to 40": 60 → 40 days, now 54: 6/20 = 30% done, 19.45 behind:
  at risk; weight 1.
- "Reviews done": 0 → 10, now 6: 60% done, ahead: on track; weight 3.
Its progress is (30 x 1 + 60 x 3) / 4 = 52.5%, status at risk (the worst).
Without DSO it is 60%, on track.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from creditokr.accounts.models import Organisation, Role
from creditokr.okrs import services
from creditokr.okrs.access import actor_for
from creditokr.okrs.lifecycle import ARCHIVE, RESTORE, archive_effect
from creditokr.okrs.models import CheckIn, KeyResult, Objective, Visibility
from creditokr.okrs.progress import Status
from tests.conftest import TODAY, make_key_result, make_objective, make_user

D = Decimal


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def reading(key_result: KeyResult, value: str) -> CheckIn:
    return CheckIn.objects.create(
        key_result=key_result,
        value=D(value),
        author=key_result.owner,
        as_of=date(2026, 11, 14),
    )


def count_result(objective: Objective, title: str, value: str, **fields) -> KeyResult:
    """An increase from 0 to 10, checked in at `value`."""
    defaults = {
        "kind": "increase",
        "unit": "count",
        "start_value": D(0),
        "target_value": D(10),
    }
    key_result = make_key_result(
        objective, objective.owner, title=title, **(defaults | fields)
    )
    reading(key_result, value)
    return key_result


@pytest.fixture
def collect_faster(quarter, teams, people) -> Objective:
    return make_objective(
        quarter, teams["credit_risk"], people["member"], title="Collect faster"
    )


@pytest.fixture
def dso(collect_faster) -> KeyResult:
    key_result = make_key_result(
        collect_faster,
        collect_faster.owner,
        title="Cut DSO to 40",
        kind="decrease",
        unit="days",
        start_value=D(60),
        target_value=D(40),
    )
    reading(key_result, "54")
    return key_result


@pytest.fixture
def reviews(collect_faster) -> KeyResult:
    return count_result(collect_faster, "Reviews done", "6", weight=D(3))


def effect_for(user, item, action):
    return archive_effect(actor_for(user), item, action, Organisation.get(), TODAY)


# The effect, worked out by hand


def test_archiving_a_key_result_shows_its_objective_before_and_after(
    people, dso, reviews
):
    effect = effect_for(people["member"], dso, ARCHIVE)

    assert effect.own is not None
    assert (effect.own.progress_before, effect.own.status_before) == (
        D("52.5"),
        Status.AT_RISK,
    )
    assert (effect.own.progress_after, effect.own.status_after) == (
        D(60),
        Status.ON_TRACK,
    )
    assert effect.lines == [
        "“Cut DSO to 40” leaves the progress of “Collect faster”: 52.5% → 60.0%, "
        "status At risk → On track.",
        "On the FY2027 Q3 dashboard: On track 0 → 1; At risk 1 → 0.",
    ]


def test_restoring_a_key_result_shows_the_reverse(people, dso, reviews):
    services.archive_key_result(people["member"], dso)
    dso.refresh_from_db()

    effect = effect_for(people["member"], dso, RESTORE)

    assert effect.lines == [
        "“Cut DSO to 40” counts again in the progress of “Collect faster”: "
        "60.0% → 52.5%, status On track → At risk.",
        "On the FY2027 Q3 dashboard: On track 1 → 0; At risk 0 → 1.",
    ]


def test_an_effect_that_changes_no_status_leaves_the_dashboard_out(
    people, collect_faster, reviews
):
    # Both key results on track: 60% and 80%, weights 3 and 1.
    # (60 x 3 + 80 x 1) / 4 = 65%; without the 80% one, 60%.
    ahead = count_result(collect_faster, "Limits reviewed", "8")

    effect = effect_for(people["member"], ahead, ARCHIVE)

    assert effect.dashboard is None
    assert effect.lines == [
        "“Limits reviewed” leaves the progress of “Collect faster”: 65.0% → "
        "60.0%, status stays On track."
    ]


def test_archiving_the_last_key_result_leaves_no_figure(people, collect_faster):
    only = count_result(collect_faster, "Reviews done", "6")

    effect = effect_for(people["member"], only, ARCHIVE)

    assert effect.lines[0] == (
        "“Reviews done” leaves the progress of “Collect faster”: 60.0% → no "
        "figure, status On track → Not started."
    )


@pytest.fixture
def aligned(quarter, teams, people):
    """A parent without key results over two children in the same quarter:
    "Approvals" done (100%, complete) and "Limits" at 2 of 10 (20%, 29.45
    behind: off track). The parent is (100 + 20) / 2 = 60%, off track."""
    team, member = teams["credit_risk"], people["member"]
    parent = make_objective(quarter, team, member, title="Sound lending")
    approvals = make_objective(quarter, team, member, title="Approvals", parent=parent)
    count_result(approvals, "Approvals in a day", "10")
    limits = make_objective(quarter, team, member, title="Limits", parent=parent)
    count_result(limits, "Limits reviewed", "2")
    return parent, approvals, limits


def test_archiving_an_aligned_objective_shows_its_parent_and_the_counts(
    people, aligned
):
    parent, _approvals, limits = aligned

    effect = effect_for(people["member"], limits, ARCHIVE)

    assert [s.objective for s in effect.above] == [parent]
    assert effect.above[0].progress_before == D(60)
    assert effect.above[0].progress_after == D(100)
    assert effect.lines == [
        "“Limits” leaves the progress of “Sound lending”: 60.0% → 100.0%, "
        "status Off track → Complete.",
        "It leaves the FY2027 Q3 dashboard counts: 3 → 2 objectives; "
        "Off track 2 → 0; Complete 1 → 2.",
    ]


def test_restoring_an_aligned_objective_shows_the_reverse(people, aligned):
    _parent, _approvals, limits = aligned
    services.archive_objective(people["member"], limits)
    limits.refresh_from_db()

    effect = effect_for(people["member"], limits, RESTORE)

    assert effect.lines == [
        "“Limits” counts again in the progress of “Sound lending”: 100.0% → "
        "60.0%, status Complete → Off track.",
        "It is back in the FY2027 Q3 dashboard counts: 2 → 3 objectives; "
        "Off track 0 → 2; Complete 2 → 1.",
    ]


def test_a_key_result_effect_goes_up_the_alignment(people, aligned):
    # Limits reviewed at 2 of 10 is Limits' only key result; archiving it
    # leaves Limits without a figure or a start, so the parent's progress
    # is Approvals' alone, 100%, and its status the worse of complete and
    # not started: not started.
    _parent, _approvals, limits = aligned
    key_result = limits.key_results.get()

    effect = effect_for(people["member"], key_result, ARCHIVE)

    assert effect.lines == [
        "“Limits reviewed” leaves the progress of “Limits”: 20.0% → no figure, "
        "status Off track → Not started.",
        "Further up, “Sound lending”: 60.0% → 100.0%, status Off track → Not started.",
        "On the FY2027 Q3 dashboard: Off track 2 → 0; Not started 0 → 2.",
    ]


def test_an_objective_aligned_to_nothing_says_so(people, collect_faster, reviews):
    effect = effect_for(people["member"], collect_faster, ARCHIVE)

    assert effect.lines == [
        "No objective you can see is aligned above it, so no other progress changes.",
        "It leaves the FY2027 Q3 dashboard counts: 1 → 0 objectives; On track 1 → 0.",
    ]


@pytest.fixture
def shared_parent(quarter, teams, people):
    """A Sales objective over a shared child of Sales (done: 100%) and a
    team-only child of Credit Risk (0 of 10: 0%, off track)."""
    sales, outsider = teams["sales"], people["outsider"]
    parent = make_objective(quarter, sales, outsider, title="Grow safely")
    shared = make_objective(quarter, sales, outsider, title="Quote fast", parent=parent)
    count_result(shared, "Quotes in an hour", "10")
    hidden = make_objective(
        quarter,
        teams["credit_risk"],
        people["member"],
        title="Watch-list exits",
        parent=parent,
        visibility=Visibility.TEAM,
    )
    count_result(hidden, "Exits agreed", "0")
    return parent, shared, hidden


def test_an_outsider_never_sees_a_team_only_childs_effect(people, shared_parent):
    # The outsider's board rolls up the shared child only: 100%, complete.
    # Archiving it leaves the parent with nothing they can see.
    _parent, shared, _hidden = shared_parent

    outsider = effect_for(people["outsider"], shared, ARCHIVE)
    admin = effect_for(people["admin"], shared, ARCHIVE)

    assert outsider.lines[0] == (
        "“Quote fast” leaves the progress of “Grow safely”: 100.0% → no "
        "figure, status Complete → Not started."
    )
    # The admin sees both: (100 + 0) / 2 = 50% before, 0% after.
    assert admin.lines[0] == (
        "“Quote fast” leaves the progress of “Grow safely”: 50.0% → 0.0%, "
        "status stays Off track."
    )
    assert "Watch-list" not in " ".join(outsider.lines)


def test_an_outsiders_confirmation_page_shows_only_what_they_see(
    client, people, shared_parent
):
    _parent, shared, hidden = shared_parent
    client.force_login(people["outsider"])

    page = client.get(
        reverse("objective_archive_confirm", args=[shared.pk]), {"action": "archive"}
    )
    hidden_page = client.get(
        reverse("objective_archive_confirm", args=[hidden.pk]), {"action": "archive"}
    )

    assert page.status_code == 200
    assert "100.0% → no figure" in page.text
    assert hidden.title not in page.text
    assert "50.0%" not in page.text
    assert hidden_page.status_code == 404


def test_a_hidden_parent_is_not_named_in_the_effect(
    quarter, teams, people, collect_faster, reviews
):
    hidden_parent = make_objective(
        quarter,
        teams["credit_risk"],
        people["member"],
        title="Secret plan",
        visibility=Visibility.TEAM,
    )
    collect_faster.parent = hidden_parent
    collect_faster.save()
    sales_lead = make_user("lead", teams["sales"], Role.MANAGER)

    effect = effect_for(sales_lead, collect_faster, ARCHIVE)

    assert effect.above == ()
    assert "Secret plan" not in " ".join(effect.lines)


# The pages


def test_the_archive_buttons_open_the_confirmation(client, people, dso, reviews):
    client.force_login(people["manager"])

    page = client.get(reverse("objective_detail", args=[dso.objective_id]))

    objective_confirm = reverse("objective_archive_confirm", args=[dso.objective_id])
    key_result_confirm = reverse("key_result_archive_confirm", args=[dso.pk])
    assert f'<form method="get" action="{objective_confirm}">' in page.text
    assert f'<form method="get" action="{key_result_confirm}">' in page.text


def test_the_confirmation_page_shows_the_effect_and_changes_nothing(
    client, people, dso, reviews
):
    client.force_login(people["member"])

    page = client.get(
        reverse("key_result_archive_confirm", args=[dso.pk]), {"action": "archive"}
    )

    dso.refresh_from_db()
    assert page.status_code == 200
    assert not dso.archived
    assert "52.5% → 60.0%, status At risk → On track" in page.text
    assert 'name="action" value="archive"' in page.text
    assert "Archive key result</button>" in page.text


def test_archiving_from_the_confirmation_repeats_the_effect(
    client, people, dso, reviews
):
    client.force_login(people["member"])

    response = client.post(
        reverse("key_result_archive_confirm", args=[dso.pk]), {"action": "archive"}
    )

    dso.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("objective_detail", args=[dso.objective_id])
    assert dso.archived
    assert said(response) == [
        "Archived “Cut DSO to 40”. “Cut DSO to 40” leaves the progress of "
        "“Collect faster”: 52.5% → 60.0%, status At risk → On track. On the "
        "FY2027 Q3 dashboard: On track 0 → 1; At risk 1 → 0. Its check-ins "
        "are kept; restore it from “Archived key results” on this page."
    ]


def test_restoring_an_objective_from_its_confirmation(client, people, aligned):
    _parent, _approvals, limits = aligned
    services.archive_objective(people["member"], limits)
    client.force_login(people["manager"])

    page = client.get(reverse("objective_archive_confirm", args=[limits.pk]))
    response = client.post(
        reverse("objective_archive_confirm", args=[limits.pk]), {"action": "restore"}
    )

    limits.refresh_from_db()
    assert 'name="action" value="restore"' in page.text
    assert not limits.archived
    assert said(response)[-1].startswith(
        "Restored “Limits”. “Limits” counts again in the progress of "
        "“Sound lending”: 100.0% → 60.0%"
    )


def test_asking_for_what_is_already_done_changes_nothing(client, people, dso, reviews):
    services.archive_key_result(people["member"], dso)
    client.force_login(people["member"])
    url = reverse("key_result_archive_confirm", args=[dso.pk])

    page = client.get(url, {"action": "archive"})
    response = client.post(url, {"action": "archive"})

    dso.refresh_from_db()
    assert "“Cut DSO to 40” is already archived." in page.text
    assert "Archive key result</button>" not in page.text
    assert said(response) == ["“Cut DSO to 40” is already archived."]
    assert dso.version == 2  # archived once


@pytest.mark.parametrize("action", [None, "", "toggle"])
def test_a_post_without_a_known_action_is_refused(client, people, dso, action):
    client.force_login(people["member"])
    data = {} if action is None else {"action": action}

    response = client.post(reverse("key_result_archive_confirm", args=[dso.pk]), data)

    dso.refresh_from_db()
    assert response.status_code == 400
    assert "Say whether to archive or restore" in response.text
    assert not dso.archived


def test_a_restore_that_would_be_refused_says_why_first(
    client, people, organisation, quarter, dso
):
    from creditokr.cycles.services import next_cycle

    dso.due_date = date(2026, 11, 30)
    dso.save()
    services.archive_key_result(people["member"], dso)
    objective = dso.objective
    objective.cycle = next_cycle(organisation, quarter, TODAY)
    objective.save()
    client.force_login(people["member"])

    page = client.get(
        reverse("key_result_archive_confirm", args=[dso.pk]), {"action": "restore"}
    )

    assert page.status_code == 200
    assert "is due 30 Nov 2026, outside FY2027 Q4" in page.text
    assert "Restore key result</button>" not in page.text


@pytest.mark.parametrize(
    ("persona", "status"), [("viewer", 403), ("outsider", 403), ("manager", 200)]
)
def test_only_editors_open_the_confirmation(client, people, dso, persona, status):
    client.force_login(people[persona])

    page = client.get(reverse("objective_archive_confirm", args=[dso.objective_id]))

    assert page.status_code == status


def test_a_viewer_cannot_archive_through_the_confirmation(client, people, dso):
    client.force_login(people["viewer"])

    response = client.post(
        reverse("key_result_archive_confirm", args=[dso.pk]), {"action": "archive"}
    )

    dso.refresh_from_db()
    assert response.status_code == 403
    assert not dso.archived


def test_the_old_archive_action_still_works_without_confirmation(client, people, dso):
    client.force_login(people["member"])

    response = client.post(
        reverse("key_result_archive", args=[dso.pk]), {"action": "archive"}
    )

    dso.refresh_from_db()
    assert response.status_code == 302
    assert dso.archived
