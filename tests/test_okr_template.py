"""Tests for OKR templates: the shipped credit-management file, the parser's
error messages, the loader and the `load-template` command.

The organisation's fiscal year starts in April, so FY2027 runs from
1 Apr 2026 to 31 Mar 2027 and its quarters end on 30 Jun, 30 Sep, 31 Dec
and 31 Mar.
"""

import re
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from creditokr.accounts.models import Team
from creditokr.cycles.models import CycleState
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs import services
from creditokr.okrs.models import KeyResult, Objective
from creditokr.okrs.okr_template import load_template
from creditokr.okrs.progress import Kind, Status, TargetMode
from creditokr.okrs.template_format import (
    TemplateError,
    available_templates,
    parse_template,
    template_path,
)
from tests.conftest import TODAY

FIXTURES = Path(__file__).parent / "fixtures" / "templates"

OBJECTIVE_TITLES = [
    "Reduce Credit Delinquency Rate by 15% by Q4",
    "Improve Credit Approval Process Efficiency",
    "Enhance Debt Recovery Rate by 10%",
]
KEY_RESULT_TITLES = [
    [
        "Implement enhanced credit scoring models for all new applicants by end of Q2.",
        "Increase frequency of customer payment reminders from monthly to bi-weekly.",
        "Conduct training sessions for collections team on negotiation "
        "techniques by Q3.",
    ],
    [
        "Decrease average credit approval time from 5 days to 2 days by "
        "automating credit checks.",
        "Integrate credit bureau data into approval workflow by Q3.",
        "Achieve 95% compliance with updated credit policy guidelines.",
    ],
    [
        "Launch a customer self-service portal for payment arrangements by Q2.",
        "Establish partnerships with third-party collection agencies for "
        "accounts over 90 days past due.",
        "Monitor and report weekly recovery metrics to senior management.",
    ],
]


@pytest.fixture
def shipped():
    return parse_template(template_path("credit-management"))


def counts() -> tuple[int, int, int]:
    return Objective.objects.count(), KeyResult.objects.count(), Team.objects.count()


def by_key(cycle) -> dict[str, KeyResult]:
    key_results = KeyResult.objects.filter(objective__cycle=cycle)
    return {kr.template_key: kr for kr in key_results}


# The shipped template


def test_the_shipped_template_uses_the_template_words(shipped):
    assert shipped.key == "credit-management"
    assert shipped.version == 1
    assert "credit-management OKR template" in shipped.source
    assert "product brief" in shipped.source
    assert [o.title for o in shipped.objectives] == OBJECTIVE_TITLES
    assert [[kr.title for kr in o.key_results] for o in shipped.objectives] == (
        KEY_RESULT_TITLES
    )


def test_the_shipped_template_carries_the_progress_labels_and_teams(shipped):
    statuses = [o.starting_status for o in shipped.objectives]
    assert statuses == [Status.ON_TRACK, Status.IN_PROGRESS, Status.AT_RISK]
    assert [o.team for o in shipped.objectives] == [
        "Credit Risk",
        "Credit Risk",
        "Collections",
    ]


def test_the_shipped_key_results_are_quantified_from_their_words(shipped):
    kr = {kr.key: kr for kr in shipped.key_results}
    assert len(kr) == 11

    reminders = kr["fortnightly-payment-reminders"]
    assert (reminders.kind, reminders.unit) == (Kind.DECREASE, "days")
    assert (reminders.start_value, reminders.target_value) == (Decimal(30), Decimal(14))
    assert reminders.due_quarter is None
    approval = kr["faster-credit-approval"]
    assert (approval.kind, approval.unit) == (Kind.DECREASE, "days")
    assert (approval.start_value, approval.target_value) == (Decimal(5), Decimal(2))
    compliance = kr["credit-policy-compliance"]
    assert (compliance.kind, compliance.unit) == (Kind.STAY_ABOVE, "percent")
    assert compliance.target_value == 95


def test_the_shipped_milestones_have_their_stated_quarters(shipped):
    milestones = {
        kr.key: kr.due_quarter
        for kr in shipped.key_results
        if kr.kind == Kind.MILESTONE
    }
    assert milestones == {
        "enhanced-scoring-models": 2,
        "collections-negotiation-training": 3,
        "credit-bureau-integration": 3,
        "self-service-payment-portal": 2,
        "collection-agency-partnerships": None,
        "weekly-recovery-reporting": None,
    }


