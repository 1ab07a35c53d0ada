"""Who may see and change what, below the views.

Credit Risk has an organisation-wide objective and a team-only one, both
owned by the member; Sales (the outsider's team) has one of each too.
"""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from creditokr.accounts.models import Role
from creditokr.okrs.access import (
    actor_for,
    can_add_initiative,
    can_assign_owner,
    can_check_in,
    can_edit_initiative,
    can_edit_key_result,
    can_edit_objective,
    get_initiative,
    get_key_result,
    get_objective,
    require,
    teams_for_new_objectives,
    visible_check_ins,
    visible_initiatives,
    visible_key_results,
    visible_objectives,
)
from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective, Visibility
from tests.conftest import TODAY, make_key_result, make_objective, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(quarter, teams, people, private_key_result, public_key_result):
    """Every kind of object, on both sides of the visibility line."""
    private = private_key_result.objective
    sales_private = make_objective(
        quarter,
        teams["sales"],
        people["outsider"],
        title="Pipeline credit pre-checks",
        visibility=Visibility.TEAM,
    )
    sales_public = make_objective(
        quarter, teams["sales"], people["outsider"], title="Shared pricing"
    )
    initiative = Initiative.objects.create(
        objective=private, key_result=private_key_result, title="Review list A-F"
    )
    check_in = CheckIn.objects.create(
        key_result=private_key_result,
        value=Decimal(12),
        author=people["member"],
        as_of=TODAY,
    )
    return {
        "public": public_key_result.objective,
        "private": private,
        "private_key_result": private_key_result,
        "sales_private": sales_private,
        "sales_public": sales_public,
        "initiative": initiative,
        "check_in": check_in,
    }


def titles(queryset) -> set[str]:
    return {str(item.title) for item in queryset}


# --- Actor ----------------------------------------------------------------


def test_an_actor_knows_the_roles_of_its_user(people, teams):
    actor = actor_for(people["manager"])

    assert actor.roles == {teams["credit_risk"].pk: Role.MANAGER}
    assert actor.has_role(teams["credit_risk"].pk, Role.MEMBER)
    assert not actor.has_role(teams["sales"].pk, Role.VIEWER)
    assert actor.managed_team_ids == [teams["credit_risk"].pk]
    assert not actor.is_admin


def test_an_admin_membership_makes_an_admin_everywhere(people, teams):
    actor = actor_for(people["admin"])

    assert actor.is_admin
    assert actor.has_role(teams["sales"].pk, Role.MANAGER)


def test_a_viewer_is_not_a_contributor(people):
    assert not actor_for(people["viewer"]).is_contributor
    assert actor_for(people["member"]).is_contributor


def test_an_inactive_user_is_refused(people):
    user = people["member"]
    user.is_active = False
    user.save()

    with pytest.raises(PermissionDenied):
        actor_for(user)


def test_an_anonymous_visitor_is_refused(db):
    with pytest.raises(PermissionDenied):
        actor_for(AnonymousUser())


def test_the_actor_is_loaded_once_per_user_object(people, django_assert_num_queries):
    user = people["member"]
    first = actor_for(user)

    with django_assert_num_queries(0):
        assert actor_for(user) is first


# --- visibility -----------------------------------------------------------


def test_team_only_objectives_are_hidden_from_the_outsider(world, people):
    actor = actor_for(people["outsider"])

    assert titles(visible_objectives(actor)) == {
        "Reduce 30+ delinquency",
        "Pipeline credit pre-checks",
        "Shared pricing",
    }
    assert titles(visible_key_results(actor)) == {"30+ delinquency rate"}
    assert not visible_initiatives(actor).exists()
    assert not visible_check_ins(actor).exists()


def test_the_team_sees_its_own_team_only_objectives(world, people):
    for persona in ("member", "viewer", "manager"):
        actor = actor_for(people[persona])

        assert world["private"] in visible_objectives(actor)
        assert world["private_key_result"] in visible_key_results(actor)
        assert world["initiative"] in visible_initiatives(actor)
        assert world["check_in"] in visible_check_ins(actor)
        assert world["sales_private"] not in visible_objectives(actor)


def test_an_admin_sees_every_team_only_objective(world, people):
    actor = actor_for(people["admin"])

    assert visible_objectives(actor).count() == Objective.objects.count() == 4


def test_someone_in_no_team_sees_organisation_wide_objectives_only(world):
    actor = actor_for(make_user("newcomer"))

    assert titles(visible_objectives(actor)) == {
        "Reduce 30+ delinquency",
        "Shared pricing",
    }
    assert list(visible_key_results(actor)) == list(
        KeyResult.objects.filter(objective=world["public"])
    )


def test_a_hidden_object_is_a_404_like_a_missing_one(world, people):
    actor = actor_for(people["outsider"])

    with pytest.raises(Http404):
        get_objective(actor, world["private"].pk)
    with pytest.raises(Http404):
        get_key_result(actor, world["private_key_result"].pk)
    with pytest.raises(Http404):
        get_initiative(actor, world["initiative"].pk)
    with pytest.raises(Http404):
        get_objective(actor, 999_999)


