"""The weekly digest: Monday 08:00 local for senior management viewers and
subscribers, about the current cycle as each reader may see it."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from creditokr.accounts.models import Membership, Role, Team
from creditokr.okrs.models import Visibility
from creditokr.okrs.services import record_check_in
from creditokr.reminders.models import Kind, Preference
from tests.conftest import make_key_result, make_objective, make_user
from tests.reminders.conftest import at, deliveries, plan_at

MONDAY_8AM = datetime(2026, 11, 16, 8, 0, 30, tzinfo=UTC)


@pytest.fixture
def senior(people):
    team = Team.objects.create(name="Senior Management", slug="senior-management")
    user = make_user("director", team, Role.VIEWER)
    return user


@pytest.fixture
def okrs(quarter, teams, people):
    """A public objective with delinquency and recovery key results, one
    checked in on last week and behind pace, and a team-only objective."""
    public = make_objective(quarter, teams["credit_risk"], people["member"])
    delinquency = make_key_result(public, people["member"])
    make_key_result(
        public,
        people["member"],
        title="Net recoveries",
        template_key="recovery-rate",
        kind="increase",
        start_value=Decimal(20),
        target_value=Decimal(22),
    )
    make_key_result(public, people["member"], title="Approval days")
    private = make_objective(
        quarter,
        teams["credit_risk"],
        people["member"],
        title="Watch-list secrets",
        visibility=Visibility.TEAM,
    )
    make_key_result(private, people["member"], title="Hidden delinquency")
    with at(datetime(2026, 11, 12, 12, tzinfo=UTC)):
        # Start 8.0, target 6.8; 8.0 on 12 Nov is no progress at 45% of the
        # quarter's time gone: 45 points behind, past the 25 for off track.
        record_check_in(
            people["member"], delinquency, as_of=date(2026, 11, 12), value=Decimal(8)
        )
    return public, private


def test_senior_management_viewers_get_the_digest(senior, okrs):
    plan_at(MONDAY_8AM)

    (sent,) = deliveries(kind=Kind.DIGEST)
    assert sent.recipient == senior
    assert sent.subject == "Weekly OKR digest: FY2027 Q3, week of 16 Nov 2026"
    objectives, worrying, credit, changes = sent.text.split("\n\n")[2:6]
    assert "Reduce 30+ delinquency (Credit Risk): Off track" in objectives
    assert "30+ delinquency rate: Off track (now 8%)" in worrying
    assert "Net recoveries: Not started" in credit
    assert "30+ delinquency rate: 8%" in credit
    assert "Approval days" not in credit
    assert "30+ delinquency rate: 8% as of 12 Nov 2026 by Member" in changes


def test_the_digest_leaves_out_what_the_reader_may_not_see(senior, okrs):
    plan_at(MONDAY_8AM)

    (sent,) = deliveries(kind=Kind.DIGEST)
    assert "Watch-list secrets" not in sent.text
    assert "Hidden delinquency" not in sent.text
    assert "Watch-list secrets" not in sent.html


def test_a_team_member_who_subscribes_sees_the_team_only_objective(
    senior, okrs, people
):
    Preference.objects.create(user=people["viewer"], kind=Kind.DIGEST, enabled=True)

    plan_at(MONDAY_8AM)

    sent = {d.recipient.username: d for d in deliveries(kind=Kind.DIGEST)}
    assert set(sent) == {"director", "viewer"}
    assert "Watch-list secrets" in sent["viewer"].text


def test_others_get_no_digest_unless_they_subscribe(okrs, people):
    plan_at(MONDAY_8AM)

    assert deliveries(kind=Kind.DIGEST) == []


def test_a_senior_viewer_may_opt_out(senior, okrs):
    Preference.objects.create(user=senior, kind=Kind.DIGEST, enabled=False)

    plan_at(MONDAY_8AM)

    assert deliveries(kind=Kind.DIGEST) == []


def test_senior_managers_with_other_roles_are_not_subscribed(senior, okrs):
    Membership.objects.filter(user=senior).update(role=Role.MEMBER)

    plan_at(MONDAY_8AM)

    assert deliveries(kind=Kind.DIGEST) == []


def test_the_digest_covers_the_cycle_that_holds_the_objectives(
    senior, fiscal_year, quarter, teams, people
):
    # The running quarter is empty; the team plans in the fiscal year, so
    # the digest, like the dashboard, opens on the year.
    yearly = make_objective(
        fiscal_year, teams["credit_risk"], people["member"], title="Yearly goal"
    )
    make_key_result(yearly, people["member"])

    plan_at(MONDAY_8AM)

    (sent,) = deliveries(kind=Kind.DIGEST)
    assert sent.subject == "Weekly OKR digest: FY2027, week of 16 Nov 2026"
    assert "Yearly goal (Credit Risk)" in sent.text
