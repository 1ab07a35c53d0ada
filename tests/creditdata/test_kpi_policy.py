"""Policy compliance and exception rates of credit decisions."""

from __future__ import annotations

from datetime import date

import pytest

from creditokr.creditdata.engine.contract import Period
from creditokr.creditdata.engine.kpis import get_kpi

MAY = Period(date(2026, 5, 1), date(2026, 5, 31), "2026-05")
JUNE = Period(date(2026, 6, 1), date(2026, 6, 30), "2026-06")


def check(app, rule, passed, kind=None, approved=None, day="2026-05-10"):
    return {
        "application_id": app,
        "rule_id": rule,
        "decided_on": day,
        "passed": passed,
        "exception_type": kind,
        "exception_approved": approved,
    }


# Five May decisions:
#   a: all checks passed                              -> compliant
#   b: one low-side failure, approved                 -> compliant, exception
#   c: one high-side failure, not approved            -> not compliant
#   d: low-side failure approved + high-side unknown  -> not compliant
#   e: low-side failure, approval flag empty          -> not compliant
CHECKS = [
    check("a", "r1", True),
    check("a", "r2", True),
    check("b", "r1", True),
    check("b", "r2", False, "low_side", True),
    check("c", "r1", False, "high_side", False),
    check("d", "r1", False, "low_side", True),
    check("d", "r2", False, "high_side", None),
    check("e", "r1", False, "low_side"),
]


def test_compliance_counts_approved_exceptions(duckdb_tables):
    tables = duckdb_tables({"policy_checks": CHECKS})

    [may, june] = get_kpi("policy_compliance").series(tables, {}, [MAY, JUNE])

    assert (may.numerator, may.denominator) == (2, 5)
    assert may.value == pytest.approx(40)
    assert may.rows == 8
    assert june.value is None


def test_exception_rate_is_the_complement_by_default(duckdb_tables):
    tables = duckdb_tables({"policy_checks": CHECKS})

    [may] = get_kpi("exception_rate").series(tables, {}, [MAY])

    assert may.value == pytest.approx(60)
    # low side: b, d, e; high side: c, d; of four decisions outside policy
    assert may.detail["low_side"] == 3
    assert may.detail["high_side"] == 2
    assert may.detail["low_side_share"] == pytest.approx(75)


def test_exception_rate_counting_all_exceptions(duckdb_tables):
    tables = duckdb_tables({"policy_checks": CHECKS})

    [may] = get_kpi("exception_rate").series(tables, {"count": "all"}, [MAY])

    assert may.value == pytest.approx(80)
