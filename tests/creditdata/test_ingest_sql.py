"""SQL sources: read-only, time-limited, one SELECT only, secrets kept out
of every message. PostgreSQL tests run when 127.0.0.1:5432 answers."""

import socket
import sqlite3
import uuid
from datetime import date

import psycopg
import pytest

from creditokr.creditdata.ingest.errors import SourceError
from creditokr.creditdata.ingest.mapping import FieldMapping, Mapping
from creditokr.creditdata.ingest.sql_source import (
    SqlSource,
    check_query,
    columns,
    open_canonical,
    preview_rows,
    redact_url,
    source_fingerprint,
    validate_source,
)

PG = "postgresql://postgres@127.0.0.1:5432/test"
INVOICES = [
    ("A1", "C1", "2013-01-02", "2013-02-01", 10.5, "2013-01-20"),
    ("A2", "C2", "2013-01-05", "2013-02-04", 4.5, None),
    ("A3", "C2", "2013-03-01", "2013-03-31", 5.0, None),
]

MAPPING = Mapping(
    "receivables",
    {
        "invoice_id": FieldMapping(column="inv"),
        "customer_id": FieldMapping(column="cust"),
        "invoice_date": FieldMapping(column="issued"),
        "due_date": FieldMapping(column="due"),
        "amount": FieldMapping(column="amount"),
        "settled_date": FieldMapping(column="settled"),
    },
)
CREATE = (
    "(inv text, cust text, issued date, due date, amount numeric(12,2), settled date)"
)


def _postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


needs_postgres = pytest.mark.skipif(
    not _postgres_up(), reason="no PostgreSQL on 127.0.0.1:5432"
)


@pytest.fixture
def sqlite_url(tmp_path):
    path = tmp_path / "ledger.db"
    con = sqlite3.connect(path)
    con.execute(f"CREATE TABLE invoices {CREATE}")
    con.executemany("INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?)", INVOICES)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


@pytest.fixture
def pg_table():
    schema = f"ingest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(f"CREATE TABLE {schema}.invoices {CREATE}")
        con.execute(f"CREATE SEQUENCE {schema}.counter")
        with con.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {schema}.invoices VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608 - names and paths are quoted
                INVOICES,
            )
    yield f"{schema}.invoices"
    with psycopg.connect(PG, autocommit=True) as con:
        con.execute(f"DROP SCHEMA {schema} CASCADE")


def test_sqlite_table_and_query(sqlite_url):
    table = SqlSource(sqlite_url, table="invoices")
    query = SqlSource(sqlite_url, query="SELECT * FROM invoices WHERE amount > 5;")

    assert columns(table) == ["inv", "cust", "issued", "due", "amount", "settled"]
    assert preview_rows(table, 1) == [
        {
            "inv": "A1",
            "cust": "C1",
            "issued": "2013-01-02",
            "due": "2013-02-01",
            "amount": "10.50",
            "settled": "2013-01-20",
        }
    ]
    with open_canonical(query, MAPPING) as canonical:
        rows = canonical.to_pyarrow().to_pylist()
    assert [r["invoice_id"] for r in rows] == ["A1"]
    assert rows[0]["settled_date"] == date(2013, 1, 20)


def test_sqlite_validation_names_rows_by_key(sqlite_url):
    con = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    con.execute(
        "INSERT INTO invoices VALUES ('A4', 'C3', '2013-05-01', '2013-04-01', 1, NULL)"
    )
    con.commit()
    con.close()

    result = validate_source(SqlSource(sqlite_url, table="invoices"), MAPPING)

    assert not result.ok
    assert result.rows == 4
    assert (result.min_date, result.max_date) == (date(2013, 1, 2), date(2013, 5, 1))
    [error] = result.errors
    assert error.key == {"invoice_id": "A4"}
    assert error.line is None
    assert error.message == (
        "Row invoice_id='A4', column due: the due date '2013-04-01' is before "
        "the invoice date '2013-05-01'."
    )


def test_sqlite_is_opened_read_only(sqlite_url):
    source = SqlSource(sqlite_url, query="SELECT * FROM invoices")
    with open_canonical(source, MAPPING) as canonical:
        backend = canonical._find_backend()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            backend.con.execute("DELETE FROM invoices")


