"""Recognising files: encodings, delimiters, spreadsheets, Parquet, and the
locked-down DuckDB that reads them."""

import datetime as dt

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditokr.creditdata.ingest.duck import restricted_connection, time_limit
from creditokr.creditdata.ingest.errors import ImportTimeout
from creditokr.creditdata.ingest.importer import import_file, preview
from creditokr.creditdata.ingest.mapping import FieldMapping, Mapping
from creditokr.creditdata.ingest.readers import FileFormat, sniff

ROWS = [
    "Client;Montant;Date",
    "Société Générale;1.234,50;31.01.2024",
    "Müller;-12,00;29.02.2024",
]


def payments(date_format: str = "%d.%m.%Y") -> Mapping:
    return Mapping(
        "payments",
        {
            "invoice_id": FieldMapping(column="Client"),
            "payment_date": FieldMapping(column="Date", date_format=date_format),
            "amount": FieldMapping(
                column="Montant", decimal_separator=",", thousands_separator="."
            ),
        },
    )


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
        ("cp1252", "cp1252"),
    ],
)
def test_encodings_are_detected_and_transcoded(tmp_path, encoding, expected):
    path = tmp_path / "pay.csv"
    path.write_bytes("\r\n".join(ROWS).encode(encoding))
    out = tmp_path / "pay.parquet"

    sniffed = sniff(path, path.name)
    result = import_file(path, FileFormat(), payments(), out)

    assert sniffed.format.encoding == expected
    assert not sniffed.encoding_uncertain
    assert sniffed.format.delimiter == ";"
    assert sniffed.columns == ("Client", "Montant", "Date")
    assert sniffed.preview[0] == ("Société Générale", "1.234,50", "31.01.2024")
    assert sniffed.date_formats == {"Date": ("%d.%m.%Y",)}
    assert result.ok, result.errors
    table = pq.read_table(out).to_pylist()
    assert [r["invoice_id"] for r in table] == ["Société Générale", "Müller"]
    # 1.234,50 with '.' for thousands and ',' for decimals is 1234.5.
    assert [float(r["amount"]) for r in table] == [1234.5, -12.0]
    assert [r["payment_date"] for r in table] == [
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
    ]


def test_quoted_newlines_and_blank_lines_keep_true_line_numbers(tmp_path):
    path = tmp_path / "pay.csv"
    path.write_text(
        'Client,Montant,Date\n"Multi\nline",1,2024-01-01\n\nX,oops,2024-01-02\n',
        encoding="utf-8",
    )
    mapping = payments("%Y-%m-%d")
    mapping.fields["amount"] = FieldMapping(column="Montant")

    result = import_file(path, FileFormat(), mapping, tmp_path / "o.parquet")

    # Header line 1, the quoted value spans lines 2-3, line 4 is blank.
    assert [(e.line, e.value) for e in result.errors] == [(5, "oops")]


def test_a_sheet_with_real_dates(tmp_path):
    path = tmp_path / "pay.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active["A1"] = "nothing here"
    sheet = book.create_sheet("Payments")
    sheet.append(["Client", "Montant", "Date"])
    sheet.append(["A", 1234.5, dt.date(2024, 1, 31)])
    # Excel cells carry no time zone.
    midnight = dt.datetime(2024, 2, 29, 0, 0)  # noqa: DTZ001
    sheet.append(["B", 7, midnight])
    book.save(path)
    out = tmp_path / "pay.parquet"

    sniffed = sniff(path, path.name, FileFormat(sheet="Payments"))
    mapping = payments("%Y-%m-%d")
    mapping.fields["amount"] = FieldMapping(column="Montant")
    result = import_file(path, FileFormat(sheet="Payments"), mapping, out)

    assert sniffed.sheets == ("Notes", "Payments")
    assert sniffed.date_formats == {"Date": ("%Y-%m-%d",)}
    assert sniffed.preview_lines == (2, 3)
    assert result.ok, result.errors
    assert pq.read_table(out).column("payment_date").to_pylist() == [
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
    ]


def test_parquet_with_typed_columns(tmp_path):
    path = tmp_path / "pay.parquet"
    pq.write_table(
        pa.table(
            {
                "Client": ["A", "B"],
                "Montant": pa.array([1.5, 2.25]),
                "Date": pa.array([dt.date(2024, 1, 31), dt.date(2024, 3, 1)]),
            }
        ),
        path,
    )
    mapping = payments("%Y-%m-%d")
    mapping.fields["amount"] = FieldMapping(column="Montant")
    out = tmp_path / "out.parquet"

    result = import_file(path, FileFormat(), mapping, out)

    assert result.ok, result.errors
    assert (result.min_date, result.max_date) == (
        dt.date(2024, 1, 31),
        dt.date(2024, 3, 1),
    )
    assert [float(v) for v in pq.read_table(out).column("amount").to_pylist()] == [
        1.5,
        2.25,
    ]


