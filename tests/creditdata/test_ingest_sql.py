"""SQL sources: read-only, time-limited, one SELECT only, secrets kept out
of every message, SQLite only inside its folder. PostgreSQL tests run when
127.0.0.1:5432 answers."""

import socket
import sqlite3
import uuid
from datetime import date

import django.conf
import ibis
import psycopg
import pytest

from creditokr.creditdata import forms
from creditokr.creditdata.ingest import sql_source
from creditokr.creditdata.ingest.errors import SourceError
from creditokr.creditdata.ingest.mapping import FieldMapping, Mapping
from creditokr.creditdata.ingest.sql_source import (
    OWN_DATABASE,
    SQLITE_OFF,
    SQLITE_REFUSED,
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


def _ledger(path):
    con = sqlite3.connect(path)
    con.execute(f"CREATE TABLE invoices {CREATE}")
    con.executemany("INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?)", INVOICES)
    con.commit()
    con.close()


@pytest.fixture
def sqlite_dir(tmp_path, settings):
    """The folder SQLite sources may read, as an administrator sets it."""
    folder = tmp_path / "sqlite-sources"
    folder.mkdir()
    settings.CREDIT_DATA_SQLITE_DIR = str(folder)
    return folder


@pytest.fixture
def sqlite_url(sqlite_dir):
    path = sqlite_dir / "ledger.db"
    _ledger(path)
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


def test_bad_urls_are_refused(sqlite_dir, monkeypatch):
    with pytest.raises(SourceError, match="Unsupported database URL 'mysql://u@db/x'"):
        columns(SqlSource("mysql://u:hunter2@db/x", table="t"))
    with pytest.raises(SourceError, match=r"no SQLite database named 'missing\.db'"):
        columns(SqlSource(f"sqlite:///{sqlite_dir}/missing.db", table="t"))
    monkeypatch.delenv("CREDITOKR_SOURCE_NO_SUCH_URL", raising=False)
    with pytest.raises(SourceError, match="CREDITOKR_SOURCE_NO_SUCH_URL is not set"):
        columns(SqlSource("env:CREDITOKR_SOURCE_NO_SUCH_URL", table="t"))


def test_passwords_never_show():
    url = "postgresql://analyst:s3cr%40t-pw@127.0.0.1:1/ledger?sslmode=disable"
    source = SqlSource(url, table="invoices")

    assert redact_url(url) == "postgresql://analyst@127.0.0.1:1/ledger"
    assert "s3cr" not in repr(source)
    with pytest.raises(SourceError) as caught:
        columns(source, timeout=2)
    assert "s3cr" not in str(caught.value)
    assert "s3cr@t" not in str(caught.value)


@needs_postgres
def test_postgres_table_query_and_env_url(pg_table, monkeypatch):
    monkeypatch.setenv("CREDITOKR_SOURCE_TEST_PG_URL", PG)
    query = SqlSource(
        "env:CREDITOKR_SOURCE_TEST_PG_URL",
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

    with pytest.raises(SourceError, match="nextval"):
        preview_rows(source, 1)


@needs_postgres
def test_postgres_timeout(pg_table):
    # Counting ten billion rows takes far longer than half a second.
    source = SqlSource(
        PG, query="SELECT count(*) AS c FROM generate_series(1, 10000000000) AS g"
    )

    with pytest.raises(SourceError, match=r"longer than 0.5 seconds"):
        preview_rows(source, 1, timeout=0.5)


# Where SQLite sources may be -------------------------------------------------


def test_sqlite_sources_are_off_until_a_folder_is_set(tmp_path, settings):
    settings.CREDIT_DATA_SQLITE_DIR = None
    _ledger(tmp_path / "ledger.db")

    with pytest.raises(SourceError) as caught:
        columns(SqlSource(f"sqlite:///{tmp_path}/ledger.db", table="invoices"))

    assert caught.value.message == SQLITE_OFF
    assert "CREDIT_DATA_SQLITE_DIR" in SQLITE_OFF


def test_the_apps_own_database_cannot_be_read_by_default(settings):
    """The exploit: the app's SQLite file holds sessions and password
    hashes."""
    settings.CREDIT_DATA_SQLITE_DIR = None
    own = settings.DATABASES["default"]["NAME"]

    with pytest.raises(SourceError) as caught:
        columns(SqlSource(f"sqlite:///{own}", table="django_session"))

    assert caught.value.message == SQLITE_OFF


def test_paths_outside_the_folder_are_refused_alike(sqlite_dir, tmp_path):
    """Existing and missing files outside the folder get the very same
    message, so the message tells nothing about which files exist."""
    outside = tmp_path / "outside.db"
    _ledger(outside)
    (sqlite_dir / "link.db").symlink_to(outside)
    urls = [
        f"sqlite:///{outside}",
        f"sqlite:///{tmp_path}/missing.db",
        "sqlite:///../outside.db",
        "sqlite:///../missing.db",
        f"sqlite:///{sqlite_dir}/../outside.db",
        "sqlite:///link.db",
        "sqlite:////etc/passwd",
        "sqlite:////no/such/file.db",
        "sqlite:///",
    ]

    messages = set()
    for url in urls:
        with pytest.raises(SourceError) as caught:
            columns(SqlSource(url, table="invoices"))
        messages.add(caught.value.message)

    assert messages == {SQLITE_REFUSED}


def test_relative_paths_are_read_from_the_folder(sqlite_dir):
    _ledger(sqlite_dir / "ledger.db")

    assert columns(SqlSource("sqlite:///ledger.db", table="invoices"))[0] == "inv"


def test_the_apps_database_and_var_dir_are_refused_even_in_the_folder(
    tmp_path, settings, monkeypatch
):
    """An administrator who names a folder holding the app's own files
    still cannot have them read."""
    var = tmp_path / "var"
    var.mkdir()
    settings.VAR_DIR = var
    settings.CREDIT_DATA_SQLITE_DIR = str(tmp_path)
    _ledger(var / "secret.db")
    _ledger(tmp_path / "app.db")
    _ledger(tmp_path / "ledger.db")
    app_database = {"ENGINE": "django.db.backends.sqlite3", "NAME": tmp_path / "app.db"}
    monkeypatch.setattr(django.conf.settings, "DATABASES", {"default": app_database})

    for url in (f"sqlite:///{var}/secret.db", "sqlite:///app.db", "sqlite:///var"):
        with pytest.raises(SourceError) as caught:
            columns(SqlSource(url, table="invoices"))
        assert caught.value.message == SQLITE_REFUSED, url
    assert columns(SqlSource("sqlite:///ledger.db", table="invoices"))[0] == "inv"


def test_a_folder_inside_var_dir_is_allowed(tmp_path, settings):
    var = tmp_path / "var"
    folder = var / "sqlite"
    folder.mkdir(parents=True)
    settings.VAR_DIR = var
    settings.CREDIT_DATA_SQLITE_DIR = str(folder)
    _ledger(folder / "ledger.db")
    _ledger(var / "other.db")

    assert columns(SqlSource("sqlite:///ledger.db", table="invoices"))[0] == "inv"
    with pytest.raises(SourceError, match="not allowed"):
        columns(SqlSource("sqlite:///../other.db", table="invoices"))


def test_postgres_url_of_the_apps_own_database_is_refused(monkeypatch):
    app_database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "test",
        "HOST": "localhost",
        "PORT": "",
    }
    monkeypatch.setattr(django.conf.settings, "DATABASES", {"default": app_database})

    for url in (
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgres://reader:pw@localhost/test",
        "postgresql://reader@[::1]:5432/test?sslmode=disable",
    ):
        with pytest.raises(SourceError) as caught:
            columns(SqlSource(url, table="invoices"), timeout=2)
        assert caught.value.message == OWN_DATABASE, url
    with pytest.raises(SourceError) as caught:
        columns(SqlSource("postgresql://postgres@127.0.0.1:1/test", table="t"))
    assert caught.value.message != OWN_DATABASE


def test_postgres_urls_may_not_name_local_files():
    url = "postgresql://u:pw@127.0.0.1:1/test?passfile=/etc/passwd&sslmode=disable"

    with pytest.raises(SourceError, match="may not set passfile") as caught:
        columns(SqlSource(url, table="t"))
    assert "pw" not in caught.value.message.replace("passfile", "")


# What messages may show ----------------------------------------------------


def test_env_urls_only_read_source_variables(monkeypatch):
    """The exploit: env:HOME echoed the value of HOME."""
    monkeypatch.setenv("HOME", "/root-secret-home")
    monkeypatch.setenv("CREDITOKR_SOURCE_HOME", "/root-secret-home")

    with pytest.raises(SourceError) as caught:
        columns(SqlSource("env:HOME", table="t"))
    assert "CREDITOKR_SOURCE_" in caught.value.message
    assert "secret" not in caught.value.message
    with pytest.raises(SourceError) as caught:
        columns(SqlSource("env:CREDITOKR_SOURCE_HOME", table="t"))
    assert "secret" not in caught.value.message
    assert "(hidden)" in caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "host=db.internal port=5432 dbname=ledger user=reader password=hunter2",
        "postgresql://reader:hunter2@db.internal:notaport/ledger",
        "hunter2",
    ],
)
def test_unreadable_urls_are_hidden(url, monkeypatch):
    monkeypatch.setenv("CREDITOKR_SOURCE_LEDGER", url)

    for given in (url, "env:CREDITOKR_SOURCE_LEDGER"):
        with pytest.raises(SourceError) as caught:
            columns(SqlSource(given, table="t"), timeout=2)
        assert "hunter2" not in caught.value.message
        assert "db.internal" not in caught.value.message
    assert redact_url(url) == "(hidden)"
    assert "hunter2" not in repr(SqlSource(url, table="t"))


