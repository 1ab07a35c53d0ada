"""Bad files and bad values: each is refused with a precise message and
nothing is written."""

import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditokr.creditdata.ingest import mapping as mapping_module
from creditokr.creditdata.ingest.errors import FileRefused, IngestError
from creditokr.creditdata.ingest.importer import import_file, preview
from creditokr.creditdata.ingest.mapping import FieldMapping, Mapping, check_mapping
from creditokr.creditdata.ingest.readers import FileFormat, encoding_doubt, sniff

HEADER = "Invoice,Customer,InvoiceDate,DueDate,Amount,SettledDate,Disputed"
GOOD = [
    "A1,C1,1/15/2013,2/14/2013,100.00,2/1/2013,No",
    "A2,C2,1/16/2013,2/15/2013,250.50,,Yes",
]


def receivables(**changes: FieldMapping) -> Mapping:
    us = "%m/%d/%Y"
    fields = {
        "invoice_id": FieldMapping(column="Invoice"),
        "customer_id": FieldMapping(column="Customer"),
        "invoice_date": FieldMapping(column="InvoiceDate", date_format=us),
        "due_date": FieldMapping(column="DueDate", date_format=us),
        "amount": FieldMapping(column="Amount"),
        "settled_date": FieldMapping(column="SettledDate", date_format=us),
        "disputed": FieldMapping(column="Disputed"),
    }
    fields.update(changes)
    return Mapping("receivables", fields)


