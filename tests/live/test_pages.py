"""What pages carry for live updates: the script, where it starts from, and
which parts of the page refresh on which changes."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from creditokr.activity.models import ChangeRecord
from creditokr.activity.recording import acting
from tests.conftest import make_objective

NOW = datetime(2026, 11, 16, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def live_since(page: str) -> int:
    found = re.search(r'data-live-since="(\d+)"', page)
    assert found is not None, "no live script on the page"
    return int(found.group(1))


def test_a_page_starts_from_the_newest_change_its_viewer_may_see(
    client, people, public_key_result, private_key_result
):
    public = ChangeRecord.objects.get(
        content_type__model="keyresult", object_id=public_key_result.pk
    )
    hidden = ChangeRecord.objects.get(
        content_type__model="keyresult", object_id=private_key_result.pk
    )
    assert public.pk < hidden.pk  # the hidden change is the newest
    client.force_login(people["outsider"])

    page = client.get(reverse("dashboard")).text

    assert live_since(page) == public.pk
    client.force_login(people["viewer"])
    assert live_since(client.get(reverse("dashboard")).text) == hidden.pk


def test_the_live_script_is_only_on_pages_of_signed_in_people(client, people):
    signed_out = client.get(reverse("login")).text
    client.force_login(people["member"])
    signed_in = client.get(reverse("my_work")).text

    assert "data-live-socket" not in signed_out
    assert "data-live-notices" not in signed_out
    assert re.search(
        r'<script src="[^"]*js/live\.js" defer data-live-socket="/live/" '
        rf'data-live-since="\d+" data-live-user="{people["member"].pk}">',
        signed_in,
    )
    assert (
        '<div class="live-notices" role="status" aria-live="polite" '
        "data-live-notices></div>" in signed_in
    )


def test_regions_name_the_objectives_they_show(
    client, people, teams, quarter, public_objective
):
    with acting(people["member"]):
        child = make_objective(
            quarter, teams["credit_risk"], people["member"], parent=public_objective
        )
    client.force_login(people["member"])

    detail = client.get(reverse("objective_detail", args=[public_objective.pk])).text
    partial = client.get(
        reverse("objective_detail", args=[public_objective.pk]),
        headers={"HX-Request": "true"},
    ).text
    dashboard = client.get(reverse("dashboard")).text
    my_work = client.get(reverse("my_work")).text

    region = (
        f'<div id="objective" class="objective" '
        f'data-live-objectives="{public_objective.pk} {child.pk}">'
    )
    assert region in detail
    assert partial.startswith(region)  # what a refresh swaps in
    assert '<div id="board" class="board" data-live-objectives="*">' in dashboard
    assert '<div id="my-work" data-live-objectives="*">' in my_work
