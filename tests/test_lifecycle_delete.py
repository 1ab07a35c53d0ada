"""Deleting for good: administrators only, with the title and a reason.

What goes is listed first; it all goes in one transaction; the history
keeps a deletion row for each thing, with who and why, readable by the
people who could see the objective.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from creditokr.activity.access import visible_records
from creditokr.activity.models import ChangeRecord
from creditokr.creditdata.models import DataSource, KeyResultFeed
from creditokr.okrs.access import actor_for
from creditokr.okrs.lifecycle import delete_key_result, delete_objective, deletion_of
from creditokr.okrs.models import (
    CheckIn,
    Initiative,
    KeyResult,
    Objective,
    Visibility,
)
from tests.conftest import make_key_result, make_objective

DELETE = LogEntry.Action.DELETE
REASON = "Created by mistake in the wrong team"


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def doomed(quarter, teams, people):
    """A team-only objective with two key results (one archived), three
    check-ins, two initiatives and a data feed."""
    member = people["member"]
    objective = make_objective(
        quarter,
        teams["credit_risk"],
        member,
        title="Shrink the watch list",
        visibility=Visibility.TEAM,
    )
    live = make_key_result(objective, member, title="Accounts on watch")
    gone = make_key_result(objective, member, title="Old measure", archived=True)
    for key_result, day in ((live, 3), (live, 10), (gone, 4)):
        CheckIn.objects.create(
            key_result=key_result,
            value=Decimal("7.5"),
            author=member,
            as_of=date(2026, 11, day),
        )
    Initiative.objects.create(objective=objective, key_result=live, title="Call")
    Initiative.objects.create(objective=objective, title="Write the policy")
    source = DataSource.objects.create(
        name="Card tape",
        team=teams["credit_risk"],
        dataset="account_snapshots",
        created_by=people["manager"],
    )
    KeyResultFeed.objects.create(
        key_result=live,
        source=source,
        kpi="delinquency_rate",
        created_by=people["manager"],
    )
    return objective


def confirm(client, objective, title=None, reason=REASON):
    data = {"title": objective.title if title is None else title, "reason": reason}
    return client.post(reverse("objective_delete", args=[objective.pk]), data)


# Who may


@pytest.mark.parametrize("persona", ["manager", "member", "viewer"])
def test_only_an_administrator_opens_the_delete_page(client, people, doomed, persona):
    client.force_login(people[persona])

    page = client.get(reverse("objective_delete", args=[doomed.pk]))
    response = confirm(client, doomed)

    assert (page.status_code, response.status_code) == (403, 403)
    assert Objective.objects.filter(pk=doomed.pk).exists()


def test_an_outsider_gets_404_for_a_team_only_objective(client, people, doomed):
    client.force_login(people["outsider"])

    assert client.get(reverse("objective_delete", args=[doomed.pk])).status_code == 404


@pytest.mark.parametrize(("persona", "shown"), [("admin", True), ("manager", False)])
def test_the_delete_button_shows_to_administrators_only(
    client, people, doomed, persona, shown
):
    client.force_login(people[persona])

    page = client.get(reverse("objective_detail", args=[doomed.pk]))

    url = reverse("objective_delete", args=[doomed.pk])
    assert (f'href="{url}"' in page.text) is shown


def test_the_service_refuses_a_manager(people, doomed):
    with pytest.raises(PermissionDenied):
        delete_objective(
            actor_for(people["manager"]), doomed, title=doomed.title, reason=REASON
        )

    assert Objective.objects.filter(pk=doomed.pk).exists()


# What goes


def test_the_page_lists_what_goes_with_it(client, people, doomed):
    client.force_login(people["admin"])

    page = client.get(reverse("objective_delete", args=[doomed.pk]))

    assert page.status_code == 200
    for line in ("2 key results", "3 check-ins", "2 initiatives", "1 data feed"):
        assert f"<li>{line}</li>" in page.text


def test_the_count_names_the_rest_too(doomed):
    deletion = deletion_of(doomed)

    assert deletion.lines == [
        "2 key results",
        "3 check-ins",
        "2 initiatives",
        "1 data feed",
    ]
    assert (deletion.unaligned, deletion.copies, deletion.blocked) == (0, 0, "")


# Confirming


@pytest.mark.parametrize(
    ("title", "reason", "field", "message"),
    [
        ("", REASON, "title", "Type the title, “Shrink the watch list”, to confirm."),
        (
            "shrink the watch list",
            REASON,
            "title",
            "That is not the title. Type “Shrink the watch list” exactly to confirm.",
        ),
        (None, "   ", "reason", "Say why it is deleted; the history keeps the reason."),
    ],
)
def test_title_and_reason_are_required(
    client, people, doomed, title, reason, field, message
):
    client.force_login(people["admin"])

    response = confirm(client, doomed, title=title, reason=reason)

    assert response.status_code == 400
    assert message in response.text
    assert Objective.objects.filter(pk=doomed.pk).exists()
    assert CheckIn.objects.filter(key_result__objective=doomed).count() == 3


def test_the_service_names_both_problems_at_once(people, doomed):
    with pytest.raises(ValidationError) as refused:
        delete_objective(actor_for(people["admin"]), doomed, title="x", reason="")

    assert set(refused.value.message_dict) == {"title", "reason"}


def test_extra_spaces_in_the_title_are_forgiven(people, doomed):
    delete_objective(
        actor_for(people["admin"]),
        doomed,
        title="  Shrink  the watch list ",
        reason=REASON,
    )

    assert not Objective.objects.filter(pk=doomed.pk).exists()


# Deleting


def test_everything_in_it_goes_and_the_dashboard_opens(client, people, doomed):
    key_result_ids = list(doomed.key_results.values_list("pk", flat=True))
    client.force_login(people["admin"])

    response = confirm(client, doomed)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('dashboard')}?cycle={doomed.cycle_id}"
    assert said(response) == [
        "Deleted “Shrink the watch list” with 2 key results, 3 check-ins, "
        "2 initiatives and 1 data feed. The history keeps a record of it, "
        "with your reason."
    ]
    assert not Objective.objects.filter(pk=doomed.pk).exists()
    assert not KeyResult.objects.filter(pk__in=key_result_ids).exists()
    assert not CheckIn.objects.filter(key_result__in=key_result_ids).exists()
    assert not Initiative.objects.filter(objective_id=doomed.pk).exists()
    assert not KeyResultFeed.objects.exists()


def deletions(model: str) -> list[ChangeRecord]:
    return list(
        ChangeRecord.objects.filter(action=DELETE, content_type__model=model).order_by(
            "pk"
        )
    )


def test_the_history_keeps_a_row_for_each_thing_with_who_and_why(people, doomed):
    admin = people["admin"]

    delete_objective(actor_for(admin), doomed, title=doomed.title, reason=REASON)

    counts = {
        model: len(deletions(model))
        for model in ("objective", "keyresult", "checkin", "initiative")
    }
    assert counts == {"objective": 1, "keyresult": 2, "checkin": 3, "initiative": 2}
    rows = ChangeRecord.objects.filter(action=DELETE)
    assert {(row.actor_id, row.reason) for row in rows} == {(admin.pk, REASON)}
    (objective_row,) = deletions("objective")
    assert objective_row.object_id == doomed.pk
    assert objective_row.object_repr == "Shrink the watch list"
    assert objective_row.objective_id is None
    assert objective_row.team_id == doomed.team_id
    assert objective_row.team_only is True


def test_the_history_is_read_by_the_team_only_for_a_team_only_objective(people, doomed):
    delete_objective(
        actor_for(people["admin"]), doomed, title=doomed.title, reason=REASON
    )

    about_it = ChangeRecord.objects.filter(
        objective=None,
        content_type__model__in=["objective", "keyresult", "checkin", "initiative"],
    )
    seen = {
        persona: visible_records(actor_for(people[persona]))
        .filter(pk__in=about_it)
        .count()
        for persona in ("admin", "member", "viewer", "outsider")
    }
    # Creations: 1 objective, 2 key results, 3 check-ins, 2 initiatives (8);
    # deletions of the same 8.
    assert seen == {"admin": 16, "member": 16, "viewer": 16, "outsider": 0}


def test_history_written_while_it_was_public_follows_its_visibility_now(
    quarter, teams, people
):
    """Rows recorded while the objective was shared say so; before it goes,
    they take its visibility as it is now: made team-only, then deleted,
    its whole history is the team's."""
    member = people["member"]
    objective = make_objective(quarter, teams["credit_risk"], member, title="Moved")
    created = ChangeRecord.objects.get(
        content_type__model="objective", object_id=objective.pk
    )
    assert created.team_only is False
    objective.visibility = Visibility.TEAM
    objective.save()

    delete_objective(
        actor_for(people["admin"]), objective, title="Moved", reason=REASON
    )

    created.refresh_from_db()
    assert created.objective_id is None
    assert created.team_only is True
    outsider = actor_for(people["outsider"])
    assert not visible_records(outsider).filter(pk=created.pk).exists()
    assert visible_records(actor_for(member)).filter(pk=created.pk).exists()


