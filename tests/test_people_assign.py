"""Giving work to people: the inline Assign control and bulk assignment."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse

from creditokr.accounts.models import Role
from creditokr.activity.models import ChangeRecord
from creditokr.okrs import services
from creditokr.okrs.models import Initiative, InitiativeState, KeyResult, Visibility
from tests.conftest import make_key_result, make_objective, make_user

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def colleague(people, teams):
    people["colleague"] = make_user("colleague", teams["credit_risk"], Role.MEMBER)
    return people["colleague"]


@pytest.fixture
def board(people, teams, quarter, colleague):
    """Two Credit Risk objectives owned by the manager, one of each
    visibility, each with a key result the member owns and an initiative
    the member is assigned."""
    found = {}
    for visibility in Visibility:
        objective = make_objective(
            quarter,
            teams["credit_risk"],
            people["manager"],
            title=f"Objective {visibility.value}",
            visibility=visibility,
        )
        found[visibility] = {
            "objective": objective,
            "key_result": make_key_result(
                objective, people["member"], title=f"KR {visibility.value}"
            ),
            "initiative": Initiative.objects.create(
                objective=objective,
                title=f"Initiative {visibility.value}",
                assignee=people["member"],
            ),
        }
    return found


def records_of(item):
    """The history rows of one object, oldest first."""
    content_type = ContentType.objects.get_for_model(type(item))
    return list(
        ChangeRecord.objects.filter(
            content_type=content_type, object_pk=str(item.pk)
        ).order_by("pk")
    )


def option_values(html: str, select_id: str) -> set[str]:
    start = html.index(f'id="{select_id}"')
    select = html[start : html.index("</select>", start)]
    values = set()
    for part in select.split('value="')[1:]:
        values.add(part.split('"', 1)[0])
    return values - {""}


# The inline control


def test_the_objective_page_offers_assign_to_those_who_may_change_the_item(
    client, people, board
):
    objective = board[Visibility.ORGANISATION]["objective"]
    url = reverse("objective_detail", args=[objective.pk])
    initiative = board[Visibility.ORGANISATION]["initiative"]
    key_result = board[Visibility.ORGANISATION]["key_result"]
    assign_initiative = reverse("initiative_assign", args=[initiative.pk])
    assign_key_result = reverse("key_result_assign", args=[key_result.pk])

    client.force_login(people["manager"])
    as_manager = client.get(url).text
    client.force_login(people["viewer"])
    as_viewer = client.get(url).text

    assert assign_initiative in as_manager
    assert assign_key_result in as_manager
    assert assign_initiative not in as_viewer
    assert assign_key_result not in as_viewer


def test_the_form_offers_only_people_who_can_take_part_in_a_team_only_objective(
    client, people, board
):
    initiative = board[Visibility.TEAM]["initiative"]
    client.force_login(people["manager"])

    form = client.get(reverse("initiative_assign", args=[initiative.pk]), headers=HTMX)

    # The viewer only reads; the outsider (Sales) cannot see the objective.
    offered = option_values(form.text, f"assign-initiative-{initiative.pk}-person")
    expected = {
        str(people[name].pk) for name in ("admin", "manager", "member", "colleague")
    }
    assert form.status_code == 200
    assert "<html" not in form.text
    assert offered == expected


def test_a_manager_gives_an_initiative_inline_and_the_history_says_who(
    client, people, board, colleague
):
    initiative = board[Visibility.ORGANISATION]["initiative"]
    client.force_login(people["manager"])

    response = client.post(
        reverse("initiative_assign", args=[initiative.pk]),
        {"person": colleague.pk, "version": initiative.version},
        headers=HTMX,
    )

    initiative.refresh_from_db()
    # The whole section comes back, so every control in it carries the new
    # version, with the focus back on the Assign link used.
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#initiatives"
    assert response.text.startswith('<section id="initiatives"')
    assert "Gave “Initiative org” to Colleague." in response.text
    assert f'name="version" value="{initiative.version}"' in response.text
    assert response.text.count("autofocus") == 1
    assert initiative.assignee == colleague
    assert initiative.version == 2
    (record,) = records_of(initiative)[1:]
    assert record.actor == people["manager"]
    assert record.changes == {"assignee": [str(people["member"].pk), str(colleague.pk)]}


def test_a_key_result_given_inline_gets_its_control_back(
    client, people, board, colleague
):
    key_result = board[Visibility.TEAM]["key_result"]
    client.force_login(people["manager"])

    response = client.post(
        reverse("key_result_assign", args=[key_result.pk]),
        {"person": colleague.pk, "version": key_result.version},
        headers=HTMX,
    )

    key_result.refresh_from_db()
    assert key_result.owner == colleague
    assert response.text.startswith('<span class="assign"')
    assert "Colleague" in response.text
    assert "Saved" in response.text


def test_without_htmx_assigning_goes_back_to_the_objective_with_a_message(
    client, people, board, colleague
):
    key_result = board[Visibility.ORGANISATION]["key_result"]
    client.force_login(people["manager"])

    response = client.post(
        reverse("key_result_assign", args=[key_result.pk]),
        {"person": colleague.pk, "version": key_result.version},
        follow=True,
    )

    key_result.refresh_from_db()
    assert key_result.owner == colleague
    assert response.redirect_chain[-1][0].endswith(f"#kr-{key_result.pk}")
    assert "Gave “KR org” to Colleague." in response.text


def test_a_member_cannot_give_their_initiative_to_someone_else(
    client, people, board, colleague
):
    initiative = board[Visibility.ORGANISATION]["initiative"]
    client.force_login(people["member"])

    response = client.post(
        reverse("initiative_assign", args=[initiative.pk]),
        {"person": colleague.pk, "version": initiative.version},
    )

    initiative.refresh_from_db()
    assert response.status_code == 400
    assert "unless you manage the team, that is yourself." in response.text
    assert initiative.assignee == people["member"]
    assert len(records_of(initiative)) == 1


def test_the_service_names_why_a_person_cannot_be_given_work(people, board):
    key_result = board[Visibility.TEAM]["key_result"]

    with pytest.raises(ValidationError) as refused:
        services.assign(
            people["manager"], key_result, people["outsider"], key_result.version
        )

    assert refused.value.messages == ["Outsider cannot see its team-only objective."]
    key_result.refresh_from_db()
    assert key_result.owner == people["member"]


def test_an_assignment_over_a_newer_change_is_refused_and_shows_the_holder(
    client, people, board, colleague
):
    key_result = board[Visibility.ORGANISATION]["key_result"]
    loaded = key_result.version
    services.assign(people["admin"], key_result, colleague, loaded)
    client.force_login(people["manager"])

    response = client.post(
        reverse("key_result_assign", args=[key_result.pk]),
        {"person": people["manager"].pk, "version": loaded},
        headers=HTMX,
    )

    key_result.refresh_from_db()
    assert key_result.owner == colleague
    assert "it is now with Colleague" in response.text


def test_an_initiative_can_be_given_to_nobody(client, people, board):
    initiative = board[Visibility.ORGANISATION]["initiative"]
    client.force_login(people["manager"])

    client.post(
        reverse("initiative_assign", args=[initiative.pk]),
        {"person": "", "version": initiative.version},
        headers=HTMX,
    )

    initiative.refresh_from_db()
    assert initiative.assignee is None


def test_a_key_result_always_keeps_an_owner(client, people, board):
    key_result = board[Visibility.ORGANISATION]["key_result"]
    client.force_login(people["manager"])

    response = client.post(
        reverse("key_result_assign", args=[key_result.pk]),
        {"person": "", "version": key_result.version},
    )

    key_result.refresh_from_db()
    assert response.status_code == 400
    assert "A key result always has an owner; pick someone." in response.text
    assert key_result.owner == people["member"]


# Bulk assignment


def bulk_data(items, assignee, **versions):
    data = {"assignee": assignee.pk, "item": [services.item_key(i) for i in items]}
    for item in items:
        key = services.item_key(item)
        data[f"version-{key}"] = versions.get(key, item.version)
    return data


def test_the_work_list_shows_the_teams_open_items_with_checkboxes(
    client, people, board, quarter, teams
):
    done = Initiative.objects.create(
        objective=board[Visibility.ORGANISATION]["objective"],
        title="Finished already",
        state=InitiativeState.DONE,
    )
    elsewhere = make_objective(quarter, teams["sales"], people["outsider"])
    make_key_result(elsewhere, people["outsider"], title="Sales pipeline")
    client.force_login(people["manager"])

    page = client.get(reverse("team_work", args=["credit-risk"]))

    boxes = page.text.count('type="checkbox" name="item"')
    assert page.status_code == 200
    assert boxes == 4  # two key results and two open initiatives
    assert done.title not in page.text
    assert "Sales pipeline" not in page.text


def test_bulk_assign_gives_every_item_with_a_history_row_each(
    client, people, board, colleague
):
    items = [
        board[Visibility.ORGANISATION]["key_result"],
        board[Visibility.ORGANISATION]["initiative"],
        board[Visibility.TEAM]["initiative"],
    ]
    client.force_login(people["manager"])

    response = client.post(
        reverse("team_work", args=["credit-risk"]),
        bulk_data(items, colleague),
        follow=True,
    )

    assert "Gave 3 items to Colleague." in response.text
    for item in items:
        item.refresh_from_db()
        assert services.holder(item) == colleague
        changed = records_of(item)[1:]
        assert len(changed) == 1
        assert changed[0].actor == people["manager"]
        field = "owner" if isinstance(item, KeyResult) else "assignee"
        assert changed[0].changes == {
            field: [str(people["member"].pk), str(colleague.pk)]
        }
    untouched = board[Visibility.TEAM]["key_result"]
    untouched.refresh_from_db()
    assert untouched.owner == people["member"]


def test_one_item_that_cannot_go_to_the_person_means_nothing_changes(
    client, people, board
):
    public = board[Visibility.ORGANISATION]
    hidden = board[Visibility.TEAM]
    items = [public["key_result"], public["initiative"], hidden["initiative"]]
    before = ChangeRecord.objects.count()
    client.force_login(people["manager"])

    response = client.post(
        reverse("team_work", args=["credit-risk"]), bulk_data(items, people["outsider"])
    )

    assert response.status_code == 400
    assert (
        "Nothing was assigned. These cannot go to Outsider: “Initiative team” "
        "(Outsider cannot see its team-only objective)."
    ) in response.text.replace("&ldquo;", "“").replace("&rdquo;", "”")
    for item in items:
        item.refresh_from_db()
        assert services.holder(item) == people["member"]
    assert ChangeRecord.objects.count() == before
    # The ticks stay, so the manager can untick the refused item.
    assert response.text.count("checked") == 3


def test_an_item_this_person_may_not_change_is_named_and_nothing_changes(
    people, board, quarter, teams
):
    """A member may take work they may change; one item they may not (an
    initiative of someone else's key result) refuses the whole batch."""
    mine = board[Visibility.ORGANISATION]["initiative"]
    mine.assignee = None
    mine.save()
    other_kr = make_key_result(
        board[Visibility.ORGANISATION]["objective"], people["manager"], title="Theirs"
    )
    theirs = Initiative.objects.create(
        objective=other_kr.objective, key_result=other_kr, title="Not yours"
    )
    mine.key_result = board[Visibility.ORGANISATION]["key_result"]
    mine.save()

    with pytest.raises(ValidationError) as refused:
        services.bulk_assign(people["member"], [mine, theirs], people["member"])

    assert refused.value.messages == [
        "Nothing was assigned. These cannot go to Member: “Not yours” (you "
        "cannot change it)."
    ]
    mine.refresh_from_db()
    assert mine.assignee is None


def test_an_item_changed_since_the_list_was_shown_refuses_the_batch(
    client, people, board, colleague
):
    key_result = board[Visibility.ORGANISATION]["key_result"]
    initiative = board[Visibility.ORGANISATION]["initiative"]
    shown = bulk_data([key_result, initiative], colleague)
    initiative.title = "Renamed meanwhile"
    services.update_initiative(people["manager"], initiative, initiative.version)
    client.force_login(people["manager"])

    response = client.post(reverse("team_work", args=["credit-risk"]), shown)

    key_result.refresh_from_db()
    assert response.status_code == 400
    assert "someone changed it since the list was shown" in response.text
    assert key_result.owner == people["member"]


def test_ticking_nothing_is_refused_with_a_message(client, people, board, colleague):
    client.force_login(people["manager"])

    response = client.post(
        reverse("team_work", args=["credit-risk"]), {"assignee": colleague.pk}
    )

    assert response.status_code == 400
    assert "Tick at least one item to assign." in response.text


def test_an_item_of_another_team_posted_to_the_list_is_refused(
    client, people, board, colleague, quarter, teams
):
    elsewhere = make_objective(quarter, teams["collections"], people["admin"])
    other = make_key_result(elsewhere, people["admin"], title="Collections KR")
    client.force_login(people["admin"])

    response = client.post(
        reverse("team_work", args=["credit-risk"]), bulk_data([other], colleague)
    )

    other.refresh_from_db()
    assert response.status_code == 400
    assert "no longer open work of this team" in response.text
    assert other.owner == people["admin"]