def write(tmp_path: Path, lines: list[str], name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(
    tmp_path: Path,
    path: Path,
    mapping: Mapping | None = None,
    fmt: FileFormat | None = None,
    **kw,
):
    out = tmp_path / "out" / "data.parquet"
    result = import_file(path, fmt or FileFormat(), mapping or receivables(), out, **kw)
    assert not result.ok
    assert not out.exists()
    # No temporary file is left behind either.
    assert not out.parent.exists() or list(out.parent.iterdir()) == []
    return result


def only(result):
    assert result.error_count == 1, result.errors
    return result.errors[0]


def test_a_good_file_imports(tmp_path):
    path = write(tmp_path, [HEADER, *GOOD])
    out = tmp_path / "out.parquet"

    result = import_file(path, FileFormat(), receivables(), out)

    assert result.ok
    assert result.rows == 2
    assert pq.read_table(out).column("amount").to_pylist() == [
        pytest.approx(100),
        pytest.approx(250.5),
    ]


def test_an_unparseable_date_names_line_column_and_format(tmp_path):
    path = write(tmp_path, [HEADER, *GOOD, "A3,C3,1/17/2013,2/16/2013,5,2/30/2013,No"])

    error = only(run(tmp_path, path))

    assert (error.line, error.column, error.field) == (4, "SettledDate", "settled_date")
    assert error.value == "2/30/2013"
    assert error.message == (
        "Line 4, column SettledDate: '2/30/2013' is not a date in the format "
        "MM/DD/YYYY."
    )


def test_an_unparseable_number(tmp_path):
    path = write(tmp_path, [HEADER, "A1,C1,1/15/2013,2/14/2013,12x5,,No"])

    error = only(run(tmp_path, path))

    assert (error.line, error.column, error.value) == (2, "Amount", "12x5")
    assert "is not a number" in error.message


def test_an_empty_required_cell(tmp_path):
    path = write(tmp_path, [HEADER, *GOOD, "A3,,1/17/2013,2/16/2013,5,,No"])

    error = only(run(tmp_path, path))

    assert (error.line, error.column, error.field) == (4, "Customer", "customer_id")
    assert (
        error.message == "Line 4, column Customer: Customer is empty but is required."
    )


def test_a_duplicate_key_reports_every_line(tmp_path):
    path = write(tmp_path, [HEADER, *GOOD, "A1,C9,1/17/2013,2/16/2013,5,,No"])

    result = run(tmp_path, path)

    assert result.error_count == 2
    assert [e.line for e in result.errors] == [2, 4]
    assert all(
        "'A1' appears 2 times (lines 2 and 4)" in e.message for e in result.errors
    )


def test_settled_before_invoiced(tmp_path):
    path = write(tmp_path, [HEADER, "A1,C1,1/15/2013,2/14/2013,100,1/10/2013,No"])

    error = only(run(tmp_path, path))

    assert (error.line, error.column) == (2, "SettledDate")
    assert (
        "settled date '1/10/2013' is before the invoice date '1/15/2013'"
        in error.message
    )


def test_an_unknown_boolean(tmp_path):
    path = write(tmp_path, [HEADER, "A1,C1,1/15/2013,2/14/2013,100,,Maybe"])

    error = only(run(tmp_path, path))

    assert (error.line, error.column, error.value) == (2, "Disputed", "Maybe")


def test_an_unknown_choice_value(tmp_path):
    path = write(
        tmp_path,
        [
            "Acct,Month,Dpd,Bal,Status",
            "1,2024-01-31,0,10,Open",
            "2,2024-01-31,0,10,C/O",
        ],
    )
    mapping = Mapping(
        "account_snapshots",
        {
            "account_id": FieldMapping(column="Acct"),
            "as_of": FieldMapping(column="Month", date_format="%Y-%m-%d"),
            "dpd": FieldMapping(column="Dpd"),
            "balance": FieldMapping(column="Bal"),
            "state": FieldMapping(column="Status"),
        },
    )

    error = only(run(tmp_path, path, mapping))

    assert (error.line, error.column, error.value) == (3, "Status", "C/O")
    assert "not one of open, paid_off, charged_off" in error.message

    mapped = Mapping(
        mapping.dataset,
        {
            **mapping.fields,
            "state": FieldMapping(column="Status", value_map={"C/O": "charged_off"}),
        },
    )
    out = tmp_path / "ok.parquet"
    assert import_file(path, FileFormat(), mapped, out).ok
    assert pq.read_table(out).column("state").to_pylist() == ["open", "charged_off"]


def test_a_missing_mapped_column(tmp_path):
    path = write(tmp_path, [HEADER, *GOOD])
    mapping = receivables(amount=FieldMapping(column="Total"))

    error = only(run(tmp_path, path, mapping))

    assert (error.line, error.column, error.field) == (None, "Total", "amount")
    assert (
        error.message
        == "The column 'Total' mapped to Invoice amount is not in the data."
    )


def test_a_row_with_the_wrong_number_of_fields(tmp_path):
    path = write(tmp_path, [HEADER, *GOOD, "A3,C3,1/17/2013"])

    error = only(run(tmp_path, path))

    assert error.line == 4
    assert "has 3 fields but the header has 7" in error.message


def test_a_wrong_delimiter_is_refused_with_the_likely_one(tmp_path):
    path = write(tmp_path, [HEADER, *GOOD])

    with pytest.raises(FileRefused, match="every line is a single column") as caught:
        sniff(path, path.name, FileFormat(delimiter=";"))
    assert "looks delimited by comma ','" in caught.value.message
    assert caught.value.line == 1
    error = only(_run_with(tmp_path, path, FileFormat(delimiter=";")))
    assert "single column" in error.message


def test_a_delimiter_that_splits_lines_unevenly(tmp_path):
    path = write(
        tmp_path, ["Id;Name;Amount", "1;A, B;2", "2;C;3", "3;D;4;5", "4;E;5;6"]
    )

    with pytest.raises(FileRefused, match=r"header has 3 column.* line 4 has 4"):
        sniff(path, path.name, FileFormat(delimiter=";"))


def _run_with(tmp_path, path, fmt):
    out = tmp_path / "out" / "data.parquet"
    result = import_file(path, fmt, receivables(), out)
    assert not result.ok
    assert not out.exists()
    return result


def test_ambiguous_dates_list_both_formats(tmp_path):
    path = write(tmp_path, ["Id,When", "1,1/2/2013", "2,3/4/2013"])

    sniffed = sniff(path, path.name)

    assert sniffed.date_formats["When"] == ("%d/%m/%Y", "%m/%d/%Y")
    assert sniffed.ambiguous_dates() == {"When": ("%d/%m/%Y", "%m/%d/%Y")}


def test_an_empty_file(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"")

    with pytest.raises(FileRefused, match="empty"):
        sniff(path, path.name)
    assert "empty" in only(run(tmp_path, path)).message


def test_a_file_with_only_a_header(tmp_path):
    path = write(tmp_path, [HEADER])

    with pytest.raises(FileRefused, match="header but no data rows"):
        sniff(path, path.name)
    assert "no data rows" in only(run(tmp_path, path)).message


def test_duplicate_and_empty_header_names(tmp_path):
    duplicate = write(tmp_path, ["Id,Amount,Amount", "1,2,3"], "dup.csv")
    empty = write(tmp_path, ["Id,,Amount", "1,2,3"], "empty.csv")

    with pytest.raises(FileRefused, match=r"Columns 2 and 3 .* both named 'Amount'"):
        sniff(duplicate, duplicate.name)
    with pytest.raises(FileRefused, match="Column 2 of the header has no name"):
        sniff(empty, empty.name)


def test_binary_garbage_named_csv(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(bytes(range(256)) * 40)

    with pytest.raises(FileRefused, match="binary"):
        sniff(path, path.name)


def test_a_workbook_named_csv(tmp_path):
    path = tmp_path / "data.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    with pytest.raises(FileRefused, match=r"named \.csv but is actually a zip"):
        sniff(path, path.name)


def test_a_truncated_parquet_file(tmp_path):
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"Invoice": ["A1"] * 1000}), whole)
    path = tmp_path / "data.parquet"
    path.write_bytes(whole.read_bytes()[:300])

    with pytest.raises(FileRefused, match="not a readable Parquet file"):
        sniff(path, path.name)
    assert "Parquet" in only(run(tmp_path, path)).message