def test_objectives_with_a_number_get_a_relative_headline(shipped):
    first, second, third = shipped.objectives
    assert second.headline is None

    delinquency = first.headline
    assert delinquency.title == "Credit delinquency rate (30+ days past due)"
    assert (delinquency.kind, delinquency.unit) == (Kind.DECREASE, "percent")
    assert delinquency.target_mode == TargetMode.RELATIVE_PERCENT
    assert delinquency.target_change == Decimal(-15)
    assert delinquency.due_quarter == 4
    assert delinquency.start_value is None

    recovery = third.headline
    assert recovery.title == "Debt recovery rate"
    assert (recovery.kind, recovery.unit) == (Kind.INCREASE, "percent")
    assert recovery.target_mode == TargetMode.RELATIVE_PERCENT
    assert recovery.target_change == Decimal(10)
    assert recovery.due_quarter is None


def test_the_library_lists_the_shipped_template():
    assert ("credit-management", "Credit management") in available_templates()
    for key, _ in available_templates():
        assert parse_template(template_path(key)).key == key


def test_an_unknown_template_name_lists_the_available_ones():
    with pytest.raises(
        TemplateError, match=r"no template called 'credit'.*credit-management"
    ):
        template_path("credit")


# Loading


def test_loading_into_the_fiscal_year_creates_everything(fiscal_year, people, teams):
    result = load_template("credit-management", fiscal_year, people["manager"])

    assert len(result.created_objectives) == 3
    assert len(result.created_key_results) == 11
    assert result.skipped == []
    objectives = list(Objective.objects.filter(cycle=fiscal_year).order_by("pk"))
    assert [o.title for o in objectives] == OBJECTIVE_TITLES
    assert [o.template_key for o in objectives] == [
        "credit-management/reduce-delinquency",
        "credit-management/approval-efficiency",
        "credit-management/debt-recovery",
    ]
    assert [o.starting_status for o in objectives] == [
        "on_track",
        "in_progress",
        "at_risk",
    ]
    assert [o.team for o in objectives] == [teams["credit_risk"]] * 2 + [
        teams["collections"]
    ]
    assert {o.owner for o in objectives} == {people["manager"]}
    assert {kr.owner for kr in KeyResult.objects.all()} == {people["manager"]}
    headlines = KeyResult.objects.filter(is_headline=True).order_by("pk")
    assert [kr.template_key for kr in headlines] == [
        "delinquency-rate",
        "recovery-rate",
    ]


def test_due_quarters_become_quarter_ends_of_the_fiscal_year(fiscal_year, people):
    load_template("credit-management", fiscal_year, people["manager"])

    due = {key: kr.due_date for key, kr in by_key(fiscal_year).items()}
    assert due["enhanced-scoring-models"] == date(2026, 9, 30)
    assert due["self-service-payment-portal"] == date(2026, 9, 30)
    assert due["collections-negotiation-training"] == date(2026, 12, 31)
    assert due["credit-bureau-integration"] == date(2026, 12, 31)
    assert due["delinquency-rate"] == date(2027, 3, 31)
    for key in (
        "fortnightly-payment-reminders",
        "faster-credit-approval",
        "credit-policy-compliance",
        "recovery-rate",
        "collection-agency-partnerships",
        "weekly-recovery-reporting",
    ):
        assert due[key] is None, key


def test_the_stated_numbers_are_stored(fiscal_year, people):
    load_template("credit-management", fiscal_year, people["manager"])

    kr = by_key(fiscal_year)
    assert (
        kr["fortnightly-payment-reminders"].start_value,
        kr["fortnightly-payment-reminders"].target_value,
    ) == (Decimal(30), Decimal(14))
    assert kr["fortnightly-payment-reminders"].unit == "days"
    assert (
        kr["faster-credit-approval"].start_value,
        kr["faster-credit-approval"].target_value,
    ) == (Decimal(5), Decimal(2))
    assert kr["credit-policy-compliance"].kind == "stay_above"
    assert kr["credit-policy-compliance"].target_value == 95
    assert kr["enhanced-scoring-models"].kind == "milestone"
    assert kr["enhanced-scoring-models"].target_value is None


def test_baselines_give_relative_targets_not_points(fiscal_year, people):
    baselines = {"delinquency-rate": Decimal(8), "recovery-rate": Decimal(22)}
    load_template(
        "credit-management", fiscal_year, people["manager"], baselines=baselines
    )

    kr = by_key(fiscal_year)
    assert kr["delinquency-rate"].start_value == Decimal(8)
    assert kr["delinquency-rate"].target_value == Decimal("6.8")
    assert kr["delinquency-rate"].target_change == Decimal(-15)
    assert kr["recovery-rate"].start_value == Decimal(22)
    assert kr["recovery-rate"].target_value == Decimal("24.2")


