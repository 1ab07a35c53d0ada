"""Putting an objective's initiatives in order, and their priority inline."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from creditokr.activity.models import ChangeRecord
from creditokr.okrs import services
from creditokr.okrs.models import Initiative
from tests.conftest import make_objective

HTMX = {"HX-Request": "true"}
STALE = "Someone added or removed an initiative while you were ordering them"


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def objective(quarter, teams, people):
    return make_objective(
        quarter, teams["credit_risk"], people["member"], title="Recover more"
    )


@pytest.fixture
def initiatives(people, objective):
    """Three initiatives in order A, B, C (positions 0, 1, 2)."""
    return [
        services.create_initiative(
            people["member"], Initiative(objective=objective, title=title)
        )
        for title in ("A", "B", "C")
    ]


def order_data(initiatives, **extra):
    data = {"order": [i.pk for i in initiatives]}
    for initiative in initiatives:
        data[f"version-{initiative.pk}"] = initiative.version
    return data | extra


def titles_in_order(objective):
    return list(
        Initiative.objects.filter(objective=objective)
        .order_by("position", "pk")
        .values_list("title", flat=True)
    )


def moves(initiative):
    content_type = ContentType.objects.get_for_model(Initiative)
    return list(
        ChangeRecord.objects.filter(
            content_type=content_type,
            object_pk=str(initiative.pk),
            action=ChangeRecord.Action.UPDATE,
            changes__has_key="position",
        )
    )


def test_move_up_is_a_plain_post_and_records_each_initiative_moved(
    client, people, objective, initiatives
):
    a, b, c = initiatives
    client.force_login(people["member"])  # the objective's owner

    response = client.post(
        reverse("initiative_order", args=[objective.pk]),
        order_data(initiatives, move=f"{c.pk}:up"),
        follow=True,
    )

    assert titles_in_order(objective) == ["A", "C", "B"]
    assert response.redirect_chain[-1][0].endswith("#initiatives")
    assert "Moved “C” to place 2 of 3." in response.text
    assert moves(a) == []
    (c_moved,) = moves(c)
    (b_moved,) = moves(b)
    assert c_moved.changes == {"position": ["2", "1"]}
    assert b_moved.changes == {"position": ["1", "2"]}
    assert c_moved.actor == b_moved.actor == people["member"]


def test_a_drag_posts_the_new_order_and_gets_the_section_back(
    client, people, objective, initiatives
):
    a, b, c = initiatives
    client.force_login(people["manager"])

    response = client.post(
        reverse("initiative_order", args=[objective.pk]),
        order_data([c, a, b]),
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response.text.startswith('<section id="initiatives"')
    assert "Order saved." in response.text
    assert titles_in_order(objective) == ["C", "A", "B"]
    assert [len(moves(i)) for i in (a, b, c)] == [1, 1, 1]
    # The section comes back with the new versions, ready for the next move.
    for initiative in (a, b, c):
        initiative.refresh_from_db()
        assert f'name="version-{initiative.pk}" value="{initiative.version}"' in (
            response.text
        )


def move(client, objective, initiatives, moving, direction):
    return client.post(
        reverse("initiative_order", args=[objective.pk]),
        order_data(initiatives, move=f"{moving.pk}:{direction}"),
        headers=HTMX,
    )


def test_after_a_keyboard_move_the_same_button_has_the_focus(
    client, people, objective, initiatives
):
    _a, _b, c = initiatives
    client.force_login(people["member"])

    response = move(client, objective, initiatives, c, "up")

    assert f'value="{c.pk}:up" class="button button--small" autofocus' in response.text
    assert response.text.count("autofocus") == 1


def test_a_move_to_the_top_leaves_the_focus_on_move_down(
    client, people, objective, initiatives
):
    _a, b, _c = initiatives
    client.force_login(people["member"])

    response = move(client, objective, initiatives, b, "up")

    assert titles_in_order(objective) == ["B", "A", "C"]
    assert f'value="{b.pk}:down" class="button button--small" autofocus' in (
        response.text
    )
    assert response.text.count("autofocus") == 1


def test_a_list_made_before_someone_added_an_initiative_is_refused(
    client, people, objective, initiatives
):
    shown = order_data(initiatives, move=f"{initiatives[2].pk}:up")
    services.create_initiative(
        people["manager"], Initiative(objective=objective, title="D")
    )
    client.force_login(people["member"])

    response = client.post(
        reverse("initiative_order", args=[objective.pk]), shown, headers=HTMX
    )

    assert STALE in response.text
    assert titles_in_order(objective) == ["A", "B", "C", "D"]
    assert all(moves(i) == [] for i in initiatives)


def test_an_order_over_someone_elses_move_is_refused_and_names_it(
    client, people, objective, initiatives
):
    a, b, c = initiatives
    shown = order_data([b, a, c])
    services.reorder_initiatives(people["manager"], objective, [a.pk, c.pk, b.pk])
    client.force_login(people["member"])

    response = client.post(reverse("initiative_order", args=[objective.pk]), shown)

    assert titles_in_order(objective) == ["A", "C", "B"]
    page = client.get(response["Location"])
    assert "Someone changed “B”, “C” while you were ordering" in page.text


def test_the_service_refuses_a_list_naming_an_initiative_twice(
    people, objective, initiatives
):
    a, b, _c = initiatives

    with pytest.raises(Exception, match="Someone added or removed"):
        services.reorder_initiatives(people["member"], objective, [a.pk, b.pk, b.pk])

    assert titles_in_order(objective) == ["A", "B", "C"]


def test_moving_the_first_up_changes_nothing_and_says_so(
    client, people, objective, initiatives
):
    a = initiatives[0]
    client.force_login(people["member"])

    response = client.post(
        reverse("initiative_order", args=[objective.pk]),
        order_data(initiatives, move=f"{a.pk}:up"),
        headers=HTMX,
    )

    assert "“A” is first already." in response.text
    assert titles_in_order(objective) == ["A", "B", "C"]
    assert moves(a) == []


def test_ordering_controls_show_only_for_people_who_may_change_the_objective(
    client, people, objective, initiatives
):
    url = reverse("objective_detail", args=[objective.pk])
    client.force_login(people["member"])
    as_owner = client.get(url).text
    client.force_login(people["viewer"])
    as_viewer = client.get(url).text

    assert 'data-sortable="initiative-order"' in as_owner
    assert as_owner.count('name="move"') == 6
    assert 'data-sortable="initiative-order"' not in as_viewer
    assert 'name="move"' not in as_viewer
    assert 'name="priority"' not in as_viewer


def test_priority_changes_inline_and_is_recorded(
    client, people, objective, initiatives
):
    b = initiatives[1]
    client.force_login(people["manager"])

    response = client.post(
        reverse("initiative_priority", args=[b.pk]),
        {"priority": "high", "version": b.version},
        headers=HTMX,
    )

    b.refresh_from_db()
    assert response.status_code == 200
    assert "“B” is high priority." in response.text
    assert b.priority == "high"
    updates = ChangeRecord.objects.filter(action=ChangeRecord.Action.UPDATE)
    record = updates.filter(changes__has_key="priority").get()
    assert record.changes == {"priority": ["medium", "high"]}
    assert record.actor == people["manager"]


def test_an_unknown_priority_is_refused_and_changes_nothing(
    client, people, objective, initiatives
):
    b = initiatives[1]
    client.force_login(people["manager"])

    response = client.post(
        reverse("initiative_priority", args=[b.pk]),
        {"priority": "urgent", "version": b.version},
        follow=True,
    )

    b.refresh_from_db()
    assert "Pick a priority from the list: high, medium or low." in response.text
    assert b.priority == "medium"
    assert b.version == 1