def test_a_latin1_file_declared_as_utf8(tmp_path):
    path = tmp_path / "data.csv"
    body = "\n".join([HEADER, *GOOD, "A3,Société Générale,1/17/2013,2/16/2013,5,,No"])
    path.write_bytes(body.encode("latin-1"))

    fmt = FileFormat(encoding="utf-8")
    with pytest.raises(FileRefused, match="Line 4") as caught:
        sniff(path, path.name, fmt)
    assert "utf-8" in caught.value.message
    assert only(_run_with(tmp_path, path, fmt)).line == 4


def test_a_workbook_with_a_bad_cell(tmp_path):
    path = tmp_path / "data.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Invoice", "Customer", "InvoiceDate", "DueDate", "Amount"])
    sheet.append(["A1", "C1", "2013-01-15", "2013-02-14", 100])
    sheet.append(["A2", "C2", "2013-01-16", "2013-02-15", "n/a"])
    book.save(path)
    iso = "%Y-%m-%d"
    mapping = Mapping(
        "receivables",
        {
            "invoice_id": FieldMapping(column="Invoice"),
            "customer_id": FieldMapping(column="Customer"),
            "invoice_date": FieldMapping(column="InvoiceDate", date_format=iso),
            "due_date": FieldMapping(column="DueDate", date_format=iso),
            "amount": FieldMapping(column="Amount"),
        },
    )

    error = only(run(tmp_path, path, mapping))

    assert (error.line, error.column, error.value) == (3, "Amount", "n/a")
    assert error.message.startswith("Row 3, column Amount: 'n/a' is not a number")


def test_a_huge_number_of_errors_is_counted_exactly_and_capped(tmp_path):
    bad = [f"A{i},C1,1/15/2013,2/14/2013,oops,,No" for i in range(5000)]
    path = write(tmp_path, [HEADER, *bad])

    result = run(tmp_path, path, max_errors=50)

    assert result.error_count == 5000
    assert len(result.errors) == 50
    assert [e.line for e in result.errors] == list(range(2, 52))


# Date formats DuckDB cannot use ---------------------------------------------


def test_a_date_format_duckdb_cannot_use_is_refused_by_check_mapping():
    columns = HEADER.split(",")

    for fmt in ("%Y-%m-%d%", "%q/%m/%Y"):
        mapping = receivables(
            invoice_date=FieldMapping(column="InvoiceDate", date_format=fmt)
        )
        [problem] = check_mapping(mapping, columns)
        assert problem.field == "invoice_date"
        assert problem.message == (
            f"Invoice date: {fmt!r} is not a date format such as %d/%m/%Y."
        )


def test_preview_shows_an_unusable_date_format_instead_of_failing(tmp_path):
    path = write(tmp_path, [HEADER, *GOOD])
    mapping = receivables(
        invoice_date=FieldMapping(column="InvoiceDate", date_format="%Y-%m-%d%")
    )

    rows = preview(path, FileFormat(), mapping)

    assert rows[0].cells["invoice_date"].error == (
        "Invoice date: '%Y-%m-%d%' is not a date format such as %d/%m/%Y."
    )
    assert rows[0].cells["due_date"].parsed == "2013-02-14"


def test_preview_names_the_date_format_duckdb_refused(tmp_path, monkeypatch):
    """Should a format slip past the check, the preview still explains it
    instead of failing with DuckDB's own error."""
    monkeypatch.setattr(mapping_module, "valid_date_format", lambda fmt: True)
    path = write(tmp_path, [HEADER, *GOOD])
    mapping = receivables(
        invoice_date=FieldMapping(column="InvoiceDate", date_format="%Y-%m-%d%")
    )

    with pytest.raises(IngestError) as caught:
        preview(path, FileFormat(), mapping)

    assert "Invoice date ('%Y-%m-%d%')" in caught.value.message
    assert caught.value.message.startswith("The preview cannot be made:")


