"""Mapping the columns of a SQL source, checking it and saving it.

The ledger holds five invoices around FY2027 Q3 (1 Oct - 31 Dec 2026).
Standard DSO = AR at the month end / credit sales of the month x days, by
hand:

- September (30 days): sales I1 + I2 + I3 = 1,000 + 2,000 + 3,000 = 6,000;
  AR on 30 Sep: I2 (settled 10 Oct) 2,000 + I3 (open) 3,000 = 5,000
  (I1 was settled on 20 Sep); DSO = 5,000 / 6,000 x 30 = 25.
- October (31 days): sales I4 + I5 = 1,500 + 500 = 2,000; AR on 31 Oct:
  I3 3,000 + I4 1,500 = 4,500 (I2 settled 10 Oct, I5 settled on 31 Oct
  itself, so paid that day); DSO = 4,500 / 2,000 x 31 = 69.75.

September, the last month before the cycle, is a fed key result's
baseline; October is its one data check-in.
"""

import sqlite3
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser

import psycopg
import pytest
import time_machine
from django.urls import reverse

from creditokr.creditdata import credentials
from creditokr.creditdata.models import DataSource, KeyResultFeed, SourceKind
from creditokr.okrs.models import CheckIn
from tests.conftest import make_key_result
from tests.creditdata.conftest import POSTGRES_URL, postgres_reachable
from tests.creditdata.test_views_sources import SECRET, free_port, source_of

NOW = datetime(2026, 11, 16, 12, tzinfo=UTC)
INVOICES = [
    ("I1", "C1", "2026-09-05", "2026-10-05", 1000, "2026-09-20", "05/09/2026"),
    ("I2", "C1", "2026-09-15", "2026-10-15", 2000, "2026-10-10", "15/09/2026"),
    ("I3", "C2", "2026-09-25", "2026-10-25", 3000, None, "25/09/2026"),
    ("I4", "C2", "2026-10-10", "2026-11-09", 1500, None, "10/10/2026"),
    ("I5", "C3", "2026-10-20", "2026-11-19", 500, "2026-10-31", "20/10/2026"),
]
CREATE = (
    "CREATE TABLE {table} (doc_no TEXT, debtor TEXT, doc_date DATE, due DATE, "
    "gross DECIMAL(12, 2), cleared DATE, posted_on TEXT)"
)
INSERT = "INSERT INTO {table} VALUES ({marks})"
# What a browser sends for the mapping form of receivables.
COLUMNS = {
    "f-invoice_id-column": "doc_no",
    "f-customer_id-column": "debtor",
    "f-invoice_date-column": "doc_date",
    "f-due_date-column": "due",
    "f-amount-column": "gross",
    "f-settled_date-column": "cleared",
}
EXPLORE = {
    "kpi": "dso",
    "s-method": "standard",
    "s-month_days": "actual",
    "grain": "month",
    "start": "2026-09-01",
    "end": "2026-10-31",
}


def fill(con, table, marks="?"):
    con.execute(CREATE.format(table=table))
    row_marks = ", ".join(marks for _ in INVOICES[0])
    con.executemany(INSERT.format(table=table, marks=row_marks), INVOICES)


@pytest.fixture
def ledger_url(tmp_path):
    path = tmp_path / "ledger.db"
    with sqlite3.connect(path) as con:
        fill(con, "open_items")
    return f"sqlite:///{path}"


def sql_source(people, teams, url, table="open_items"):
    return source_of(
        teams["credit_risk"],
        people,
        name="AR ledger",
        dataset="receivables",
        kind=SourceKind.SQL,
        sql_url_encrypted=credentials.encrypt(url),
        sql_table=table,
    )


@pytest.fixture
def ledger(people, teams, ledger_url):
    return sql_source(people, teams, ledger_url)


@pytest.fixture
def dso_feed(public_objective, people, ledger):
    key_result = make_key_result(
        public_objective,
        people["member"],
        title="DSO under 20 days",
        unit="days",
        start_value=Decimal(30),
        target_value=Decimal(20),
    )
    KeyResultFeed.objects.create(
        key_result=key_result,
        source=ledger,
        kpi="dso",
        settings={"method": "standard"},
        created_by=people["manager"],
    )
    return key_result


def map_url(source):
    return reverse("data_source_mapping", args=[source.pk])


def dso_values(client, source):
    page = client.get(reverse("data_kpi", args=[source.pk]), EXPLORE)
    assert page.status_code == 200, page.context.get("error")
    return [(p.period.label, round(p.value, 4)) for p in page.context["outcome"].points]


