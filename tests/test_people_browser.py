"""Ordering, assigning and prioritising initiatives in a real browser.

Django's live test server on 127.0.0.1 serves the app, and Debian's
Chromium is driven through Playwright: the Move up button works from the
keyboard and keeps the focus, a drag with the mouse saves the new order
(SortableJS), and the inline Assign and priority controls save through
htmx. Skipped without Chromium; on CI (CI set) it fails instead.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from playwright.sync_api import Browser, Page, expect, sync_playwright

from creditokr.accounts.models import Role
from creditokr.okrs import services
from creditokr.okrs.models import Initiative
from tests.conftest import make_objective, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 15_000  # generous: a busy machine runs the suite in parallel


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed at /usr/bin/chromium on CI")
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    # Playwright's sync API runs an event loop in this thread; the test's
    # own database calls are plain synchronous ones all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--headless", "--no-sandbox", "--disable-gpu"],
                headless=True,
            )
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(autouse=True)
def _loopback(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture(autouse=True)
def _fresh_content_types():
    """A test that commits (as these do) empties the tables after it, and
    content types come back with new ids; the history must not write the
    cached old ones."""
    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()


@pytest.fixture
def live(live_server) -> str:
    """The live server's address, on the loopback interface."""
    url: str = live_server.url
    assert url.startswith(("http://localhost:", "http://127.0.0.1:")), url
    return url.replace("localhost", "127.0.0.1")


@pytest.fixture
def objective(quarter, teams, people):
    people["colleague"] = make_user("colleague", teams["credit_risk"], Role.MEMBER)
    objective = make_objective(quarter, teams["credit_risk"], people["manager"])
    for title in ("Alpha", "Bravo", "Charlie"):
        services.create_initiative(
            people["manager"], Initiative(objective=objective, title=title)
        )
    return objective


@pytest.fixture
def page(browser: Browser, live: str, objective) -> Iterator[Page]:
    context = browser.new_context(base_url=live)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"/objectives/{objective.pk}/")
    # Scripts are deferred: wait until they have set the page up.
    expect(page.locator("tbody[data-sortable-ready]")).to_have_count(1, timeout=WAIT_MS)
    yield page
    context.close()


def titles(objective) -> list[str]:
    rows = Initiative.objects.filter(objective=objective).order_by("position", "pk")
    return list(rows.values_list("title", flat=True))


def shown_titles(page: Page) -> list[str]:
    cells = page.locator("#initiatives tbody tr td:nth-child(2)")
    return [text.strip() for text in cells.all_inner_texts()]


def test_move_up_from_the_keyboard_saves_and_keeps_the_focus(page, objective):
    page.evaluate("window.stillTheSamePage = true")
    charlie_up = page.get_by_role("button", name="Move “Charlie” up")

    charlie_up.focus()
    page.keyboard.press("Enter")

    expect(page.locator("#initiatives [role=status]")).to_have_text(
        "Moved “Charlie” to place 2 of 3.", timeout=WAIT_MS
    )
    assert shown_titles(page) == ["Alpha", "Charlie", "Bravo"]
    assert titles(objective) == ["Alpha", "Charlie", "Bravo"]
    expect(page.get_by_role("button", name="Move “Charlie” up")).to_be_focused(
        timeout=WAIT_MS
    )
    assert page.evaluate("window.stillTheSamePage === true")


# Under a fully loaded machine (the whole suite in parallel) these two now and
# then see the page navigate instead of swapping the section; a rerun shows
# whether the fault is real. The cause is not found yet.
@pytest.mark.flaky(reruns=2)
def test_dragging_a_row_saves_the_new_order(page, objective):
    handle = page.locator("#initiatives tbody tr").nth(0).locator(".drag-handle")
    second_row = page.locator("#initiatives tbody tr").nth(1).bounding_box()
    assert second_row is not None

    # Drop Alpha at the foot of the row below, moving as a hand would.
    handle.hover()
    page.mouse.down()
    page.mouse.move(
        second_row["x"] + 20, second_row["y"] + second_row["height"] - 3, steps=15
    )
    page.mouse.up()

    expect(page.locator("#initiatives [role=status]")).to_have_text(
        "Order saved.", timeout=WAIT_MS
    )
    assert titles(objective) == ["Bravo", "Alpha", "Charlie"]
    assert shown_titles(page) == ["Bravo", "Alpha", "Charlie"]


@pytest.mark.flaky(reruns=2)
def test_assign_and_priority_change_inline(page, objective, people):
    bravo = Initiative.objects.get(title="Bravo")

    page.get_by_role("link", name="Assign “Bravo”").click()
    page.select_option(
        f"#assign-initiative-{bravo.pk}-person", str(people["colleague"].pk)
    )
    page.locator(f"#assign-initiative-{bravo.pk}-person").locator(
        "xpath=ancestor::form"
    ).get_by_role("button", name="Save").click()
    expect(page.locator("#initiatives [role=status]")).to_have_text(
        "Gave “Bravo” to Colleague.", timeout=WAIT_MS
    )
    expect(page.locator(f"#initiative_assign-{bravo.pk}")).to_contain_text("Colleague")
    expect(page.get_by_role("link", name="Assign “Bravo”")).to_be_focused(
        timeout=WAIT_MS
    )
    page.select_option(f"#priority-{bravo.pk}", "high")
    expect(page.locator("#initiatives [role=status]")).to_have_text(
        "“Bravo” is high priority.", timeout=WAIT_MS
    )

    bravo.refresh_from_db()
    assert bravo.assignee == people["colleague"]
    assert bravo.priority == "high"
    expect(page.locator(f"#priority-{bravo.pk}")).to_be_focused(timeout=WAIT_MS)