def test_sqlite_timeout(sqlite_url):
    slow = SqlSource(
        sqlite_url,
        query="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT count(*) AS c FROM n",
    )

    with pytest.raises(SourceError, match=r"longer than 0.3 seconds"):
        preview_rows(slow, 1, timeout=0.3)


def test_fingerprint_changes_with_the_data(sqlite_url):
    source = SqlSource(sqlite_url, table="invoices")
    before = source_fingerprint(source, MAPPING)
    con = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    con.execute("UPDATE invoices SET amount = 11 WHERE inv = 'A1'")
    con.commit()
    con.close()

    assert source_fingerprint(source, MAPPING) != before
    assert source_fingerprint(source, MAPPING) == source_fingerprint(source, MAPPING)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("DELETE FROM invoices", "must be a SELECT statement"),
        ("SELECT 1; DROP TABLE invoices", "single SELECT statement; it has 2"),
        ("SELECT * INTO copy FROM invoices", "contains a write"),
        ("SELECT * FROM invoices FOR UPDATE", "must not lock rows"),
        ("SELEC * FROM", "cannot be read as SQL|must be a SELECT"),
    ],
)
def test_only_one_select_is_accepted(query, message):
    with pytest.raises(SourceError, match=message):
        check_query(query, "postgres")


def test_text_dates_must_be_cast_in_the_query(sqlite_url):
    source = SqlSource(
        sqlite_url,
        query="SELECT inv, cust, CAST(issued AS TEXT) AS issued, due, amount, "
        "settled FROM invoices",
    )

    with (
        pytest.raises(SourceError, match=r"'issued' .* is stored as text"),
        open_canonical(source, MAPPING),
    ):
        pass


def test_bad_urls_are_refused(tmp_path, monkeypatch):
    with pytest.raises(
        SourceError, match="Unsupported database URL 'mysql://u:\\*\\*\\*@db/x'"
    ):
        columns(SqlSource("mysql://u:hunter2@db/x", table="t"))
    with pytest.raises(SourceError, match="no SQLite database"):
        columns(SqlSource(f"sqlite:///{tmp_path}/missing.db", table="t"))
    monkeypatch.delenv("CREDITOKR_TEST_NO_SUCH_URL", raising=False)
    with pytest.raises(SourceError, match="CREDITOKR_TEST_NO_SUCH_URL is not set"):
        columns(SqlSource("env:CREDITOKR_TEST_NO_SUCH_URL", table="t"))


def test_passwords_never_show():
    url = "postgresql://analyst:s3cr%40t-pw@127.0.0.1:1/ledger"
    source = SqlSource(url, table="invoices")

    assert redact_url(url) == "postgresql://analyst:***@127.0.0.1:1/ledger"
    assert "s3cr" not in repr(source)
    with pytest.raises(SourceError) as caught:
        columns(source, timeout=2)
    assert "s3cr" not in str(caught.value)
    assert "s3cr@t" not in str(caught.value)


@needs_postgres
def test_postgres_table_query_and_env_url(pg_table, monkeypatch):
    monkeypatch.setenv("CREDITOKR_TEST_PG_URL", PG)
    query = SqlSource(
        "env:CREDITOKR_TEST_PG_URL",
        query=f"SELECT * FROM {pg_table} WHERE cust = 'C2'",  # noqa: S608 - names and paths are quoted
    )

    result = validate_source(query, MAPPING)

    assert result.ok, result.errors
    assert result.rows == 2
    assert (result.min_date, result.max_date) == (date(2013, 1, 5), date(2013, 3, 1))
    with open_canonical(SqlSource(PG, table=pg_table), MAPPING) as canonical:
        total = canonical.amount.sum().to_pyarrow().as_py()
    # 10.50 + 4.50 + 5.00
    assert float(total) == 20.0


@needs_postgres
def test_postgres_session_refuses_writes(pg_table):
    """nextval() passes as a SELECT but changes the database; the read-only
    session is what stops it."""
    schema = pg_table.split(".")[0]
    source = SqlSource(PG, query=f"SELECT nextval('{schema}.counter') AS n")

    with pytest.raises(SourceError, match="read-only"):
        preview_rows(source, 1)


@needs_postgres
def test_postgres_timeout(pg_table):
    source = SqlSource(PG, query="SELECT pg_sleep(5) AS slept")

    with pytest.raises(SourceError, match=r"longer than 0.5 seconds"):
        preview_rows(source, 1, timeout=0.5)