def test_preview_shows_raw_parsed_and_error(tmp_path):
    path = tmp_path / "pay.csv"
    path.write_text(
        "Client;Montant;Date\nA;1,5;31.01.2024\nB;x;30.02.2024\n", encoding="utf-8"
    )

    rows = preview(path, FileFormat(), payments())

    assert [r.line for r in rows] == [2, 3]
    assert rows[0].cells["amount"].parsed == "1.5000"
    assert rows[0].cells["payment_date"].parsed == "2024-01-31"
    assert (
        rows[1].cells["amount"].error
        == "'x' is not a number (decimal separator ',', thousands separator '.')."
    )
    assert (
        rows[1].cells["payment_date"].error
        == "'30.02.2024' is not a date in the format DD.MM.YYYY."
    )


def test_the_import_database_cannot_read_other_files(tmp_path):
    allowed = tmp_path / "allowed.csv"
    allowed.write_text("a\n1\n")
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n2\n")
    work = tmp_path / "work"
    work.mkdir()
    con = restricted_connection([allowed], [work], work / "spill")

    assert con.execute(f"SELECT a FROM read_csv('{allowed}')").fetchall() == [(1,)]  # noqa: S608 - names and paths are quoted
    with pytest.raises(duckdb.PermissionException):
        con.execute(f"SELECT * FROM read_csv('{secret}')")  # noqa: S608 - names and paths are quoted
    with pytest.raises(duckdb.Error):
        con.execute("INSTALL httpfs")


def test_a_slow_query_is_interrupted(tmp_path):
    con = restricted_connection([], [tmp_path], tmp_path / "spill")

    with (
        pytest.raises(ImportTimeout, match=r"longer than 0.2 seconds"),
        time_limit(con, 0.2),
    ):
        con.execute(
            "SELECT count(*) FROM range(10000000000) a, range(1000) b"
        ).fetchall()


def test_a_file_in_another_folder_is_not_replaced_on_failure(tmp_path):
    path = tmp_path / "pay.csv"
    path.write_text("Client;Montant;Date\nA;x;31.01.2024\n", encoding="utf-8")
    out = tmp_path / "current.parquet"
    out.write_bytes(b"previous import")

    result = import_file(path, FileFormat(), payments(), out)

    assert not result.ok
    assert out.read_bytes() == b"previous import"


def test_sniff_path_and_filename_may_differ(tmp_path):
    """Uploads are stored under a random name; the user's name decides."""
    path = tmp_path / "upload-1234"
    path.write_text("a,b\n1,2\n")

    assert sniff(path, "ledger.csv").format.kind == "csv"
    with pytest.raises(Exception, match=r"named .xlsx"):
        sniff(path, "ledger.xlsx")


def test_a_csv_date_format_is_not_applied_to_real_date_cells(tmp_path):
    """A mapping saved from a CSV in MM/DD/YYYY still reads a workbook's
    date cells and a Parquet date column, which hold real dates."""
    us = "%m/%d/%Y"
    mapping = payments(us)
    mapping.fields["amount"] = FieldMapping(column="Montant")
    book_path = tmp_path / "pay.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Client", "Montant", "Date"])
    book.active.append(["A", 1, dt.date(2013, 1, 2)])
    book.active.append(["B", 2, dt.datetime(2013, 3, 4, 10, 30)])  # noqa: DTZ001
    book.save(book_path)
    parquet_path = tmp_path / "pay.parquet"
    dates = [dt.date(2013, 1, 2), dt.date(2013, 3, 4)]
    pq.write_table(
        pa.table({"Client": ["A", "B"], "Montant": [1.0, 2.0], "Date": dates}),
        parquet_path,
    )

    for path in (book_path, parquet_path):
        out = tmp_path / f"{path.suffix[1:]}-out.parquet"
        result = import_file(path, FileFormat(), mapping, out)
        assert result.ok, (path.suffix, result.errors)
        assert pq.read_table(out).column("payment_date").to_pylist() == dates
        rows = preview(path, FileFormat(), mapping)
        assert [r.cells["payment_date"].parsed for r in rows] == [
            "2013-01-02",
            "2013-03-04",
        ]
        assert rows[0].cells["payment_date"].error is None


def test_a_date_format_still_applies_to_dates_typed_as_text(tmp_path):
    """A workbook column with a date typed as text keeps the format."""
    mapping = payments("%m/%d/%Y")
    mapping.fields["amount"] = FieldMapping(column="Montant")
    path = tmp_path / "pay.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Client", "Montant", "Date"])
    book.active.append(["A", 1, dt.date(2013, 1, 2)])
    book.active.append(["B", 2, "03/04/2013"])
    book.save(path)

    result = import_file(path, FileFormat(), mapping, tmp_path / "out.parquet")

    assert not result.ok
    assert result.errors[0].message == (
        "Row 2, column Date: '2013-01-02' is not a date in the format MM/DD/YYYY."
    )