# Values out of range -------------------------------------------------------


def test_a_year_out_of_range_is_named_as_such(tmp_path):
    iso = "%Y-%m-%d"
    path = write(tmp_path, [HEADER, "A1,C1,0001-01-05,2013-02-14,5,,No"])
    mapping = receivables(
        invoice_date=FieldMapping(column="InvoiceDate", date_format=iso),
        due_date=FieldMapping(column="DueDate", date_format=iso),
        settled_date=FieldMapping(column="SettledDate", date_format=iso),
    )

    error = only(run(tmp_path, path, mapping))

    assert error.message == (
        "Line 2, column InvoiceDate: '0001-01-05' is out of the supported "
        "range of dates (years 1800 to 2200)."
    )


@pytest.mark.parametrize("amount", ["1e308", "1" * 35, "100000000000000"])
def test_an_amount_too_large_is_named_as_such(tmp_path, amount):
    # DECIMAL(18, 4) keeps 18 - 4 = 14 digits before the point; 10^14 has 15.
    path = write(tmp_path, [HEADER, f"A1,C1,1/15/2013,2/14/2013,{amount},,No"])

    error = only(run(tmp_path, path))

    assert error.message == (
        f"Line 2, column Amount: {amount!r} is too large for an amount (at most "
        "14 digits before the decimal point)."
    )


def test_the_largest_amount_still_fits(tmp_path):
    path = write(tmp_path, [HEADER, "A1,C1,1/15/2013,2/14/2013,99999999999999.99,,No"])

    result = import_file(path, FileFormat(), receivables(), tmp_path / "o.parquet")

    assert result.ok, result.errors


# Encodings -----------------------------------------------------------------


def mixed_encodings(tmp_path: Path) -> Path:
    """Lines 2-3 saved as UTF-8 and lines 4-5 as Windows-1252."""
    utf8 = [
        HEADER,
        "Café1,C1,1/15/2013,2/14/2013,1,,No",
        "Müller,C2,1/16/2013,2/15/2013,2,,No",
    ]
    cp1252 = [
        "Crème,C3,1/17/2013,2/16/2013,3,,No",
        "Brûlé,C4,1/18/2013,2/17/2013,4,,No",
    ]
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        ("\n".join(utf8) + "\n").encode("utf-8")
        + ("\n".join(cp1252) + "\n").encode("cp1252")
    )
    return path


def test_a_file_of_mixed_encodings_asks_for_the_encoding(tmp_path):
    path = mixed_encodings(tmp_path)

    sniffed = sniff(path, path.name)
    result = run(tmp_path, path)

    assert sniffed.encoding_uncertain
    assert sniffed.format.encoding is None
    assert "some lines are UTF-8 (e.g. line 2)" in sniffed.notes[0]
    assert "others are not (e.g. line 4)" in sniffed.notes[0]
    assert "Choose the encoding" in only(result).message
    # The preview still reads the file with the guess.
    assert [r.line for r in preview(path, sniffed.format, receivables())] == [
        2,
        3,
        4,
        5,
    ]


def test_a_stated_encoding_is_used_for_a_mixed_file(tmp_path):
    path = mixed_encodings(tmp_path)
    out = tmp_path / "out.parquet"

    as_cp1252 = import_file(path, FileFormat(encoding="cp1252"), receivables(), out)
    as_utf8 = run(tmp_path, path, fmt=FileFormat(encoding="utf-8"))

    assert as_cp1252.ok, as_cp1252.errors
    # Read as cp1252 the UTF-8 "é" (bytes C3 A9) becomes "Ã©".
    ids = pq.read_table(out).column("invoice_id").to_pylist()
    assert ids == ["CafÃ©1", "MÃ¼ller", "Crème", "Brûlé"]
    assert only(as_utf8).message.startswith("Line 4: the bytes")


def test_low_confidence_is_a_doubt():
    note = encoding_doubt(b"id;name\n1;\xe9t\xe9\n", "cp1252", 0.4)

    assert note is not None
    assert "only with confidence 0.40" in note
    assert encoding_doubt(b"id;name\n1;\xe9t\xe9\n", "cp1252", 0.9) is None
    assert encoding_doubt(b"id\n", "utf-8", 0.0) is None