def test_without_a_baseline_the_headline_waits_for_its_owner(
    fiscal_year, people, monkeypatch
):
    applied = []
    real = services.apply_target_definition

    def spy(key_result):
        applied.append(key_result.template_key)
        real(key_result)

    monkeypatch.setattr(services, "apply_target_definition", spy)

    result = load_template(
        "credit-management",
        fiscal_year,
        people["manager"],
        baselines={"recovery-rate": Decimal(22)},
    )

    delinquency = by_key(fiscal_year)["delinquency-rate"]
    assert delinquency.start_value is None
    assert delinquency.target_value is None
    assert delinquency.target_mode == "relative_percent"
    assert delinquency.target_change == Decimal(-15)
    assert "delinquency-rate" not in applied
    assert "recovery-rate" in applied
    assert any(
        "no baseline yet" in m and "delinquency-rate" in m for m in result.messages
    )


def test_loading_twice_creates_nothing_the_second_time(fiscal_year, people):
    load_template("credit-management", fiscal_year, people["manager"])
    before = counts()

    again = load_template("credit-management", fiscal_year, people["manager"])

    assert counts() == before
    assert again.created_objectives == []
    assert again.created_key_results == []
    assert len(again.skipped) == 14
    assert "objective 'Reduce Credit Delinquency Rate by 15% by Q4'" in again.skipped


def test_loading_again_adds_only_what_is_missing(fiscal_year, people):
    load_template("credit-management", fiscal_year, people["manager"])
    KeyResult.objects.get(template_key="weekly-recovery-reporting").delete()

    again = load_template("credit-management", fiscal_year, people["manager"])

    assert [kr.template_key for kr in again.created_key_results] == [
        "weekly-recovery-reporting"
    ]
    assert KeyResult.objects.count() == 11


def test_a_given_team_takes_every_objective(fiscal_year, people, teams):
    load_template(
        "credit-management", fiscal_year, people["manager"], team=teams["sales"]
    )

    assert set(Objective.objects.values_list("team__name", flat=True)) == {"Sales"}


def test_a_missing_suggested_team_is_created(fiscal_year, people):
    Team.objects.filter(name="Collections").delete()

    result = load_template("credit-management", fiscal_year, people["manager"])

    created = Team.objects.get(name="Collections")
    assert created.slug == "collections"
    assert result.created_teams == [created]


def test_a_quarterly_cycle_moves_later_due_dates_to_its_end(
    organisation, calendar, people
):
    first_quarter = ensure_cycle(organisation, calendar.quarter_period(2027, 1), TODAY)

    result = load_template("credit-management", first_quarter, people["manager"])

    due = {key: kr.due_date for key, kr in by_key(first_quarter).items()}
    assert due["enhanced-scoring-models"] == date(2026, 6, 30)
    assert due["credit-bureau-integration"] == date(2026, 6, 30)
    assert due["delinquency-rate"] == date(2026, 6, 30)
    assert due["faster-credit-approval"] is None
    clamp_notes = [m for m in result.messages if "outside FY2027 Q1" in m]
    assert len(clamp_notes) == 5
    assert any(
        "by the end of Q2 (30 Sep 2026)" in m and "(30 Jun 2026) instead" in m
        for m in clamp_notes
    )


def test_a_quarter_keeps_its_own_due_dates(quarter, people):
    load_template("credit-management", quarter, people["manager"])

    assert by_key(quarter)["credit-bureau-integration"].due_date == date(2026, 12, 31)


def test_a_closed_cycle_is_refused(fiscal_year, people):
    fiscal_year.state = CycleState.CLOSED
    fiscal_year.save()

    with pytest.raises(TemplateError, match="FY2027 is closed"):
        load_template("credit-management", fiscal_year, people["manager"])
    assert Objective.objects.count() == 0


def test_a_baseline_for_an_unknown_key_is_refused(fiscal_year, people):
    with pytest.raises(
        TemplateError, match="no key result 'delinquency' takes a baseline"
    ):
        load_template(
            "credit-management",
            fiscal_year,
            people["manager"],
            baselines={"delinquency": Decimal(8)},
        )
    assert Objective.objects.count() == 0


def test_a_baseline_that_breaks_the_unit_writes_nothing(fiscal_year, people):
    before = counts()

    with pytest.raises(TemplateError) as caught:
        load_template(
            "credit-management",
            fiscal_year,
            people["manager"],
            baselines={"recovery-rate": Decimal(95)},
        )

    assert (
        "credit-management.yaml, line 89: key result 'recovery-rate' with baseline 95"
        in str(caught.value)
    )
    assert "between 0 and 100, not 104.5" in str(caught.value)
    assert counts() == before