def test_a_public_objectives_history_stays_readable_by_everyone(
    public_key_result, people
):
    objective = public_key_result.objective

    delete_objective(
        actor_for(people["admin"]), objective, title=objective.title, reason=REASON
    )

    (row,) = deletions("objective")
    assert row.team_only is False
    assert visible_records(actor_for(people["outsider"])).filter(pk=row.pk).exists()


def test_aligned_objectives_stay_without_the_alignment(
    quarter, teams, people, public_objective
):
    child = make_objective(
        quarter,
        teams["collections"],
        people["manager"],
        title="Faster cures",
        parent=public_objective,
    )

    delete_objective(
        actor_for(people["admin"]),
        public_objective,
        title=public_objective.title,
        reason=REASON,
    )

    child.refresh_from_db()
    assert child.parent_id is None
    row = ChangeRecord.objects.filter(objective=child).latest("pk")
    assert row.actor_id == people["admin"].pk
    assert row.reason == (
        "“Reduce 30+ delinquency”, which it was aligned to, was deleted: " + REASON
    )
    assert set(row.changes_dict) == {"parent"}


# Key results


def test_deleting_a_key_result_takes_its_check_ins_and_work(client, people, doomed):
    key_result = doomed.key_results.get(title="Accounts on watch")
    client.force_login(people["admin"])

    page = client.get(reverse("key_result_delete", args=[key_result.pk]))
    response = client.post(
        reverse("key_result_delete", args=[key_result.pk]),
        {"title": "Accounts on watch", "reason": REASON},
    )

    assert page.status_code == 200
    for line in ("2 check-ins", "1 initiative", "1 data feed"):
        assert f"<li>{line}</li>" in page.text
    assert response.status_code == 302
    assert response["Location"] == reverse("objective_detail", args=[doomed.pk])
    assert not KeyResult.objects.filter(pk=key_result.pk).exists()
    assert list(doomed.key_results.values_list("title", flat=True)) == ["Old measure"]
    assert list(doomed.initiatives.values_list("title", flat=True)) == [
        "Write the policy"
    ]
    assert CheckIn.objects.filter(key_result__objective=doomed).count() == 1
    assert {(r.actor_id, r.reason) for r in deletions("keyresult")} == {
        (people["admin"].pk, REASON)
    }
    assert len(deletions("checkin")) == 2