def test_the_screen_shows_the_columns_their_types_and_first_rows(
    client, people, ledger
):
    client.force_login(people["manager"])

    page = client.get(map_url(ledger))

    assert page.status_code == 200
    assert page.context["header"] == [
        ("doc_no", "text"),
        ("debtor", "text"),
        ("doc_date", "date"),
        ("due", "date"),
        ("gross", "number"),
        ("cleared", "date"),
        ("posted_on", "text"),
    ]
    assert '<option value="doc_date">doc_date (date)</option>' in page.text
    first = page.context["preview_rows"][0]
    assert first[0] == 1
    assert first[1][:4] == ["I1", "C1", "2026-09-05", "2026-10-05"]
    assert "05/09/2026" in page.text


def test_saving_the_mapping_feeds_the_key_results(client, people, ledger, dso_feed):
    client.force_login(people["manager"])

    with time_machine.travel(NOW, tick=False):
        response = client.post(map_url(ledger), COLUMNS | {"action": "save"})

    assert response.status_code == 302
    assert response["Location"] == reverse("data_source_detail", args=[ledger.pk])
    ledger.refresh_from_db()
    assert ledger.mapping["fields"]["invoice_date"]["column"] == "doc_date"
    assert ledger.last_fingerprint
    assert ledger.last_delivery_at == NOW
    [check_in] = CheckIn.objects.filter(key_result=dso_feed, source="data")
    assert (check_in.as_of.isoformat(), check_in.value) == (
        "2026-10-31",
        Decimal("69.75"),
    )
    dso_feed.refresh_from_db()
    assert dso_feed.start_value == Decimal(25)
    page = client.get(response["Location"])
    assert (
        "Saved the mapping: 5 rows checked (data from 5 Sep 2026 to 20 Oct 2026). "
        "1 key result refreshed: 1 new check-in."
    ) in page.text
    assert dso_values(client, ledger) == [("2026-09", 25.0), ("2026-10", 69.75)]


class FormValues(HTMLParser):
    """What a browser would send for a page's form: text inputs, chosen
    options, textareas and ticked boxes (buttons are left out)."""

    def __init__(self):
        super().__init__()
        self.values = {}
        self.select = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            checkable = attrs.get("type") in ("checkbox", "radio")
            if not checkable or "checked" in attrs:
                self.values[name] = attrs.get("value", "")
        elif tag == "select":
            self.select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.values[self.select] = attrs.get("value", "")
        elif tag == "textarea":
            self.textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += data


def form_values(page):
    parser = FormValues()
    parser.feed(page.text)
    parser.values.pop("csrfmiddlewaretoken", None)
    return parser.values


def test_the_saved_mapping_comes_back_as_the_form_a_browser_sends(
    client, people, ledger
):
    client.force_login(people["manager"])
    client.post(map_url(ledger), COLUMNS | {"action": "save"})

    page = client.get(map_url(ledger))
    sent = form_values(page)
    checked = client.post(map_url(ledger), sent | {"action": "check"})

    assert {name: sent[name] for name in COLUMNS} == COLUMNS
    assert sent["f-credit_sale-true_values"] == "yes, true, 1, y"
    assert '<option value="gross" selected>gross (number)</option>' in page.text
    assert checked.status_code == 200
    assert "All 5 rows pass the check" in checked.text


def test_a_text_column_for_a_date_is_refused_next_to_its_field(
    client, people, ledger, dso_feed
):
    client.force_login(people["manager"])
    columns = COLUMNS | {"f-invoice_date-column": "posted_on"}

    response = client.post(map_url(ledger), columns | {"action": "save"})

    assert response.status_code == 400
    rows = {row.spec.name: row for row in response.context["rows"]}
    assert rows["invoice_date"].stored_as == "text"
    [message] = rows["invoice_date"].errors
    assert "'posted_on' (Invoice date) is stored as text" in message
    assert "CAST(posted_on AS DATE)" in message
    assert rows["due_date"].errors == []
    ledger.refresh_from_db()
    assert ledger.mapping == {}
    assert ledger.last_fingerprint == ""
    assert not CheckIn.objects.filter(key_result=dso_feed).exists()


def test_a_check_lists_bad_rows_by_key_and_saves_nothing(
    client, people, ledger, ledger_url
):
    # 205 invoices due 30 days before they were issued: 205 problems, the
    # first 200 listed.
    with sqlite3.connect(ledger_url.removeprefix("sqlite:///")) as con:
        con.executemany(
            "INSERT INTO open_items VALUES (?, 'C9', '2026-10-01', '2026-09-01', "
            "10, NULL, NULL)",
            [(f"B{n:03}",) for n in range(205)],
        )
    client.force_login(people["manager"])

    response = client.post(map_url(ledger), COLUMNS | {"action": "check"})

    assert response.status_code == 400
    result = response.context["result"]
    assert (result.rows, result.error_count) == (210, 205)
    errors = response.context["errors"]
    assert len(errors) == 200
    assert errors[0].key == {"invoice_id": "B000"}
    assert "Showing the first 200 of 205 problems." in response.text
    assert "invoice_id B000" in response.text
    ledger.refresh_from_db()
    assert ledger.mapping == {}