# Malformed templates


@pytest.mark.parametrize(
    ("file_name", "line", "reason"),
    [
        (
            "bad-kind.yaml",
            11,
            "kind 'increse' is not one of increase, decrease, stay_above, "
            "stay_below, milestone",
        ),
        (
            "unknown-key.yaml",
            11,
            "unknown field 'kinds' in the key result; did you mean 'kind'?",
        ),
        (
            "non-numeric-target.yaml",
            14,
            "target_value must be a number, not the text 'six'",
        ),
        ("missing-title.yaml", 9, "the key result is missing 'title'"),
        (
            "duplicate-key.yaml",
            15,
            "key 'delinquency-rate' is already used on line 9",
        ),
        ("bad-due-quarter.yaml", 15, "due 'Q5' is not one of Q1, Q2, Q3, Q4"),
        (
            "yaml-syntax-error.yaml",
            10,
            "YAML syntax error: mapping values are not allowed here",
        ),
        (
            "milestone-with-target.yaml",
            13,
            "a milestone is done or not done; it takes no target_value",
        ),
        (
            "increase-below-start.yaml",
            14,
            "an increase needs a target above its start value (8), not 6",
        ),
        (
            "percent-over-100.yaml",
            14,
            "target_value: a percentage must be between 0 and 100, not 120",
        ),
        ("empty.yaml", 1, "the file is empty"),
        ("list-at-top.yaml", 1, "the template must be a set of 'name: value' fields"),
        ("no-objectives.yaml", 1, "the template is missing 'objectives'"),
    ],
)
def test_a_malformed_template_names_file_line_and_reason(
    file_name, line, reason, fiscal_year, people
):
    before = counts()

    with pytest.raises(TemplateError) as caught:
        load_template(FIXTURES / file_name, fiscal_year, people["manager"])

    assert f"{file_name}, line {line}: {reason}" in str(caught.value)
    assert counts() == before


def test_the_valid_fixture_loads(fiscal_year, people):
    result = load_template(FIXTURES / "valid.yaml", fiscal_year, people["manager"])

    assert [o.template_key for o in result.created_objectives] == [
        "broken/fewer-delinquent-accounts"
    ]


def test_a_missing_file_is_named(fiscal_year, people):
    with pytest.raises(TemplateError, match=r"nowhere\.yaml: there is no such file"):
        load_template(str(FIXTURES / "nowhere.yaml"), fiscal_year, people["manager"])


def test_every_problem_in_a_file_is_reported(tmp_path):
    path = tmp_path / "two-mistakes.yaml"
    path.write_text(
        (FIXTURES / "valid.yaml")
        .read_text()
        .replace("kind: decrease", "kind: lower")
        .replace("version: 1", "version: one")
    )

    with pytest.raises(TemplateError) as caught:
        parse_template(path)

    assert caught.value.problems == [
        "two-mistakes.yaml, line 3: version must be a number, not the text 'one'",
        "two-mistakes.yaml, line 11: kind 'lower' is not one of increase, decrease, "
        "stay_above, stay_below, milestone",
    ]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            ["kind: decrease", "unit: percent", "target_mode: relative_percent"],
            "the key result is missing 'target_change'",
        ),
        (
            [
                "kind: decrease",
                "unit: percent",
                "target_mode: relative_percent",
                "target_change: 15",
            ],
            "a decrease needs a target_change below 0",
        ),
        (
            [
                "kind: increase",
                "unit: days",
                "target_mode: percentage_points",
                "target_change: 2",
            ],
            "percentage_points only go with unit percent",
        ),
        (
            ["kind: stay_above", "unit: percent"],
            "the key result is missing 'target_value'",
        ),
        (
            ["kind: increase", "start_value: 1", "target_value: 2"],
            "the key result is missing 'unit'",
        ),
        (
            ["kind: increase", "unit: count", "start_value: 1", "target_value: 2.5"],
            "target_value: a count must be a whole number",
        ),
        (
            ["kind: increase", "unit: percent", "start_value: 1", "target_value: .inf"],
            "target_value '.inf' is not a finite number",
        ),
        (
            [
                "kind: increase",
                "unit: percent",
                "start_value: 1",
                "target_value: 1.1234567",
            ],
            "target_value 1.1234567 does not fit",
        ),
        (
            ["kind: increase", "unit: currency", "start_value: 1", "target_value: 2"],
            "a currency unit needs a currency_code",
        ),
        (
            ["kind: milestone", "title: again"],
            "'title' appears twice in the key result",
        ),
        (["kind: milestone", "due: 2"], "due must be text, not '2'"),
    ],
)
def test_the_measure_rules_are_checked(fields, reason, tmp_path):
    path = tmp_path / "rules.yaml"
    text = (FIXTURES / "valid.yaml").read_text()
    head = text[: text.index("kind: decrease")]
    path.write_text(head + "\n        ".join(fields) + "\n")

    with pytest.raises(TemplateError, match=re.escape(reason)):
        parse_template(path)


