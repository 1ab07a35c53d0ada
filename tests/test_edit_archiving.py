"""Archiving and restoring objectives and key results, and finding them."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from creditokr.cycles.services import next_cycle
from creditokr.okrs import services
from tests.conftest import TODAY, make_key_result

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def archive_url(item) -> str:
    name = "objective_archive" if hasattr(item, "cycle_id") else "key_result_archive"
    return reverse(name, args=[item.pk])


# The action is stated, never guessed


@pytest.mark.parametrize("item", ["objective", "key_result"])
def test_archiving_twice_leaves_it_archived_and_says_so(
    client, people, public_key_result, item
):
    target = public_key_result if item == "key_result" else public_key_result.objective
    client.force_login(people["manager"])

    first = client.post(archive_url(target), {"action": "archive"})
    second = client.post(archive_url(target), {"action": "archive"})

    target.refresh_from_db()
    assert target.archived
    assert (first.status_code, second.status_code) == (302, 302)
    assert said(second)[-1] == f"“{target.title}” is already archived."


@pytest.mark.parametrize("item", ["objective", "key_result"])
def test_restoring_something_live_changes_nothing(
    client, people, public_key_result, item
):
    target = public_key_result if item == "key_result" else public_key_result.objective
    client.force_login(people["manager"])

    response = client.post(archive_url(target), {"action": "restore"})

    target.refresh_from_db()
    assert response.status_code == 302
    assert not target.archived
    assert target.version == 1
    assert said(response)[-1] == f"“{target.title}” is already restored."


@pytest.mark.parametrize("action", [None, "", "toggle", "ARCHIVE"])
@pytest.mark.parametrize("item", ["objective", "key_result"])
def test_a_post_without_a_known_action_is_refused(
    client, people, public_key_result, item, action
):
    target = public_key_result if item == "key_result" else public_key_result.objective
    client.force_login(people["manager"])
    data = {} if action is None else {"action": action}

    response = client.post(archive_url(target), data)

    target.refresh_from_db()
    assert response.status_code == 400
    assert "Say whether to archive or restore" in response.text
    assert not target.archived


def test_restore_brings_a_key_result_back(client, people, public_key_result):
    services.archive_key_result(people["member"], public_key_result)
    client.force_login(people["member"])

    response = client.post(archive_url(public_key_result), {"action": "restore"})

    public_key_result.refresh_from_db()
    assert response.status_code == 302
    assert not public_key_result.archived
    assert said(response)[-1].startswith("Restored “30+ delinquency rate”")


def test_a_key_result_due_outside_the_cycle_now_is_not_restored(
    client, people, public_key_result, organisation, quarter
):
    public_key_result.due_date = datetime(2026, 11, 30, tzinfo=UTC).date()
    public_key_result.save()
    services.archive_key_result(people["member"], public_key_result)
    objective = public_key_result.objective
    objective.cycle = next_cycle(organisation, quarter, TODAY)
    objective.save()
    client.force_login(people["member"])

    response = client.post(archive_url(public_key_result), {"action": "restore"})

    public_key_result.refresh_from_db()
    assert response.status_code == 302
    assert public_key_result.archived
    assert "is due 30 Nov 2026, outside FY2027 Q4" in said(response)[-1]


def test_every_archive_button_says_what_it_does(client, people, public_key_result):
    client.force_login(people["manager"])

    page = client.get(
        reverse("objective_detail", args=[public_key_result.objective_id])
    )

    assert page.text.count('name="action" value="archive"') == 2


# Archived objectives


def test_an_archived_objective_offers_restore_on_its_page(
    client, people, public_objective
):
    services.archive_objective(people["manager"], public_objective)
    client.force_login(people["manager"])

    page = client.get(reverse("objective_detail", args=[public_objective.pk]))

    assert 'name="action" value="restore"' in page.text
    assert ">Restore</button>" in page.text


def test_an_archived_objective_offers_no_new_work_on_its_page(
    client, people, public_key_result
):
    objective = public_key_result.objective
    services.archive_objective(people["manager"], objective)
    client.force_login(people["manager"])

    page = client.get(reverse("objective_detail", args=[objective.pk]))

    assert ">Restore</button>" in page.text
    assert reverse("check_in_create", args=[public_key_result.pk]) not in page.text
    assert reverse("key_result_create", args=[objective.pk]) not in page.text
    assert reverse("initiative_create", args=[objective.pk]) not in page.text
    assert ">Check in</a>" not in page.text


def test_a_live_objective_offers_new_work_on_its_page(
    client, people, public_key_result
):
    objective = public_key_result.objective
    client.force_login(people["manager"])

    page = client.get(reverse("objective_detail", args=[objective.pk]))

    assert reverse("check_in_create", args=[public_key_result.pk]) in page.text
    assert reverse("key_result_create", args=[objective.pk]) in page.text
    assert reverse("initiative_create", args=[objective.pk]) in page.text


def test_a_viewer_is_offered_no_restore(client, people, public_objective):
    services.archive_objective(people["manager"], public_objective)
    client.force_login(people["viewer"])

    page = client.get(reverse("objective_detail", args=[public_objective.pk]))

    assert page.status_code == 200
    assert 'value="restore"' not in page.text


# Archived key results


def archived_list(client, objective, **extra):
    return client.get(reverse("archived_key_results", args=[objective.pk]), **extra)


@pytest.fixture
def archived_key_result(public_objective, people):
    key_result = make_key_result(
        public_objective, people["member"], title="Roll rate 30 to 60"
    )
    services.archive_key_result(people["member"], key_result)
    return key_result


def test_the_objective_page_loads_its_archived_key_results(
    client, people, public_objective
):
    client.force_login(people["viewer"])

    page = client.get(reverse("objective_detail", args=[public_objective.pk]))

    url = reverse("archived_key_results", args=[public_objective.pk])
    assert f'hx-get="{url}"' in page.text
    assert 'hx-trigger="load"' in page.text


def test_an_editor_sees_archived_key_results_with_restore(
    client, people, public_key_result, archived_key_result
):
    client.force_login(people["member"])

    response = archived_list(client, public_key_result.objective, **HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<details" in response.text
    assert "Archived key results (1)" in response.text
    assert archived_key_result.title in response.text
    assert public_key_result.title not in response.text
    # Restore opens the page that shows the effect on the objective first.
    restore = reverse("key_result_archive_confirm", args=[archived_key_result.pk])
    assert f'<form method="get" action="{restore}">' in response.text
    assert 'name="action" value="restore"' in response.text


def test_a_viewer_sees_archived_key_results_without_restore(
    client, people, public_objective, archived_key_result
):
    client.force_login(people["viewer"])

    response = archived_list(client, public_objective, **HTMX)

    assert archived_key_result.title in response.text
    assert "Restore" not in response.text


def test_nothing_is_shown_when_nothing_is_archived(
    client, people, public_objective, public_key_result
):
    client.force_login(people["member"])

    response = archived_list(client, public_objective, **HTMX)

    assert response.status_code == 200
    assert response.text.strip() == ""


def test_an_outsider_gets_404_for_the_archived_key_results_of_a_hidden_objective(
    client, people, private_objective
):
    hidden = make_key_result(private_objective, people["member"], title="Hidden KR")
    services.archive_key_result(people["member"], hidden)
    client.force_login(people["outsider"])

    response = archived_list(client, private_objective, **HTMX)

    assert response.status_code == 404
    assert "Hidden KR" not in response.text


def test_without_htmx_the_archived_key_results_get_a_page_of_their_own(
    client, people, public_objective, archived_key_result
):
    client.force_login(people["member"])

    response = archived_list(client, public_objective)

    assert response.status_code == 200
    assert "<html" in response.text
    assert archived_key_result.title in response.text


def test_restoring_from_the_list_puts_it_back_on_the_objective_page(
    client, people, public_objective, archived_key_result
):
    client.force_login(people["member"])

    client.post(archive_url(archived_key_result), {"action": "restore"})
    page = client.get(reverse("objective_detail", args=[public_objective.pk]))
    listed = archived_list(client, public_objective, **HTMX)

    assert f'id="kr-{archived_key_result.pk}"' in page.text
    assert archived_key_result.title not in listed.text


def test_the_archived_list_uses_few_queries(
    client, people, public_objective, django_assert_max_num_queries
):
    for number in range(5):
        key_result = make_key_result(
            public_objective, people["member"], title=f"Old measure {number}"
        )
        services.archive_key_result(people["member"], key_result)
    client.force_login(people["member"])

    with django_assert_max_num_queries(8):
        response = archived_list(client, public_objective, **HTMX)

    assert response.text.count('value="restore"') == 5


@pytest.mark.parametrize("name", ["key_result_create", "initiative_create"])
def test_nothing_is_added_to_an_archived_objective(
    client, people, public_objective, name
):
    services.archive_objective(people["member"], public_objective)
    client.force_login(people["member"])
    data = {
        "title": "Late addition",
        "owner": people["member"].pk,
        "assignee": people["member"].pk,
        "kind": "milestone",
        "unit": "count",
        "target_mode": "absolute",
        "weight": "1",
        "priority": "medium",
        "state": "not_started",
    }

    response = client.post(reverse(name, args=[public_objective.pk]), data)

    assert "is archived; restore it before adding to it" in response.content.decode()
    assert not public_objective.key_results.filter(title="Late addition").exists()
    assert not public_objective.initiatives.filter(title="Late addition").exists()