def test_a_clean_check_says_so_and_saves_nothing(client, people, ledger):
    client.force_login(people["manager"])

    response = client.post(map_url(ledger), COLUMNS | {"action": "check"})

    assert response.status_code == 200
    assert "All 5 rows pass the check" in response.text
    ledger.refresh_from_db()
    assert ledger.mapping == {}


def test_an_outsider_cannot_find_the_screen(client, people, ledger):
    client.force_login(people["outsider"])

    assert client.get(map_url(ledger)).status_code == 404
    response = client.post(map_url(ledger), COLUMNS | {"action": "save"})
    assert response.status_code == 404


def test_a_viewer_may_not_map_columns(client, people, ledger):
    client.force_login(people["viewer"])

    assert client.get(map_url(ledger)).status_code == 403
    response = client.post(map_url(ledger), COLUMNS | {"action": "save"})
    assert response.status_code == 403
    ledger.refresh_from_db()
    assert ledger.mapping == {}


def test_a_source_that_cannot_be_reached_is_explained_without_the_password(
    client, people, teams
):
    url = f"postgresql://credit:{SECRET}@127.0.0.1:{free_port()}/ledger"
    source = sql_source(people, teams, url, table="invoices")
    client.force_login(people["manager"])

    page = client.get(map_url(source))
    posted = client.post(map_url(source), COLUMNS | {"action": "save"})

    assert page.status_code == 200
    assert "The source cannot be read." in page.text
    assert "The database refused the request" in page.text
    assert posted.status_code == 400
    for response in (page, posted):
        assert SECRET not in response.text
    source.refresh_from_db()
    assert source.mapping == {}


def test_a_new_sql_source_goes_on_to_its_mapping(client, people, teams, ledger_url):
    client.force_login(people["manager"])

    response = client.post(
        reverse("data_source_create"),
        {
            "name": "AR ledger",
            "team": teams["credit_risk"].pk,
            "dataset": "receivables",
            "kind": SourceKind.SQL,
            "expected_every_days": "31",
            "refresh_every_hours": "24",
            "sql_url": ledger_url,
            "sql_table": "open_items",
        },
    )

    source = DataSource.objects.get(name="AR ledger")
    assert response.status_code == 302
    assert response["Location"] == map_url(source)


def test_the_source_page_links_managers_to_the_mapping(client, people, ledger):
    detail = reverse("data_source_detail", args=[ledger.pk])

    client.force_login(people["manager"])
    assert map_url(ledger) in client.get(detail).text
    client.force_login(people["viewer"])
    assert map_url(ledger) not in client.get(detail).text


def test_a_file_source_is_mapped_when_a_file_is_uploaded(client, people, teams):
    source = source_of(teams["credit_risk"], people, dataset="receivables")
    client.force_login(people["manager"])

    response = client.get(map_url(source))

    assert response.status_code == 302
    assert response["Location"] == reverse("data_upload", args=[source.pk])


@pytest.fixture
def postgres_ledger(people, teams):
    """The same ledger in a uniquely named PostgreSQL schema, dropped
    after."""
    if not postgres_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    schema = f"creditokr_map_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
        with con.cursor() as cursor:
            fill(cursor, f"{schema}.open_items", marks="%s")
    try:
        yield sql_source(people, teams, POSTGRES_URL, table=f"{schema}.open_items")
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


def test_the_same_flow_on_postgresql(client, people, postgres_ledger):
    client.force_login(people["manager"])
    page = client.get(map_url(postgres_ledger))
    assert ("gross", "number") in page.context["header"]
    assert ("posted_on", "text") in page.context["header"]

    refused = client.post(
        map_url(postgres_ledger),
        COLUMNS | {"f-amount-column": "posted_on", "action": "save"},
    )
    with time_machine.travel(NOW, tick=False):
        saved = client.post(map_url(postgres_ledger), COLUMNS | {"action": "save"})

    assert refused.status_code == 400
    rows = {row.spec.name: row for row in refused.context["rows"]}
    assert "CAST(posted_on AS NUMERIC)" in rows["amount"].errors[0]
    assert saved.status_code == 302
    postgres_ledger.refresh_from_db()
    assert postgres_ledger.mapping["fields"]["amount"]["column"] == "gross"
    assert postgres_ledger.last_delivery_at == NOW
    assert dso_values(client, postgres_ledger) == [
        ("2026-09", 25.0),
        ("2026-10", 69.75),
    ]
