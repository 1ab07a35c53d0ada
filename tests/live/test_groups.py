"""Live groups follow the history's access rules exactly.

For every kind of change and every persona, a person hears of a change
live exactly when the history would show it to them, and then through one
group only (so never twice).
"""

import pytest

from creditokr.accounts.models import Membership, Role
from creditokr.activity.access import visible_records
from creditokr.activity.models import ChangeRecord
from creditokr.activity.recording import acting
from creditokr.live.groups import ADMINS, ORG, audience, groups_of, team_group
from creditokr.okrs.access import actor_of
from creditokr.okrs.models import Visibility
from tests.conftest import make_key_result, make_objective, make_user


@pytest.fixture
def history(people, teams, quarter, public_key_result, private_key_result):
    """Changes of every kind: to objectives of both visibilities and what is
    in them, a cycle, a membership, a deleted team-only objective, an
    objective made team-only after its changes, and a team-only change that
    names no team."""
    with acting(people["admin"]):
        quarter.name = "Q3 (renamed)"
        quarter.save()
        Membership.objects.create(
            user=people["outsider"], team=teams["collections"], role=Role.VIEWER
        )
        gone = make_objective(
            quarter, teams["credit_risk"], people["member"], visibility="team"
        )
        make_key_result(gone, people["member"])
        gone.delete()
        moved = make_objective(quarter, teams["sales"], people["outsider"])
        moved.visibility = Visibility.TEAM
        moved.save()
    orphan = ChangeRecord.objects.order_by("pk").first()
    assert orphan is not None
    ChangeRecord.objects.filter(pk=orphan.pk).update(team_only=True, team=None)
    return list(ChangeRecord.objects.order_by("pk"))


@pytest.fixture
def everyone(people, teams):
    people["sales_admin"] = make_user("boss", teams["sales"], Role.ADMIN)
    people["nobody"] = make_user("nobody")  # in no team at all
    return people


def test_a_person_hears_of_exactly_the_changes_the_history_shows_them(
    everyone, teams, history
):
    sealed = [r for r in history if r.objective_id is None and r.team_only]
    assert {r.team_id for r in sealed} == {None, teams["credit_risk"].pk}
    for name, person in everyone.items():
        actor = actor_of(person)
        readable = set(visible_records(actor).values_list("pk", flat=True))
        heard = set()
        for record in history:
            shared = set(audience(record)) & groups_of(actor)
            assert len(shared) <= 1, (name, record.pk, shared)
            if shared:
                heard.add(record.pk)
        assert heard == readable, name


def test_the_groups_of_each_persona(everyone, teams):
    credit_risk, sales = teams["credit_risk"].pk, teams["sales"].pk

    def groups(name: str) -> set[str]:
        return groups_of(actor_of(everyone[name]))

    assert groups("admin") == {ADMINS}
    assert groups("sales_admin") == {ADMINS}
    assert groups("manager") == {ORG, team_group(credit_risk)}
    assert groups("viewer") == {ORG, team_group(credit_risk)}
    assert groups("outsider") == {ORG, team_group(sales)}
    assert groups("nobody") == {ORG}


def test_a_change_goes_by_its_objective_as_it_stands_now(
    people, teams, public_key_result
):
    public_key_result.title = "Renamed"
    with acting(people["member"]):
        public_key_result.save()
    record = ChangeRecord.objects.order_by("-pk").first()
    assert record is not None
    assert audience(record) == [ADMINS, ORG]

    objective = public_key_result.objective
    objective.visibility = Visibility.TEAM
    objective.save()

    assert audience(record) == [ADMINS, team_group(teams["credit_risk"].pk)]
