"""Deactivating someone who leaves: their open work goes to others first.

The member leaves. What they carry:

    P (Credit Risk, owned by the manager)   KR1, I1 (in progress), I2 (done)
    Q (Credit Risk, owned by the member)    KR2
    R (Collections, owned by the admin)     KR3
    last quarter's objective (closed)       Old KR
    an archived key result in P             Archived KR

Open work is KR1, I1, KR2 and KR3. KR2's objective is the member's own, so
by default it has nowhere to go until someone is chosen for Credit Risk.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from creditokr.accounts.models import Role, User
from creditokr.activity.models import ChangeRecord
from creditokr.cycles.models import CycleState
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs import services
from creditokr.okrs.models import Initiative, InitiativeState
from tests.conftest import TODAY, make_key_result, make_objective, make_user

REASON = "Member was deactivated; their open work was handed over."


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def work(people, teams, quarter, organisation, calendar):
    people["colleague"] = make_user("colleague", teams["credit_risk"], Role.MEMBER)
    member, manager = people["member"], people["manager"]
    p = make_objective(quarter, teams["credit_risk"], manager, title="P")
    q = make_objective(quarter, teams["credit_risk"], member, title="Q")
    r = make_objective(quarter, teams["collections"], people["admin"], title="R")
    kr1 = make_key_result(p, member, title="KR1")
    services.record_check_in(member, kr1, as_of=date(2026, 11, 14), value=Decimal(7))
    closed = ensure_cycle(organisation, calendar.quarter_period(2027, 2), TODAY)
    closed.state = CycleState.CLOSED
    closed.save()
    old = make_objective(closed, teams["credit_risk"], manager, title="Old one")
    return {
        "KR1": kr1,
        "I1": Initiative.objects.create(
            objective=p,
            title="I1",
            assignee=member,
            state=InitiativeState.IN_PROGRESS,
        ),
        "Finished initiative two": Initiative.objects.create(
            objective=p,
            title="Finished initiative two",
            assignee=member,
            state=InitiativeState.DONE,
        ),
        "KR2": make_key_result(q, member, title="KR2"),
        "KR3": make_key_result(r, member, title="KR3"),
        "Old KR": make_key_result(old, member, title="Old KR"),
        "Archived KR": make_key_result(p, member, title="Archived KR", archived=True),
    }


def holders(work):
    found = {}
    for name, item in work.items():
        item.refresh_from_db()
        found[name] = str(services.holder(item))
    return found


def shown(work, *names):
    return [services.item_key(work[name]) for name in names]


OPEN = ("KR1", "I1", "KR2", "KR3")


def deactivate(client, admin, person, **data):
    client.force_login(admin)
    url = reverse("person_deactivate", args=[person.pk])
    return client.post(url, {"confirm": "yes"} | data)


def test_the_page_lists_open_work_and_where_it_goes(client, people, work):
    client.force_login(people["admin"])

    page = client.get(reverse("person_deactivate", args=[people["member"].pk]))

    handovers = {h.item.title: h for h in page.context["handovers"]}
    assert set(handovers) == set(OPEN)
    assert str(handovers["KR1"].to) == "Manager"
    assert str(handovers["KR3"].to) == "Admin"
    assert handovers["KR2"].problem == (
        "its objective's owner is Member; choose someone in Credit Risk to give it to"
    )
    assert "Old KR" not in page.text
    assert "Finished initiative two" not in page.text
    assert 'name="confirm" value="yes" class="button button--primary" disabled' in (
        page.text
    )


def test_work_with_nowhere_to_go_refuses_the_whole_deactivation(client, people, work):
    before = holders(work)

    response = deactivate(
        client, people["admin"], people["member"], item=shown(work, *OPEN)
    )

    people["member"].refresh_from_db()
    assert response.status_code == 400
    assert "Nothing was changed. Some work has nowhere to go: “KR2”" in (
        response.text.replace("&ldquo;", "“").replace("&rdquo;", "”")
    )
    assert people["member"].is_active
    assert holders(work) == before


def test_deactivating_hands_over_open_work_only_and_ends_the_sessions(
    client, people, work, teams
):
    member, admin, colleague = people["member"], people["admin"], people["colleague"]
    elsewhere = Client()
    elsewhere.force_login(member)
    assert elsewhere.get(reverse("my_work")).status_code == 200

    response = deactivate(
        client,
        admin,
        member,
        item=shown(work, *OPEN),
        **{f"team-{teams['credit_risk'].pk}": colleague.pk},
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert holders(work) == {
        "KR1": "Colleague",
        "I1": "Colleague",
        "KR2": "Colleague",
        "KR3": "Admin",  # Collections: its objective's owner
        "Finished initiative two": "Member",  # done work keeps their name
        "Old KR": "Member",
        "Archived KR": "Member",
    }
    sessions = [s.get_decoded().get(SESSION_KEY) for s in Session.objects.all()]
    assert str(member.pk) not in sessions
    assert elsewhere.get(reverse("my_work")).status_code == 302
    assert not Client().login(username="member", password="pw")


def test_the_history_records_each_handover_and_the_deactivation(
    client, people, work, teams
):
    member, admin, colleague = people["member"], people["admin"], people["colleague"]

    deactivate(
        client,
        admin,
        member,
        item=shown(work, *OPEN),
        **{f"team-{teams['credit_risk'].pk}": colleague.pk},
    )

    updates = ChangeRecord.objects.filter(action=ChangeRecord.Action.UPDATE)
    for name in OPEN:
        item = work[name]
        content_type = ContentType.objects.get_for_model(type(item))
        (record,) = updates.filter(content_type=content_type, object_pk=str(item.pk))
        assert record.actor == admin
        assert record.reason == REASON
    user_type = ContentType.objects.get_for_model(User)
    (record,) = updates.filter(content_type=user_type, object_pk=str(member.pk))
    assert record.changes == {"is_active": ["True", "False"]}
    assert record.actor == admin
    assert record.subject == member


def test_their_name_stays_on_what_they_did(client, people, work, teams):
    deactivate(
        client,
        people["admin"],
        people["member"],
        item=shown(work, *OPEN),
        **{f"team-{teams['credit_risk'].pk}": people["colleague"].pk},
    )
    client.force_login(people["manager"])

    page = client.get(reverse("objective_detail", args=[work["KR1"].objective_id]))

    check_in = work["KR1"].check_ins.get()
    assert check_in.author == people["member"]
    assert "Member" in page.text


def test_a_list_that_changed_since_it_was_shown_is_refused(client, people, work, teams):
    response = deactivate(
        client,
        people["admin"],
        people["member"],
        item=shown(work, "KR1", "I1", "KR2"),  # KR3 was added meanwhile
        **{f"team-{teams['credit_risk'].pk}": people["colleague"].pk},
    )

    people["member"].refresh_from_db()
    assert response.status_code == 400
    assert "open work changed since the page was shown" in response.text
    assert people["member"].is_active


def test_someone_who_cannot_take_part_is_refused_as_the_choice(
    client, people, work, teams
):
    response = deactivate(
        client,
        people["admin"],
        people["member"],
        item=shown(work, *OPEN),
        **{f"team-{teams['credit_risk'].pk}": people["viewer"].pk},
    )

    assert response.status_code == 400
    assert "Select a valid choice" in response.text  # viewers are not offered
    people["member"].refresh_from_db()
    assert people["member"].is_active


def test_reactivating_lets_them_sign_in_again_and_work_stays_where_it_went(
    client, people, work, teams
):
    member, admin = people["member"], people["admin"]
    deactivate(
        client,
        admin,
        member,
        item=shown(work, *OPEN),
        **{f"team-{teams['credit_risk'].pk}": people["colleague"].pk},
    )

    response = client.post(reverse("person_reactivate", args=[member.pk]), follow=True)

    member.refresh_from_db()
    assert member.is_active
    assert "Member can sign in again." in response.text
    assert Client().login(username="member", password="pw")
    assert holders(work)["KR1"] == "Colleague"
    user_type = ContentType.objects.get_for_model(User)
    changes = ChangeRecord.objects.filter(
        content_type=user_type, object_pk=str(member.pk), changes__has_key="is_active"
    ).order_by("pk")
    assert [r.changes["is_active"] for r in changes][-2:] == [
        ["True", "False"],
        ["False", "True"],
    ]


def test_an_administrator_cannot_deactivate_themselves(client, people):
    response = deactivate(client, people["admin"], people["admin"])

    people["admin"].refresh_from_db()
    assert response.status_code == 400
    assert "You cannot deactivate yourself" in response.text
    assert people["admin"].is_active


def test_the_people_list_offers_deactivate_and_reactivate(client, people):
    people["viewer"].is_active = False
    people["viewer"].save()
    client.force_login(people["admin"])

    page = client.get(reverse("person_list")).text

    assert reverse("person_deactivate", args=[people["member"].pk]) in page
    assert reverse("person_reactivate", args=[people["viewer"].pk]) in page
    assert reverse("person_deactivate", args=[people["admin"].pk]) not in page