@pytest.mark.parametrize("persona", ["manager", "member"])
def test_a_key_result_is_not_deleted_by_others(client, people, doomed, persona):
    key_result = doomed.key_results.first()
    client.force_login(people[persona])

    response = client.post(
        reverse("key_result_delete", args=[key_result.pk]),
        {"title": key_result.title, "reason": REASON},
    )

    assert response.status_code == 403
    assert KeyResult.objects.filter(pk=key_result.pk).exists()


def test_the_key_result_service_wants_the_title(people, doomed):
    key_result = doomed.key_results.first()

    with pytest.raises(ValidationError):
        delete_key_result(
            actor_for(people["admin"]), key_result, title="", reason=REASON
        )

    assert KeyResult.objects.filter(pk=key_result.pk).exists()


def test_the_archive_confirmation_offers_delete_to_administrators(
    client, people, doomed
):
    key_result = doomed.key_results.get(title="Accounts on watch")
    url = reverse("key_result_delete", args=[key_result.pk])
    confirmation = reverse("key_result_archive_confirm", args=[key_result.pk])

    client.force_login(people["admin"])
    for_admin = client.get(confirmation)
    client.force_login(people["manager"])
    for_manager = client.get(confirmation)

    assert url in for_admin.text
    assert url not in for_manager.text
