"""Mappings: JSON round trip, the problems `check_mapping` finds, and the
parsing rules of `canonical_table`."""

import json
from datetime import date
from decimal import Decimal

import duckdb
import ibis
import pytest

from creditokr.creditdata.ingest.errors import MappingError
from creditokr.creditdata.ingest.examples import (
    ibm_receivables_mapping,
    uci_card_mapping,
)
from creditokr.creditdata.ingest.mapping import (
    FieldMapping,
    Mapping,
    WidePeriod,
    canonical_table,
    check_mapping,
)


@pytest.mark.parametrize("mapping", [ibm_receivables_mapping(), uci_card_mapping()])
def test_mappings_round_trip_through_json(mapping):
    text = json.dumps(mapping.to_dict())

    assert Mapping.from_dict(json.loads(text)) == mapping


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "mapping must be an object"),
        ({"dataset": "loans", "fields": {}}, "unknown dataset 'loans'"),
        (
            {"dataset": "receivables", "fields": {"amount": "Total"}},
            "mapping.fields.amount must be an object",
        ),
        (
            {"dataset": "receivables", "fields": {"amount": {"colum": "x"}}},
            "unknown keys colum",
        ),
        (
            {"dataset": "receivables", "fields": {"disputed": {"true_values": "yes"}}},
            "must be a list of strings",
        ),
        (
            {
                "dataset": "account_snapshots",
                "fields": {},
                "wide": [{"as_of": "2005-13-01", "columns": {}}],
            },
            r"mapping.wide\[0\].as_of: '2005-13-01' is not a date",
        ),
    ],
)
def test_malformed_mappings_are_refused_clearly(data, message):
    with pytest.raises(MappingError, match=message):
        Mapping.from_dict(data)


def messages(mapping, columns):
    return [p.message for p in check_mapping(mapping, columns)]


def test_check_mapping_finds_each_kind_of_problem():
    mapping = Mapping(
        "account_snapshots",
        {
            "account_id": FieldMapping(column="Acct"),
            "as_of": FieldMapping(column="Month"),
            "balance": FieldMapping(column="Acct"),
            "state": FieldMapping(column="Status", value_map={"C/O": "written_off"}),
            "segment": FieldMapping(column="Gone"),
            "colour": FieldMapping(column="Acct"),
        },
    )

    found = messages(mapping, ["Acct", "Month", "Status"])

    assert found == [
        "Account snapshots (loan tape) has no field 'colour'.",
        "Snapshot date: choose the date format of column 'Month'.",
        "Days past due is required; map a column to it.",
        "Account state: 'C/O' is mapped to 'written_off', which is not one of "
        "open, paid_off, charged_off.",
        "The column 'Gone' mapped to Segment is not in the data.",
        "The column 'Acct' is mapped to both Account and Outstanding balance.",
    ]


def test_check_mapping_accepts_the_examples():
    ibm = [
        "countryCode",
        "customerID",
        "invoiceNumber",
        "InvoiceDate",
        "DueDate",
        "InvoiceAmount",
        "Disputed",
        "SettledDate",
    ]
    uci = [
        "ID",
        *(f"PAY_{i}" for i in (0, 2, 3, 4, 5, 6)),
        *(f"BILL_AMT{i}" for i in range(1, 7)),
    ]

    assert check_mapping(ibm_receivables_mapping(), ibm) == []
    assert check_mapping(uci_card_mapping(), uci) == []


def test_wide_periods_must_be_distinct_and_complete():
    mapping = Mapping(
        "account_snapshots",
        {"account_id": FieldMapping(column="ID"), "as_of": FieldMapping(column="ID")},
        wide=(
            WidePeriod(date(2005, 9, 30), {"dpd": "S1", "balance": "B1"}),
            WidePeriod(date(2005, 9, 30), {"dpd": "S2"}),
        ),
    )

    found = messages(mapping, ["ID", "S1", "S2", "B1"])

    assert (
        "In a wide table the snapshot date comes from each period; do not map "
        "it to a column." in found
    )
    assert "The period 2005-09-30 is listed 2 times." in found
    assert "The period 2005-09-30 has no column for balance." in found


def test_two_periods_may_not_read_the_same_columns():
    """The UCI layout: September reads PAY_0/BILL_AMT1, August PAY_2/
    BILL_AMT2; giving August September's columns repeats September."""
    mapping = Mapping(
        "account_snapshots",
        {"account_id": FieldMapping(column="ID")},
        wide=(
            WidePeriod(date(2005, 9, 30), {"dpd": "PAY_0", "balance": "BILL_AMT1"}),
            WidePeriod(date(2005, 8, 31), {"dpd": "PAY_0", "balance": "BILL_AMT1"}),
        ),
    )

    found = messages(mapping, ["ID", "PAY_0", "BILL_AMT1"])

    assert found == [
        "The periods 2005-09-30 and 2005-08-31 both read the column 'PAY_0'; "
        "give each period its own columns.",
        "The periods 2005-09-30 and 2005-08-31 both read the column "
        "'BILL_AMT1'; give each period its own columns.",
    ]


def canonical(rows, columns, mapping):
    backend = ibis.duckdb.from_connection(duckdb.connect())
    raw = ibis.memtable({c: [r[i] for r in rows] for i, c in enumerate(columns)})
    return backend.to_pyarrow(canonical_table(raw, mapping)).to_pylist()


def test_months_past_due_become_days():
    """Status 3 is 90 days; 1 is 30; 0, -1 and -2 are all current (0)."""
    mapping = Mapping(
        "account_snapshots",
        {
            "account_id": FieldMapping(column="ID"),
            "as_of": FieldMapping(constant="2005-09-30"),
            "dpd": FieldMapping(column="S", transform="months_past_due"),
            "balance": FieldMapping(column="B", thousands_separator=","),
        },
    )
    rows = [
        ("1", "3", "1,000"),
        ("2", "1", "-5"),
        ("3", "0", "0"),
        ("4", "-1", "2"),
        ("5", "-2", "x"),
    ]

    result = canonical(rows, ["ID", "S", "B"], mapping)

    assert [r["dpd"] for r in result] == [90, 30, 0, 0, 0]
    assert [r["as_of"] for r in result] == [date(2005, 9, 30)] * 5
    assert [r["balance"] for r in result[:4]] == [
        Decimal(1000),
        Decimal(-5),
        Decimal(0),
        Decimal(2),
    ]
    assert result[4]["balance"] is None


def test_booleans_use_the_value_lists_case_insensitively():
    mapping = Mapping(
        "receivables",
        {
            "invoice_id": FieldMapping(column="I"),
            "disputed": FieldMapping(
                column="D", true_values=("ja",), false_values=("nein",)
            ),
        },
    )
    rows = [("1", "JA"), ("2", "nein"), ("3", "yes"), ("4", "")]

    result = canonical(rows, ["I", "D"], mapping)

    assert [r["disputed"] for r in result] == [True, False, None, None]
