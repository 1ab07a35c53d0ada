"""The scheduling pass: who is reminded of what, when, and how often.

The default rule is weekly on Monday at 09:00 in each person's zone,
skipping key results checked in on within 3 days; deadlines are announced
3 days ahead at 09:00 and once on the day after.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from creditokr.accounts.models import Organisation, Role
from creditokr.cycles.models import CycleState
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs.access import actor_of, visible_key_results
from creditokr.okrs.models import CheckIn, Initiative, InitiativeState
from creditokr.reminders.compose import Person
from creditokr.reminders.models import (
    Kind,
    OverdueNotice,
    Preference,
    ReminderRule,
    Scope,
    Status,
)
from creditokr.reminders.world import load_people
from tests.conftest import make_key_result, make_objective, make_user
from tests.reminders.conftest import MONDAY_9AM, at, deliveries, plan_at


@pytest.fixture
def two_key_results(public_objective, people):
    first = make_key_result(public_objective, people["member"], title="Cure rate")
    second = make_key_result(public_objective, people["member"], title="Roll rate")
    return first, second


def check_in(key_result, author, when: datetime, **fields):
    with at(when):
        return CheckIn.objects.create(
            key_result=key_result,
            author=author,
            as_of=when.date(),
            value=fields.pop("value", Decimal("7.5")),
            **fields,
        )


def test_one_message_lists_every_key_result_due_for_the_person(two_key_results, people):
    plan_at(MONDAY_9AM)

    sent = deliveries(kind=Kind.CHECK_IN)
    assert [(d.recipient, d.occurrence) for d in sent] == [
        (people["member"], "check-in:2026-11-16T09:00")
    ]
    assert "Cure rate" in sent[0].text
    assert "Roll rate" in sent[0].text
    assert sent[0].subject == "Time to check in on 2 key results"


def test_planning_again_adds_nothing(two_key_results):
    first = plan_at(MONDAY_9AM)
    again = plan_at(MONDAY_9AM + timedelta(minutes=1))

    assert first == 1
    assert again == 0
    assert len(deliveries()) == 1


def test_nothing_is_sent_before_the_reminder_time(two_key_results):
    plan_at(datetime(2026, 11, 16, 8, 59, tzinfo=UTC))

    assert deliveries() == []


def test_a_recent_check_in_by_the_person_skips_that_key_result(two_key_results, people):
    cure, roll = two_key_results
    # Within 3 days of Monday 09:00: Friday 13 Nov 10:00 counts.
    check_in(cure, people["member"], datetime(2026, 11, 13, 10, tzinfo=UTC))
    # Four days before does not.
    check_in(roll, people["member"], datetime(2026, 11, 12, 9, tzinfo=UTC))

    plan_at(MONDAY_9AM)

    (sent,) = deliveries(kind=Kind.CHECK_IN)
    assert "Roll rate" in sent.text
    assert "Cure rate" not in sent.text


def test_a_check_in_by_someone_else_does_not_skip_it(two_key_results, people):
    cure, _ = two_key_results
    check_in(cure, people["manager"], datetime(2026, 11, 15, 10, tzinfo=UTC))

    plan_at(MONDAY_9AM)

    (sent,) = deliveries(kind=Kind.CHECK_IN)
    assert "Cure rate" in sent.text


def test_the_skip_window_follows_the_rule(two_key_results, people):
    cure, roll = two_key_results
    ReminderRule.objects.create(
        scope=Scope.KEY_RESULT, key_result=cure, skip_if_checked_in_days=7
    )
    check_in(cure, people["member"], datetime(2026, 11, 11, 10, tzinfo=UTC))
    check_in(roll, people["member"], datetime(2026, 11, 11, 10, tzinfo=UTC))

    plan_at(MONDAY_9AM)

    (sent,) = deliveries(kind=Kind.CHECK_IN)
    assert "Roll rate" in sent.text  # 5 days ago: beyond the default 3
    assert "Cure rate" not in sent.text  # within its own 7


def test_a_closed_cycle_stops_its_reminders(two_key_results, quarter):
    quarter.state = CycleState.CLOSED
    quarter.save()

    plan_at(MONDAY_9AM)

    assert deliveries() == []


def test_archived_key_results_and_objectives_are_not_reminded(
    two_key_results, public_objective
):
    cure, _ = two_key_results
    cure.archived = True
    cure.save()

    plan_at(MONDAY_9AM)
    (sent,) = deliveries()
    assert "Cure rate" not in sent.text

    public_objective.archived = True
    public_objective.save()
    plan_at(MONDAY_9AM + timedelta(days=7))
    assert len(deliveries()) == 1


def test_a_complete_key_result_is_not_reminded(public_objective, people):
    milestone = make_key_result(
        public_objective, people["member"], title="Scorecard live", kind="milestone"
    )
    met = make_key_result(
        public_objective,
        people["member"],
        title="Approval days",
        start_value=Decimal(5),
        target_value=Decimal(2),
    )
    open_one = make_key_result(public_objective, people["member"], title="Cure rate")
    # More than 3 days ago, so only completeness can keep them quiet.
    long_ago = datetime(2026, 11, 2, 10, tzinfo=UTC)
    check_in(milestone, people["member"], long_ago, value=None, done=True)
    check_in(met, people["member"], long_ago, value=Decimal(2))
    check_in(open_one, people["member"], long_ago, value=Decimal("7.9"))

    plan_at(MONDAY_9AM)

    (sent,) = deliveries(kind=Kind.CHECK_IN)
    assert "Cure rate" in sent.text
    assert "Scorecard live" not in sent.text
    assert "Approval days" not in sent.text


def test_no_reminder_before_the_cycle_starts(organisation, calendar, teams, people):
    # FY2027 Q4 starts on Friday 1 January 2027; Monday 28 December 2026
    # is in its first week but before its first day.
    q4 = ensure_cycle(organisation, calendar.quarter_period(2027, 4), date(2026, 12, 1))
    objective = make_objective(q4, teams["credit_risk"], people["member"])
    make_key_result(objective, people["member"], title="Next quarter")

    plan_at(datetime(2026, 12, 28, 9, 0, 30, tzinfo=UTC))
    assert deliveries() == []

    plan_at(datetime(2027, 1, 4, 9, 0, 30, tzinfo=UTC))
    (sent,) = deliveries()
    assert "Next quarter" in sent.text


def test_team_rules_override_the_organisation_and_key_results_the_team(
    public_objective, teams, people
):
    weekly = make_key_result(public_objective, people["member"], title="Weekly one")
    own = make_key_result(public_objective, people["member"], title="Own rule")
    ReminderRule.objects.create(
        scope=Scope.TEAM, team=teams["credit_risk"], weekday=1, time_of_day="14:00"
    )
    ReminderRule.objects.create(scope=Scope.KEY_RESULT, key_result=own, weekday=0)

    plan_at(MONDAY_9AM)
    plan_at(datetime(2026, 11, 17, 14, 0, 30, tzinfo=UTC))

    monday, tuesday = deliveries()
    assert monday.occurrence == "check-in:2026-11-16T09:00"
    assert "Own rule" in monday.text
    assert weekly.title not in monday.text
    assert tuesday.occurrence == "check-in:2026-11-17T14:00"
    assert "Weekly one" in tuesday.text
    assert "Own rule" not in tuesday.text


def test_a_rule_turned_off_sends_nothing(two_key_results):
    rule = ReminderRule.objects.get_or_create(scope=Scope.ORGANISATION)[0]
    rule.enabled = False
    rule.save()

    plan_at(MONDAY_9AM)

    assert deliveries() == []


@pytest.mark.parametrize(
    ("zone", "moment"),
    [
        # UTC+14: Monday 09:00 is Sunday 19:00 UTC.
        ("Pacific/Kiritimati", datetime(2026, 11, 15, 19, 0, 30, tzinfo=UTC)),
        # UTC-11: Monday 09:00 is Monday 20:00 UTC.
        ("Pacific/Pago_Pago", datetime(2026, 11, 16, 20, 0, 30, tzinfo=UTC)),
    ],
)
def test_far_time_zones_are_reminded_at_their_own_nine(
    public_objective, people, zone, moment
):
    far = make_user("far", public_objective.team, Role.MEMBER)
    far.time_zone = zone
    far.save()
    make_key_result(public_objective, far, title="Far away")

    plan_at(moment - timedelta(minutes=1))
    assert deliveries() == []

    plan_at(moment)
    (sent,) = deliveries()
    assert sent.recipient == far
    assert sent.occurrence == "check-in:2026-11-16T09:00"
    assert sent.next_attempt_at == moment - timedelta(seconds=30)


def test_a_worker_down_two_days_sends_no_stale_reminders_but_overdue_ones(
    public_objective, people
):
    make_key_result(
        public_objective,
        people["member"],
        title="Due Monday",
        due_date=date(2026, 11, 16),
    )

    # Back on Wednesday 18th at 09:00: Monday's 09:00 reminder is 48 hours
    # late, beyond the 6-hour cut-off; the overdue notice (due Monday,
    # overdue from Tuesday 09:00) still goes, once.
    plan_at(datetime(2026, 11, 18, 9, 0, 30, tzinfo=UTC))
    plan_at(datetime(2026, 11, 18, 9, 5, tzinfo=UTC))
    plan_at(datetime(2026, 11, 19, 9, 5, tzinfo=UTC))

    (sent,) = deliveries()
    assert sent.kind == Kind.OVERDUE
    assert sent.subject == "Overdue: Due Monday"
    assert OverdueNotice.objects.count() == 1


def test_owner_and_assignee_of_the_same_deadline_get_one_message(
    public_objective, people
):
    due = date(2026, 11, 19)  # three days after Monday 16th
    key_result = make_key_result(
        public_objective, people["member"], title="Cure rate", due_date=due
    )
    Initiative.objects.create(
        objective=public_objective,
        key_result=key_result,
        title="Call the 30+ accounts",
        assignee=people["member"],
        due_date=due,
    )
    Initiative.objects.create(
        objective=public_objective,
        key_result=key_result,
        title="Finished work",
        assignee=people["manager"],
        due_date=due,
        state=InitiativeState.DONE,
    )

    plan_at(MONDAY_9AM)

    (sent,) = deliveries(kind=Kind.DEADLINE)
    assert sent.recipient == people["member"]
    assert sent.subject == "2 items due in 3 days"
    assert "Cure rate" in sent.text
    assert "Call the 30+ accounts" in sent.text
    assert "Finished work" not in sent.text


def test_an_initiative_deadline_reaches_its_assignee_and_key_result_owner(
    public_objective, people, teams
):
    colleague = make_user("colleague", teams["credit_risk"], Role.MEMBER)
    key_result = make_key_result(public_objective, people["member"])
    Initiative.objects.create(
        objective=public_objective,
        key_result=key_result,
        title="Call the 30+ accounts",
        assignee=colleague,
        due_date=date(2026, 11, 19),
    )

    plan_at(MONDAY_9AM)

    sent = deliveries(kind=Kind.DEADLINE)
    assert {d.recipient.username for d in sent} == {"member", "colleague"}


def test_review_meetings_are_announced_the_day_before_to_the_team(
    quarter, people, teams
):
    # The mid-quarter review of Q3 is on Monday 16 November at 10:00.
    review = quarter.cadence_events.get(kind="mid_review")
    review.attendees = teams["credit_risk"]
    review.save()

    plan_at(datetime(2026, 11, 15, 9, 0, 30, tzinfo=UTC))

    sent = deliveries(kind=Kind.REVIEW)
    assert {d.recipient.username for d in sent} == {
        "admin",
        "manager",
        "member",
        "viewer",
    }
    assert sent[0].subject == f"Tomorrow: {review.title}, Mon 16 Nov 10:00"


def test_a_cancelled_review_is_not_announced(quarter, teams, people):
    review = quarter.cadence_events.get(kind="mid_review")
    review.attendees = teams["credit_risk"]
    review.cancelled_at = datetime(2026, 11, 1, tzinfo=UTC)
    review.save()

    plan_at(datetime(2026, 11, 15, 9, 0, 30, tzinfo=UTC))

    assert deliveries(kind=Kind.REVIEW) == []


def test_someone_unsubscribed_is_not_planned_for(two_key_results, people):
    Preference.objects.create(user=people["member"], kind=Kind.CHECK_IN, enabled=False)

    plan_at(MONDAY_9AM)

    assert deliveries() == []


def test_chat_is_planned_when_chosen_and_configured(two_key_results, people, settings):
    settings.CHAT_URLS = ["json://127.0.0.1:9/hook"]
    Preference.objects.create(
        user=people["member"], kind=Kind.CHECK_IN, email=True, chat=True
    )

    plan_at(MONDAY_9AM)

    sent = deliveries()
    assert [(d.channel, d.status) for d in sent] == [
        ("email", Status.PENDING),
        ("chat", Status.PENDING),
    ]
    assert sent[1].html == ""


def test_nobody_is_reminded_of_what_they_cannot_see(private_key_result, people):
    # The owner of a team-only key result who left the team no longer sees it.
    people["member"].memberships.all().delete()
    make_user("stranger")

    plan_at(MONDAY_9AM)

    assert deliveries() == []


def test_the_bulk_visibility_rule_matches_the_access_module(
    people, public_key_result, private_key_result
):
    loaded = load_people(Organisation.get())
    for name, user in people.items():
        visible = set(visible_key_results(actor_of(user)).values_list("pk", flat=True))
        person: Person = loaded[user.pk]
        bulk = {
            kr.pk
            for kr in (public_key_result, private_key_result)
            if person.can_see(kr.objective.visibility, kr.objective.team_id)
        }
        assert bulk == visible, name


def test_a_pass_makes_the_same_number_of_queries_for_more_people(
    public_objective, people, teams
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from creditokr.reminders.models import Delivery

    plan_at(MONDAY_9AM - timedelta(days=1))  # creates the default settings

    def reminded(count: int, start: int) -> int:
        Delivery.objects.all().delete()
        for n in range(start, start + count):
            person = make_user(f"person{n}", teams["credit_risk"], Role.MEMBER)
            make_key_result(public_objective, person, title=f"KR {n}")
            make_key_result(
                public_objective, person, title=f"Due {n}", due_date=date(2026, 11, 19)
            )
        with CaptureQueriesContext(connection) as queries:
            assert plan_at(MONDAY_9AM) > count
        return len(queries)

    assert reminded(2, 0) == reminded(20, 2)
