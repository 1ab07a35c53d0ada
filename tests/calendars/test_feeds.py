"""What the feeds hold, read back by icalendar and by vobject.

The quarter is FY2027 Q3 (1 Oct - 31 Dec 2026) in Europe/London. Its
cadence starts as: planning Thu 1 Oct 10:00 BST (09:00 UTC, 120 min),
mid-quarter review Mon 16 Nov 10:00 GMT, evaluation Thu 31 Dec 14:00 GMT.
The clocks go back at 01:00 UTC on Sunday 25 October 2026, so 10:00 in
London is 09:00 UTC before that day and 10:00 UTC after it.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from creditokr.accounts.models import Role, Team
from creditokr.calendars.models import FeedScope
from creditokr.cycles import services
from creditokr.cycles.models import CadenceKind, CycleState
from creditokr.okrs.models import Initiative
from tests.calendars.conftest import (
    NOW,
    events_by_uid,
    make_feed,
    parse_both,
    read_feed,
    vevents_by_uid,
)
from tests.conftest import make_key_result, make_objective, make_user

HOST = "okr.example.test"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def cadence(quarter):
    return {event.kind: event for event in quarter.cadence_events.all()}


def uid(prefix: str, obj) -> str:
    return f"{prefix}-{obj.pk}@{HOST}"


def test_a_feed_is_a_calendar_both_parsers_read(
    client, people, cadence, public_key_result
):
    data = read_feed(client, make_feed(people["member"]))
    calendar, component = parse_both(data)

    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == "-//CreditOKR//Calendars 1.0//EN"
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["X-WR-CALNAME"] == "Member (CreditOKR)"
    expected = {uid("cadence", event) for event in cadence.values()}
    expected.add(uid("kr-due", public_key_result))
    assert set(events_by_uid(calendar)) == expected
    assert set(vevents_by_uid(component)) == expected
    # Every DTSTAMP is in UTC (the Z form), as RFC 5545 requires.
    stamps = [line for line in data.decode().splitlines() if line.startswith("DTSTAMP")]
    assert stamps == ["DTSTAMP:20261115T120000Z"] * len(expected)


def test_a_meeting_keeps_its_local_time_across_the_clock_change(
    client, people, organisation, cadence
):
    review = cadence[CadenceKind.MID_REVIEW]
    services.update_cadence_event(
        review, organisation, day=date(2026, 10, 26), at=time(10, 0)
    )

    data = read_feed(client, make_feed(people["member"]))
    calendar, component = parse_both(data)

    text = data.decode()
    assert "DTSTART;TZID=Europe/London:20261026T100000" in text
    assert "DTEND;TZID=Europe/London:20261026T110000" in text
    assert "DTSTART;TZID=Europe/London:20261001T100000" in text
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    planning = uid("cadence", cadence[CadenceKind.PLANNING])
    # vobject builds the zone from our VTIMEZONE, not from the system.
    vevents = vevents_by_uid(component)
    assert vevents[uid("cadence", review)].dtstart.value.astimezone(UTC) == datetime(
        2026, 10, 26, 10, tzinfo=UTC
    )
    assert vevents[planning].dtstart.value.astimezone(UTC) == datetime(
        2026, 10, 1, 9, tzinfo=UTC
    )
    assert vevents[planning].dtend.value.astimezone(UTC) == datetime(
        2026, 10, 1, 11, tzinfo=UTC
    )
    start = events_by_uid(calendar)[uid("cadence", review)].start
    assert (start.hour, str(start.tzinfo)) == (10, "Europe/London")


def test_deadlines_are_all_day_with_the_next_day_as_their_end(
    client, people, quarter, public_key_result, private_key_result
):
    public_key_result.due_date = date(2026, 12, 15)
    public_key_result.version = 4
    public_key_result.save()

    data = read_feed(client, make_feed(people["member"]))
    calendar, component = parse_both(data)

    text = data.decode()
    assert "DTSTART;VALUE=DATE:20261215" in text
    assert "DTEND;VALUE=DATE:20261216" in text
    events = events_by_uid(calendar)
    public = events[uid("kr-due", public_key_result)]
    assert (public.start, public.end) == (date(2026, 12, 15), date(2026, 12, 16))
    assert public["SEQUENCE"] == 4
    assert public["TRANSP"] == "TRANSPARENT"
    # No due date of its own: the cycle's last day, ending on 1 January.
    undated = vevents_by_uid(component)[uid("kr-due", private_key_result)]
    assert undated.dtstart.value == date(2026, 12, 31)
    assert undated.dtend.value == date(2027, 1, 1)
    assert not isinstance(undated.dtstart.value, datetime)


def test_moving_a_meeting_raises_its_sequence_and_keeps_its_uid(
    client, people, organisation, cadence
):
    review = cadence[CadenceKind.MID_REVIEW]
    token = make_feed(people["member"])
    before = events_by_uid(parse_both(read_feed(client, token))[0])

    review.notes = "Bring the roll-rate figures."
    assert not services.update_cadence_event(
        review, organisation, day=date(2026, 11, 16), at=time(10, 0)
    )
    unchanged = events_by_uid(parse_both(read_feed(client, token))[0])
    assert services.update_cadence_event(
        review, organisation, day=date(2026, 11, 17), at=time(15, 30)
    )
    moved_calendar, moved_component = parse_both(read_feed(client, token))

    key = uid("cadence", review)
    assert before[key]["SEQUENCE"] == 0
    assert unchanged[key]["SEQUENCE"] == 0
    moved = events_by_uid(moved_calendar)[key]
    assert moved["SEQUENCE"] == 1
    assert moved.start == datetime(2026, 11, 17, 15, 30, tzinfo=LONDON)
    assert vevents_by_uid(moved_component)[key].sequence.value == "1"


def test_a_new_title_or_length_or_place_also_raises_the_sequence(organisation, cadence):
    review = cadence[CadenceKind.MID_REVIEW]
    for change in ({"duration_minutes": 90}, {"location": "Room 4"}, {"title": "QBR"}):
        for name, value in change.items():
            setattr(review, name, value)
        services.update_cadence_event(
            review, organisation, day=date(2026, 11, 16), at=time(10, 0)
        )

    review.refresh_from_db()
    assert review.sequence == 3


def test_a_cancelled_meeting_stays_marked_cancelled_for_30_days(
    client, people, cadence, frozen_clock
):
    review = cadence[CadenceKind.MID_REVIEW]
    token = make_feed(people["member"])
    assert services.cancel_cadence_event(review, people["manager"])

    calendar, component = parse_both(read_feed(client, token))
    event = events_by_uid(calendar)[uid("cadence", review)]
    assert (event["STATUS"], event["SEQUENCE"]) == ("CANCELLED", 1)
    assert vevents_by_uid(component)[uid("cadence", review)].status.value == (
        "CANCELLED"
    )

    frozen_clock.move_to(NOW + timedelta(days=29, hours=23))
    assert uid("cadence", review) in events_by_uid(
        parse_both(read_feed(client, token))[0]
    )
    frozen_clock.move_to(NOW + timedelta(days=30, hours=1))
    assert uid("cadence", review) not in events_by_uid(
        parse_both(read_feed(client, token))[0]
    )


def test_a_restored_meeting_is_confirmed_again_with_a_higher_sequence(
    client, people, cadence
):
    review = cadence[CadenceKind.MID_REVIEW]
    services.cancel_cadence_event(review)
    assert not services.cancel_cadence_event(review)
    assert services.restore_cadence_event(review)

    calendar, _ = parse_both(read_feed(client, make_feed(people["member"])))
    event = events_by_uid(calendar)[uid("cadence", review)]
    assert (event["STATUS"], event["SEQUENCE"]) == ("CONFIRMED", 2)


def test_an_outsiders_cycle_feed_has_no_team_only_key_result(
    client, people, quarter, public_key_result, private_key_result
):
    outsider = read_feed(
        client, make_feed(people["outsider"], FeedScope.CYCLE, cycle=quarter)
    )
    member = read_feed(
        client, make_feed(people["member"], FeedScope.CYCLE, cycle=quarter)
    )

    outsider_uids = set(events_by_uid(parse_both(outsider)[0]))
    assert uid("kr-due", public_key_result) in outsider_uids
    assert uid("kr-due", private_key_result) not in outsider_uids
    assert set(vevents_by_uid(parse_both(outsider)[1])) == outsider_uids
    assert private_key_result.title.encode() not in outsider
    assert private_key_result.objective.title.encode() not in outsider
    # Someone in the team sees it in the same cycle's feed.
    assert uid("kr-due", private_key_result) in events_by_uid(parse_both(member)[0])


def test_a_person_feed_holds_their_meetings_and_their_own_work(
    client, people, teams, quarter, cadence, public_key_result
):
    review = cadence[CadenceKind.MID_REVIEW]
    review.attendees = teams["credit_risk"]
    review.save()
    manager_key_result = make_key_result(
        public_key_result.objective, people["manager"], title="Manager's key result"
    )
    archived = make_key_result(
        public_key_result.objective, people["member"], archived=True
    )
    assigned = Initiative.objects.create(
        objective=public_key_result.objective,
        title="Call the top 50 overdue accounts",
        assignee=people["member"],
        due_date=date(2026, 11, 30),
    )
    Initiative.objects.create(
        objective=public_key_result.objective,
        title="Someone else's work",
        assignee=people["manager"],
        due_date=date(2026, 11, 30),
    )

    member = set(
        events_by_uid(parse_both(read_feed(client, make_feed(people["member"])))[0])
    )
    outsider = set(
        events_by_uid(parse_both(read_feed(client, make_feed(people["outsider"])))[0])
    )

    everyone = {
        uid("cadence", cadence[k])
        for k in (CadenceKind.PLANNING, CadenceKind.END_EVALUATION)
    }
    assert member == everyone | {
        uid("cadence", review),
        uid("kr-due", public_key_result),
        uid("initiative-due", assigned),
    }
    assert uid("kr-due", manager_key_result) not in member
    assert uid("kr-due", archived) not in member
    # The outsider is not in Credit Risk, whose review it is.
    assert outsider == everyone


def test_a_team_feed_holds_the_teams_meetings_and_deadlines(
    client, people, teams, quarter, cadence, public_key_result, private_key_result
):
    review = cadence[CadenceKind.MID_REVIEW]
    review.attendees = teams["sales"]
    review.save()
    sales_objective = make_objective(quarter, teams["sales"], people["outsider"])
    sales_key_result = make_key_result(sales_objective, people["outsider"])
    initiative = Initiative.objects.create(
        objective=private_key_result.objective,
        key_result=private_key_result,
        title="Review the watch list",
        assignee=people["manager"],
        due_date=date(2026, 12, 1),
    )

    token = make_feed(people["viewer"], FeedScope.TEAM, team=teams["credit_risk"])
    calendar, _ = parse_both(read_feed(client, token))

    assert set(events_by_uid(calendar)) == {
        uid("cadence", cadence[CadenceKind.PLANNING]),
        uid("cadence", cadence[CadenceKind.END_EVALUATION]),
        uid("kr-due", public_key_result),
        uid("kr-due", private_key_result),
        uid("initiative-due", initiative),
    }
    assert calendar["X-WR-CALNAME"] == "Credit Risk (CreditOKR)"
    assert uid("kr-due", sales_key_result) not in events_by_uid(calendar)


def test_a_closed_cycle_leaves_person_feeds_but_not_its_own_feed(
    client, people, quarter, public_key_result
):
    person = make_feed(people["member"])
    cycle = make_feed(people["member"], FeedScope.CYCLE, cycle=quarter)
    quarter.state = CycleState.CLOSED
    quarter.save()

    assert events_by_uid(parse_both(read_feed(client, person))[0]) == {}
    assert uid("kr-due", public_key_result) in events_by_uid(
        parse_both(read_feed(client, cycle))[0]
    )


def test_texts_are_escaped_and_long_lines_folded(client, people, cadence):
    review = cadence[CadenceKind.MID_REVIEW]
    review.title = "Review; risk, limits\\exceptions"
    review.location = "Room 4, 2nd floor"
    review.notes = "Agenda:\n" + "roll rates " * 20
    review.save()

    data = read_feed(client, make_feed(people["member"]))
    calendar, component = parse_both(data)

    assert "SUMMARY:Review\\; risk\\, limits\\\\exceptions" in data.decode()
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    vevent = vevents_by_uid(component)[uid("cadence", review)]
    assert vevent.summary.value == "Review; risk, limits\\exceptions"
    assert vevent.location.value == "Room 4, 2nd floor"
    description = str(events_by_uid(calendar)[uid("cadence", review)]["DESCRIPTION"])
    assert "roll rates " * 20 in description
    assert description.endswith(f"https://{HOST}/cycles/{review.cycle_id}/")


def test_the_feed_answers_as_a_private_calendar_file(client, people, cadence):
    token = make_feed(people["member"])

    response = client.get(f"/calendar/{token}.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private"


def test_a_person_feed_lists_a_new_team_members_meetings_at_once(
    client, people, teams, cadence
):
    review = cadence[CadenceKind.MID_REVIEW]
    review.attendees = teams["collections"]
    review.save()
    newcomer = make_user("newcomer", teams["sales"], Role.MEMBER)
    token = make_feed(newcomer)
    assert uid("cadence", review) not in events_by_uid(
        parse_both(read_feed(client, token))[0]
    )

    newcomer.memberships.create(team=Team.objects.get(slug="collections"))

    assert uid("cadence", review) in events_by_uid(
        parse_both(read_feed(client, token))[0]
    )


def test_key_result_sequence_follows_its_version(client, people, public_key_result):
    public_key_result.target_value = Decimal("6.5")
    public_key_result.version += 1
    public_key_result.save()

    calendar, _ = parse_both(read_feed(client, make_feed(people["member"])))

    assert events_by_uid(calendar)[uid("kr-due", public_key_result)]["SEQUENCE"] == 2


@pytest.mark.parametrize("scope", list(FeedScope))
def test_a_feed_costs_the_same_queries_for_one_item_or_many(
    client, people, teams, quarter, public_key_result, scope, django_assert_num_queries
):
    target = {
        FeedScope.PERSON: {},
        FeedScope.TEAM: {"team": teams["credit_risk"]},
        FeedScope.CYCLE: {"cycle": quarter},
    }[scope]
    token = make_feed(people["member"], scope, **target)
    read_feed(client, token)
    with CaptureQueriesContext(connection) as few:
        read_feed(client, token)
    for number in range(10):
        make_key_result(
            public_key_result.objective, people["member"], title=f"KR {number}"
        )
        Initiative.objects.create(
            objective=public_key_result.objective,
            title=f"Initiative {number}",
            assignee=people["member"],
            due_date=date(2026, 12, 1),
        )

    with django_assert_num_queries(len(few)):
        data = read_feed(client, token)
    assert b"KR 9" in data