def test_a_port_that_is_not_a_number_is_explained():
    url = "postgresql://u:p@127.0.0.1:notaport/test"

    with pytest.raises(SourceError, match="check the port") as caught:
        columns(SqlSource(url, table="t"))
    assert "notaport" not in caught.value.message


def test_forms_scrub_covers_env_urls(monkeypatch):
    monkeypatch.setenv("CREDITOKR_SOURCE_LEDGER", "postgresql://a:pw-123@db/x")
    message = "failed for postgresql://a:pw-123@db/x (password pw-123)"

    scrubbed = forms.scrub(message, "env:CREDITOKR_SOURCE_LEDGER")

    assert "pw-123" not in scrubbed
    assert "postgresql://a@db/x" in scrubbed
    key_value = "host=db password=pw-456"
    assert "pw-456" not in forms.scrub(f"bad: {key_value}", key_value)


def test_a_misspelt_table_is_named(sqlite_url):
    with pytest.raises(SourceError, match="no table or view named 'invoice'"):
        columns(SqlSource(sqlite_url, table="invoice"))


# Queries that change the session ---------------------------------------------

EXPLOIT = (
    "select i.inv || coalesce(set_config('default_transaction_read_only', "
    "'off', false), '') as inv from {table} i"
)


@pytest.mark.parametrize(
    "query",
    [
        EXPLOIT.format(table="s.invoices"),
        "SELECT pg_catalog.set_config('statement_timeout', '0', false) AS x",
        "SELECT PG_CATALOG.NEXTVAL('s.counter') AS n",
        "SELECT setval('s.counter', 5), currval('s.counter')",
        "SELECT pg_advisory_lock(1)",
        "SELECT lo_import('/etc/passwd')",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT * FROM pg_ls_dir('/')",
        "SELECT pg_stat_file('/etc/passwd')",
        "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
        "SELECT query_to_xml('delete from s.invoices returning 1', true, true, '')",
        "SELECT cursor_to_xml('c', 1, true, true, '')",
        "SELECT table_to_xmlschema('s.invoices', true, true, '')",
        "SELECT database_to_xml(true, true, '')",
        "SELECT schema_to_xml('s', true, true, '')",
        "SELECT pg_terminate_backend(1), pg_cancel_backend(1)",
        "SELECT pg_reload_conf()",
        "SELECT pg_sleep(5)",
        "SELECT \"set_config\"('a', 'b', false)",
    ],
)
def test_setting_and_state_functions_are_refused(query):
    with pytest.raises(SourceError, match="may not use"):
        check_query(query, "postgres")