# The load-template command


def run(*args: str) -> str:
    out = StringIO()
    call_command("load-template", *args, stdout=out)
    return out.getvalue()


def test_the_command_reports_what_it_created(fiscal_year, people):
    people["admin"].is_superuser = True
    people["admin"].save()

    output = run(
        "credit-management", "--cycle", "FY2027", "--baseline", "delinquency-rate=8"
    )

    assert (
        "created objective: Reduce Credit Delinquency Rate by 15% by Q4 [Credit Risk]"
        in output
    )
    assert "Created 3 objectives and 11 key results; skipped 0 items" in output
    assert set(Objective.objects.values_list("owner__username", flat=True)) == {"admin"}
    assert by_key(fiscal_year)["delinquency-rate"].target_value == Decimal("6.8")


def test_the_command_reports_what_it_skipped(fiscal_year, people):
    run("credit-management", "--cycle", "fy2027", "--owner", "manager")

    output = run(
        "credit-management", "--cycle", str(fiscal_year.pk), "--owner", "manager"
    )

    assert (
        "skipped, already there: objective 'Enhance Debt Recovery Rate by 10%'"
        in output
    )
    assert "Created 0 objectives and 0 key results; skipped 14 items" in output


def test_the_command_falls_back_to_an_admin_member_as_owner(fiscal_year, people):
    run("credit-management", "--cycle", "FY2027")

    assert set(Objective.objects.values_list("owner__username", flat=True)) == {"admin"}


def test_the_command_puts_everything_in_a_given_team(fiscal_year, people):
    run("credit-management", "--cycle", "FY2027", "--team", "sales")

    assert set(Objective.objects.values_list("team__name", flat=True)) == {"Sales"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["credit-management", "--cycle", "FY2031"],
            "There is no cycle 'FY2031'. Open cycles: FY2027",
        ),
        (
            ["credit-management", "--cycle", "FY2027", "--owner", "nobody"],
            "no active user called 'nobody'",
        ),
        (
            ["credit-management", "--cycle", "FY2027", "--team", "Legal"],
            "no team called 'Legal'",
        ),
        (
            [
                "credit-management",
                "--cycle",
                "FY2027",
                "--baseline",
                "delinquency-rate",
            ],
            "should be KEY=NUMBER",
        ),
        (
            [
                "credit-management",
                "--cycle",
                "FY2027",
                "--baseline",
                "recovery-rate=lots",
            ],
            "should be KEY=NUMBER",
        ),
        (
            [
                "credit-management",
                "--cycle",
                "FY2027",
                "--baseline",
                "recovery-rate=95",
            ],
            "between 0 and 100",
        ),
        (["debt", "--cycle", "FY2027"], "no template called 'debt'"),
        (
            [str(FIXTURES / "bad-kind.yaml"), "--cycle", "FY2027"],
            "bad-kind.yaml, line 11: kind 'increse'",
        ),
    ],
)
def test_the_command_fails_with_the_reason_and_writes_nothing(
    args, message, fiscal_year, people
):
    before = counts()

    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)

    assert counts() == before


def test_the_command_needs_an_owner_when_there_is_no_admin(fiscal_year, people):
    people["admin"].memberships.all().delete()

    with pytest.raises(CommandError, match="no administrator"):
        run("credit-management", "--cycle", "FY2027")


def test_the_command_refuses_a_closed_cycle(fiscal_year, people):
    fiscal_year.state = CycleState.CLOSED
    fiscal_year.save()

    with pytest.raises(CommandError, match="FY2027 is closed"):
        run("credit-management", "--cycle", "FY2027")


def test_how_each_key_result_is_measured_is_kept_with_it(fiscal_year, people):
    load_template("credit-management", fiscal_year, people["manager"])

    kr = by_key(fiscal_year)
    assert kr["fortnightly-payment-reminders"].definition.startswith(
        "Days between two payment reminders to the same customer"
    )
    assert "not percentage points" in kr["delinquency-rate"].definition
    assert kr["enhanced-scoring-models"].definition == ""