@pytest.mark.parametrize("pk", ["abc", "", None, "1.5", [1]])
def test_a_malformed_id_is_a_404(world, people, pk):
    with pytest.raises(Http404):
        get_objective(actor_for(people["member"]), pk)


def test_visible_objects_are_fetched_by_id(world, people):
    actor = actor_for(people["viewer"])

    assert get_objective(actor, str(world["private"].pk)) == world["private"]
    assert get_key_result(actor, world["private_key_result"].pk).objective.cycle
    assert get_initiative(actor, world["initiative"].pk) == world["initiative"]


# --- changing things ------------------------------------------------------


def test_the_team_viewer_sees_but_cannot_change_anything(world, people):
    actor = actor_for(people["viewer"])
    private = get_objective(actor, world["private"].pk)
    key_result = get_key_result(actor, world["private_key_result"].pk)

    assert not can_edit_objective(actor, private)
    assert not can_edit_key_result(actor, key_result)
    assert not can_check_in(actor, key_result)
    assert not can_edit_initiative(actor, world["initiative"])
    assert not can_add_initiative(actor, private)
    assert not teams_for_new_objectives(actor).exists()


def test_a_viewer_who_owns_something_still_cannot_change_it(world, people):
    world["private_key_result"].owner = people["viewer"]
    world["private_key_result"].save()

    assert not can_check_in(actor_for(people["viewer"]), world["private_key_result"])


def test_a_member_edits_and_checks_in_on_what_they_own(world, people):
    actor = actor_for(people["member"])

    assert can_edit_objective(actor, world["private"])
    assert can_edit_key_result(actor, world["private_key_result"])
    assert can_check_in(actor, world["private_key_result"])
    assert can_add_initiative(actor, world["private"])


def test_a_member_cannot_edit_someone_elses_objective(world, quarter, teams, people):
    managers = make_objective(quarter, teams["credit_risk"], people["manager"])
    theirs = make_key_result(managers, people["manager"])
    actor = actor_for(people["member"])

    assert not can_edit_objective(actor, managers)
    assert not can_check_in(actor, theirs)
    assert not can_add_initiative(actor, managers)


def test_a_member_who_owns_a_key_result_checks_in_on_it_only(quarter, teams, people):
    managers = make_objective(quarter, teams["credit_risk"], people["manager"])
    mine = make_key_result(managers, people["member"])
    actor = actor_for(people["member"])

    assert can_check_in(actor, mine)
    assert can_add_initiative(actor, managers)
    assert not can_edit_objective(actor, managers)


def test_an_assignee_edits_their_initiative(world, quarter, teams, people):
    managers = make_objective(quarter, teams["credit_risk"], people["manager"])
    assigned = Initiative.objects.create(
        objective=managers, title="Call top 20 debtors", assignee=people["member"]
    )
    unassigned = Initiative.objects.create(objective=managers, title="Other")
    actor = actor_for(people["member"])

    assert can_edit_initiative(actor, assigned)
    assert not can_edit_initiative(actor, unassigned)


def test_a_manager_edits_the_teams_objectives_but_not_other_teams(world, people):
    actor = actor_for(people["manager"])

    assert can_edit_objective(actor, world["private"])
    assert can_check_in(actor, world["private_key_result"])
    assert can_edit_initiative(actor, world["initiative"])
    assert not can_edit_objective(actor, world["sales_public"])


def test_an_admin_changes_everything(world, people):
    actor = actor_for(people["admin"])

    for objective in ("public", "private", "sales_public", "sales_private"):
        assert can_edit_objective(actor, world[objective])
    assert can_check_in(actor, world["private_key_result"])
    assert can_edit_initiative(actor, world["initiative"])
    assert teams_for_new_objectives(actor).count() == 3


def test_a_superuser_without_memberships_is_an_admin(world):
    superuser = make_user("it")
    superuser.is_superuser = True
    superuser.save()

    actor = actor_for(superuser)

    assert actor.is_admin
    assert can_edit_objective(actor, world["sales_private"])
    assert visible_objectives(actor).count() == 4


def test_the_outsider_cannot_edit_the_credit_teams_public_objective(world, people):
    actor = actor_for(people["outsider"])

    assert not can_edit_objective(actor, world["public"])
    assert can_edit_objective(actor, world["sales_public"])


def test_members_create_objectives_in_their_teams_only(people, teams):
    member = actor_for(people["member"])

    assert list(teams_for_new_objectives(member)) == [teams["credit_risk"]]


def test_managers_assign_anyone_and_members_only_themselves(people, teams):
    team_id = teams["credit_risk"].pk
    manager, member = actor_for(people["manager"]), actor_for(people["member"])

    assert can_assign_owner(manager, team_id, people["viewer"].pk)
    assert can_assign_owner(member, team_id, people["member"].pk)
    assert not can_assign_owner(member, team_id, people["viewer"].pk)
    assert not can_assign_owner(member, teams["sales"].pk, people["member"].pk)


def test_require_turns_a_refusal_into_permission_denied():
    require(True)

    with pytest.raises(PermissionDenied):
        require(False)