def test_plain_functions_are_allowed():
    query = "SELECT upper(inv), coalesce(amount, 0), count(*) FROM s.t GROUP BY 1, 2"

    assert check_query(query, "postgres") == query


@needs_postgres
def test_the_read_only_exploit_is_refused_at_parse_time(pg_table):
    source = SqlSource(PG, query=EXPLOIT.format(table=pg_table))

    with pytest.raises(SourceError, match="set_config"):
        preview_rows(source, 1)


@needs_postgres
def test_a_query_cannot_make_later_statements_writable(pg_table, monkeypatch):
    """Even if a set_config got past the parser, every later transaction
    still begins read-only and with its own time limit."""
    schema = pg_table.split(".")[0]
    monkeypatch.setattr(sql_source, "check_query", lambda query, dialect: query)
    lift = (
        "SELECT set_config('default_transaction_read_only', 'off', false) AS a, "
        "set_config('statement_timeout', '0', false) AS c"
    )
    source = SqlSource(PG, query=lift)

    with sql_source._connect(source, timeout=1) as opened:
        assert opened.raw.to_pyarrow().to_pylist() == [{"a": "off", "c": "0"}]
        backend = opened.backend
        later = backend.sql(
            f"SELECT nextval('{schema}.counter') AS n",
            schema=ibis.schema({"n": "int64"}),
        )
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            later.to_pyarrow()
        slow = backend.sql(
            "SELECT count(*) AS c FROM generate_series(1, 10000000000) AS g",
            schema=ibis.schema({"c": "int64"}),
        )
        with pytest.raises(psycopg.errors.QueryCanceled):
            slow.to_pyarrow()
    with psycopg.connect(PG) as con:
        row = con.execute(f"SELECT is_called FROM {schema}.counter").fetchone()  # noqa: S608 - names and paths are quoted
    assert row == (False,)
