"""Notifications: what makes one, who gets it, the bell and the page."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from creditokr.accounts.models import Membership
from creditokr.activity.recording import attribute
from creditokr.collab import services
from creditokr.collab.access import Thread
from creditokr.collab.models import Follow, Notification, NotificationKind
from creditokr.okrs import services as okr_services
from creditokr.okrs.models import Initiative
from creditokr.okrs.services import record_check_in
from tests.collab.conftest import notes

pytestmark = pytest.mark.django_db


# Assignments


def test_assigning_an_initiative_tells_the_assignee(
    people, public_objective, colleague, committed
):
    initiative = Initiative.objects.create(objective=public_objective, title="Calls")
    initiative.assignee = colleague

    with committed():
        okr_services.update_initiative(people["manager"], initiative, 1)

    [told] = notes(colleague)
    assert told.kind == NotificationKind.ASSIGNMENT
    assert told.text == "Manager assigned initiative “Calls” to you"
    assert told.actor == people["manager"]
    assert told.objective == public_objective
    assert told.change is not None


def test_a_new_initiative_given_to_someone_tells_them(
    people, public_objective, colleague, committed
):
    initiative = Initiative(
        objective=public_objective, title="Dunning letters", assignee=colleague
    )

    with committed():
        okr_services.create_initiative(people["manager"], initiative)

    assert [n.text for n in notes(colleague)] == [
        "Manager assigned initiative “Dunning letters” to you"
    ]


def test_taking_work_oneself_tells_nobody(
    people, public_objective, colleague, committed
):
    initiative = Initiative.objects.create(objective=public_objective, title="Calls")
    initiative.assignee = colleague

    with committed():
        okr_services.update_initiative(colleague, initiative, 1)

    assert notes(colleague) == []


def test_a_new_key_result_owner_is_told(
    people, public_key_result, colleague, committed
):
    public_key_result.owner = colleague

    with committed():
        okr_services.update_key_result(people["manager"], public_key_result, 1)

    [told] = notes(colleague)
    assert told.text == (
        "Manager made you the owner of key result “30+ delinquency rate”"
    )
    assert told.key_result == public_key_result


def test_work_in_a_team_only_objective_given_to_an_outsider_is_not_announced(
    people, private_objective, committed
):
    """The services refuse such an assignment; one made behind their back
    (in the admin, say) is still not announced."""
    initiative = Initiative.objects.create(objective=private_objective, title="Calls")
    initiative.assignee = people["outsider"]

    with committed():
        attribute(initiative, people["manager"])
        initiative.save()

    assert Initiative.objects.get().assignee == people["outsider"]
    assert notes(people["outsider"]) == []


# Status changes


def test_a_check_in_that_puts_the_objective_at_risk_tells_its_followers(
    people, public_key_result, committed
):
    """Q3 runs 1 Oct to 31 Dec (91 days); on 15 Nov, 45 days in, the pace
    is 45/91 = 49.45%. The key result goes from 8.0 down to 6.8:
    - 7.4 is 0.6/1.2 = 50% done, ahead of pace: on track;
    - 7.7 is 0.3/1.2 = 25% done, 24.45 points behind (10 to 25): at risk;
    - 7.6 is 0.4/1.2 = 33.3% done, 16.1 points behind: still at risk.
    The objective, with this one key result, takes its status."""
    objective = public_key_result.objective
    Follow.objects.create(user=people["manager"], objective=objective)
    Initiative.objects.create(
        objective=objective, title="Calls", assignee=people["viewer"]
    )
    member = people["member"]

    for day, value in ((14, "7.4"), (15, "7.7"), (15, "7.6")):
        with committed():
            record_check_in(
                member,
                public_key_result,
                as_of=date(2026, 11, day),
                value=Decimal(value),
            )

    expected = [
        "“Reduce 30+ delinquency” is now On track (was Not started) after a "
        "check-in by Member on “30+ delinquency rate”",
        "“Reduce 30+ delinquency” is now At risk (was On track) after a "
        "check-in by Member on “30+ delinquency rate”",
    ]
    for follower in (people["manager"], people["viewer"]):
        told = notes(follower)
        assert [n.text for n in told] == expected
        assert {n.kind for n in told} == {NotificationKind.STATUS}
        assert {n.key_result for n in told} == {public_key_result}
    assert notes(member) == []  # their own check-ins


def test_a_status_set_by_hand_tells_the_followers(people, public_objective, committed):
    Follow.objects.create(user=people["viewer"], objective=public_objective)

    with committed():
        okr_services.set_status_override(
            people["manager"], public_objective, "off_track", "Audit findings", 1
        )
    with committed():
        okr_services.set_status_override(people["manager"], public_objective, "", "", 2)

    assert [n.text for n in notes(people["viewer"])] == [
        "Manager set the status of “Reduce 30+ delinquency” to Off track by hand",
        "Manager cleared the status set by hand on “Reduce 30+ delinquency”",
    ]
    assert [n.text for n in notes(people["member"])] == [
        n.text for n in notes(people["viewer"])
    ]


def test_an_outsider_hears_nothing_of_a_team_only_objective(
    people, public_key_result, committed
):
    objective = public_key_result.objective
    Follow.objects.create(user=people["outsider"], objective=objective)
    Follow.objects.create(user=people["viewer"], objective=objective)
    objective.visibility = "team"
    objective.save()

    with committed():
        record_check_in(
            people["member"],
            public_key_result,
            as_of=date(2026, 11, 14),
            value=Decimal("7.4"),
        )
    services.post_comment(people["member"], Thread(objective), "@outsider see this")
    with committed():
        okr_services.set_status_override(
            people["manager"], objective, "at_risk", "Data late", objective.version
        )

    assert notes(people["outsider"]) == []
    assert [n.kind for n in notes(people["viewer"])] == [
        NotificationKind.STATUS,
        NotificationKind.COMMENT,
        NotificationKind.STATUS,
    ]


# The bell and the page


BELL = '<span class="bell__count">'


def bell(page) -> str:
    """The number the bell shows on a page."""
    text: str = page.text
    start = text.index(BELL) + len(BELL)
    return text[start : text.index("</span>", start)]


def test_the_bell_counts_unread_notifications(client, people, public_objective):
    thread = Thread(public_objective)
    for body in ("One", "Two"):
        services.post_comment(people["viewer"], thread, body)
    first, _second = notes(people["member"])
    client.force_login(people["member"])
    read = reverse("notifications_read")

    before = client.get(reverse("dashboard"))
    client.post(read, {"notification": first.pk})
    after_one = client.get(reverse("dashboard"))
    client.post(read, {"all": "1"})
    after_all = client.get(reverse("dashboard"))

    assert [bell(page) for page in (before, after_one, after_all)] == ["2", "1", "0"]
    assert 'class="bell bell--unread"' in before.text
    assert 'class="bell"' in after_all.text


def test_the_page_lists_newest_first_with_unread_marked(
    client, people, public_objective
):
    thread = Thread(public_objective)
    services.post_comment(people["viewer"], thread, "One")
    services.post_comment(people["manager"], thread, "@member Two")
    Notification.objects.filter(kind=NotificationKind.COMMENT).update(
        read_at="2026-11-15T12:00:00Z"
    )
    client.force_login(people["member"])

    page = client.get(reverse("notifications"))

    mention = "Manager mentioned you in a comment on “Reduce 30+ delinquency”"
    comment = "Viewer commented on “Reduce 30+ delinquency”"
    assert page.text.index(mention) < page.text.index(comment)
    assert page.text.count('<span class="badge badge--new">New</span>') == 1
    assert page.context["page"].paginator.count == 2


def test_opening_a_notification_marks_it_read_and_goes_to_it(
    client, people, public_objective
):
    comment = services.post_comment(people["viewer"], Thread(public_objective), "Q")
    [told] = notes(people["member"])
    client.force_login(people["member"])

    response = client.post(
        reverse("notifications_read"), {"notification": told.pk, "go": "1"}
    )

    assert response.status_code == 302
    assert response["Location"] == (
        f"/objectives/{public_objective.pk}/comments/#comment-{comment.pk}"
    )
    told.refresh_from_db()
    assert told.read_at is not None


def test_nobody_marks_someone_elses_notification(client, people, public_objective):
    services.post_comment(people["viewer"], Thread(public_objective), "Q")
    [told] = notes(people["member"])
    client.force_login(people["viewer"])

    response = client.post(reverse("notifications_read"), {"notification": told.pk})

    assert response.status_code == 404
    told.refresh_from_db()
    assert told.read_at is None


@pytest.mark.parametrize("given", ["", "abc", "0", "99999999999999999999"])
def test_a_notification_id_that_is_no_id_is_not_found(client, people, given):
    client.force_login(people["member"])

    response = client.post(reverse("notifications_read"), {"notification": given})

    assert response.status_code == 404


def test_a_notification_about_an_objective_made_team_only_disappears(
    client, people, public_objective
):
    Follow.objects.create(user=people["outsider"], objective=public_objective)
    services.post_comment(people["viewer"], Thread(public_objective), "Q")
    client.force_login(people["outsider"])
    shown = client.get(reverse("notifications"))
    public_objective.visibility = "team"
    public_objective.save()

    hidden = client.get(reverse("notifications"))
    client.post(reverse("notifications_read"), {"all": "1"})
    public_objective.visibility = "org"
    public_objective.save()
    back = client.get(reverse("notifications"))

    title = "Reduce 30+ delinquency"
    assert title in shown.text
    assert bell(shown) == "1"
    assert title not in hidden.text
    assert bell(hidden) == "0"
    assert hidden.context["page"].paginator.count == 0
    # Marking all read while it was hidden did not touch it.
    assert title in back.text
    assert bell(back) == "1"


def test_notifications_go_with_the_team_one_leaves(
    client, people, private_objective, colleague
):
    services.post_comment(
        people["member"], Thread(private_objective), "@colleague limits?"
    )
    client.force_login(colleague)
    before = client.get(reverse("notifications"))

    Membership.objects.filter(user=colleague).delete()
    after = client.get(reverse("notifications"))

    assert private_objective.title in before.text
    assert private_objective.title not in after.text
    assert bell(after) == "0"
