"""Every URL, for every role and both objective visibilities.

The expected outcomes below are written out from the access rules, not
derived from the code: viewers read; members check in on and edit what they
own or are assigned; managers edit their team's objectives; admins do
everything. A team-only objective is a 404 for people outside its team, the
same answer as for something that does not exist, and its title appears on
no page they can open.

A guard test fails when a URL is added without a row here.
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from creditokr.accounts.models import Invitation, Role
from creditokr.calendars.feeds import create_feed
from creditokr.calendars.models import FeedScope
from creditokr.collab.access import Thread
from creditokr.collab.services import post_comment
from creditokr.creditdata.models import DataSource, KeyResultFeed
from creditokr.creditdata.services import upload_folder
from creditokr.okrs.models import Initiative, Visibility
from creditokr.okrs.services import record_check_in
from tests.conftest import make_key_result, make_objective, make_user

PERSONAS = ["admin", "manager", "member", "colleague", "viewer", "outsider"]
PLANNERS = {"admin", "manager"}
OKR_EDITORS = {"admin", "manager", "member"}  # member owns everything below
CONTRIBUTORS = {"admin", "manager", "member", "colleague", "outsider"}
EVERYONE = set(PERSONAS)
TEAM = {"admin", "manager", "member", "colleague", "viewer"}  # sees team-only

# The answer to an allowed request: 200 for pages, 302 for POST actions.
PAGE, ACTION = 200, 302


@dataclass(frozen=True)
class Route:
    method: str
    target: str  # which object's pk the URL takes
    allowed: frozenset[str]
    success: int = PAGE
    htmx: bool = False
    data: tuple[tuple[str, str], ...] = ()


def route(method: str, target: str, allowed: set[str], **options: object) -> Route:
    return Route(method, target, frozenset(allowed), **options)  # type: ignore[arg-type]


MATRIX: dict[str, Route] = {
    "dashboard": route("GET", "", EVERYONE),
    "my_work": route("GET", "", EVERYONE),
    "profile": route("GET", "", EVERYONE),
    "password_change": route("GET", "", EVERYONE),
    "password_change_done": route("GET", "", EVERYONE),
    "objective_detail": route("GET", "objective", EVERYONE),
    "key_result_history": route("GET", "key_result", EVERYONE, htmx=True),
    "objective_create": route("GET", "", CONTRIBUTORS),
    "objective_edit": route("GET", "objective", OKR_EDITORS),
    "objective_status": route("GET", "objective", OKR_EDITORS),
    "objective_archive": route(
        "POST", "objective", OKR_EDITORS, success=ACTION, data=(("action", "archive"),)
    ),
    "key_result_create": route("GET", "objective", OKR_EDITORS),
    "key_result_edit": route("GET", "key_result", OKR_EDITORS),
    "key_result_archive": route(
        "POST", "key_result", OKR_EDITORS, success=ACTION, data=(("action", "archive"),)
    ),
    "archived_key_results": route("GET", "objective", EVERYONE, htmx=True),
    # The change history: everyone reads the changes they may see; an
    # objective's history is hidden exactly as the objective is.
    "objective_history": route("GET", "objective", EVERYONE),
    "activity_feed": route("GET", "", EVERYONE),
    # Archive and restore are confirmed on a page showing the roll-up
    # effect; delete is for administrators alone; anyone who may create
    # objectives in the team (members and up, the colleague too) copies one.
    "objective_archive_confirm": route(
        "GET", "objective", OKR_EDITORS, data=(("action", "archive"),)
    ),
    "key_result_archive_confirm": route(
        "GET", "key_result", OKR_EDITORS, data=(("action", "archive"),)
    ),
    "objective_delete": route("GET", "objective", {"admin"}),
    "key_result_delete": route("GET", "key_result", {"admin"}),
    "objective_duplicate": route("GET", "objective", OKR_EDITORS | {"colleague"}),
    "check_in_create": route("GET", "key_result", OKR_EDITORS),
    "initiative_create": route("GET", "objective", OKR_EDITORS),
    "initiative_edit": route("GET", "initiative", OKR_EDITORS),
    "cycle_list": route("GET", "", EVERYONE),
    "cycle_detail": route("GET", "cycle", EVERYONE),
    "cycle_create": route("GET", "", {"admin"}),
    "cycle_next": route("POST", "cycle", PLANNERS, success=ACTION),
    "cycle_state": route(
        "POST",
        "cycle",
        PLANNERS,
        success=ACTION,
        data=(("state", "in_review"), ("confirm", "yes")),
    ),
    "cadence_edit": route("GET", "cadence", PLANNERS),
    "cycle_start_from_template": route("GET", "cycle", PLANNERS),
    # Credit data: a source belongs to Credit Risk, whose members (any role)
    # see it and whose managers change it; an outsider gets 404.
    "data_sources": route("GET", "", EVERYONE),
    "data_source_create": route("GET", "", PLANNERS),
    "data_source_detail": route("GET", "source", TEAM),
    "data_source_edit": route("GET", "source", PLANNERS),
    # The source feeds key results, so a manager's delete is refused with a
    # message (302 back to it); others get 403 or 404.
    "data_source_delete": route(
        "POST", "source", PLANNERS, success=ACTION, data=(("confirm", "yes"),)
    ),
    # The source above is a file source: its columns are mapped with each
    # upload, so the SQL mapping screen sends managers there.
    "data_source_mapping": route("GET", "source", PLANNERS, success=ACTION),
    "data_upload": route("GET", "source", PLANNERS),
    "data_upload_map": route("GET", "upload", PLANNERS),
    "data_kpi": route("GET", "source", TEAM),
    "data_feed": route("GET", "key_result", OKR_EDITORS),
    "data_feed_stop": route("POST", "key_result", OKR_EDITORS, success=ACTION),
    "data_feed_refresh": route("POST", "key_result", OKR_EDITORS, success=ACTION),
    # Calendars: everyone makes and revokes their own feeds. Revoking names
    # a feed of yours in the form; none is named here, which is a 404, the
    # same answer as for someone else's feed.
    "calendar_list": route("GET", "", EVERYONE),
    "calendar_feed_create": route(
        "POST", "", EVERYONE, success=ACTION, data=(("scope", "person"),)
    ),
    "calendar_feed_revoke": route("POST", "", EVERYONE, success=404),
    "cadence_cancel": route(
        "POST", "cadence", PLANNERS, success=ACTION, data=(("confirm", "yes"),)
    ),
    "cadence_restore": route("POST", "cadence", PLANNERS, success=ACTION),
    "cadence_invite": route("POST", "cadence", PLANNERS, success=ACTION),
    # Reminders: everyone chooses their own notifications.
    "notification_preferences": route("GET", "", EVERYONE),
    # People: everyone sees who carries what in a team (counted as they may
    # see it); its managers assign its work in bulk and invite people, with
    # administrators, who alone deactivate and reactivate people. Assigning
    # one item, or its priority, is for those who may change it; ordering an
    # objective's initiatives, for those who may change the objective (the
    # member owns it). Sending an order the page did not draw is refused
    # with a message, a 302 back to the objective like a success.
    "team_list": route("GET", "", EVERYONE),
    "team_detail": route("GET", "team", EVERYONE),
    "team_work": route("GET", "team", PLANNERS),
    "initiative_assign": route("GET", "initiative", OKR_EDITORS),
    "key_result_assign": route("GET", "key_result", OKR_EDITORS),
    "initiative_priority": route(
        "POST",
        "initiative",
        OKR_EDITORS,
        success=ACTION,
        data=(("priority", "high"), ("version", "1")),
    ),
    "initiative_order": route("POST", "objective", OKR_EDITORS, success=ACTION),
    "invitation_list": route("GET", "", PLANNERS),
    "invitation_revoke": route("POST", "invitation", PLANNERS, success=ACTION),
    "invitation_resend": route("POST", "invitation", PLANNERS, success=ACTION),
    "person_list": route("GET", "", {"admin"}),
    "person_deactivate": route("GET", "person", {"admin"}),
    "person_reactivate": route("POST", "person", {"admin"}, success=ACTION),
    # Comments: anyone who sees an objective reads and writes its threads,
    # viewers included; the member wrote the comment below, so only they
    # edit it, and they or an administrator remove it.
    "objective_comments": route("GET", "objective", EVERYONE),
    "key_result_comments": route(
        "POST", "key_result", EVERYONE, success=ACTION, data=(("body", "Why?"),)
    ),
    "check_in_comments": route("GET", "check_in", EVERYONE, htmx=True),
    "comment_edit": route("GET", "comment", {"member"}),
    "comment_delete": route("POST", "comment", {"member", "admin"}, success=ACTION),
    "objective_follow": route(
        "POST", "objective", EVERYONE, success=ACTION, data=(("action", "follow"),)
    ),
    # Everyone reads and marks their own notifications.
    "notifications": route("GET", "", EVERYONE),
    "notifications_read": route(
        "POST", "", EVERYONE, success=ACTION, data=(("all", "1"),)
    ),
}
# Sign-in and sign-out are open to anyone by design.
OPEN = {"login", "logout"}
# A calendar feed answers without sign-in, but only to its secret token
# (tested at the end of this file).
OPEN |= {"calendar_feed"}
# An unsubscribe link answers without sign-in, but only to a token signed
# for one person and kind (tested at the end of this file).
OPEN |= {"reminder_unsubscribe"}
# An invitation's link answers without sign-in, but only to its token
# (tested in test_people_invitations.py).
OPEN |= {"invitation_accept"}
OBJECT_TARGETS = {"objective", "key_result", "initiative", "check_in", "comment"}
SOURCE_TARGETS = {"source", "upload"}  # hidden from people outside the team
UPLOAD_TOKEN = "0123456789abcdef" * 2


def all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin":
                    walk(pattern.url_patterns)
            elif pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_has_a_row_in_the_matrix():
    assert all_url_names() == set(MATRIX) | OPEN


@pytest.fixture
def world(people, teams, quarter, settings, tmp_path):
    """One objective of each visibility, each with a key result, a check-in
    and an initiative, all owned by (or assigned to) the member persona;
    a data source of Credit Risk with an upload waiting to be mapped, and
    a feed on each key result."""
    people["colleague"] = make_user("colleague", teams["credit_risk"], Role.MEMBER)
    member = people["member"]
    source = credit_data_source(people, teams, settings, tmp_path)
    objects = {}
    for visibility in Visibility:
        objective = make_objective(
            quarter,
            teams["credit_risk"],
            member,
            title=f"Objective seen by {visibility.label}",
            visibility=visibility,
        )
        key_result = make_key_result(
            objective, member, title=f"Key result seen by {visibility.label}"
        )
        with time_machine.travel(datetime(2026, 11, 15, 12, tzinfo=UTC), tick=False):
            record_check_in(
                member, key_result, as_of=date(2026, 11, 14), value=Decimal(7)
            )
        initiative = Initiative.objects.create(
            objective=objective,
            key_result=key_result,
            title=f"Initiative seen by {visibility.label}",
            assignee=member,
        )
        KeyResultFeed.objects.create(
            key_result=key_result,
            source=source,
            kpi="delinquency_rate",
            created_by=people["manager"],
        )
        objects[visibility] = {
            "objective": objective,
            "key_result": key_result,
            "initiative": initiative,
            "cycle": quarter,
            "cadence": quarter.cadence_events.first(),
            "source": source,
            "upload": source,
            "team": teams["credit_risk"],
            "invitation": matrix_invitation(people["manager"], teams["credit_risk"]),
            "person": people["colleague"],
            "check_in": key_result.check_ins.get(),
            "comment": post_comment(member, Thread(objective), "A question"),
        }
    return objects


def credit_data_source(people, teams, settings, tmp_path) -> DataSource:
    """A file source with an upload waiting under UPLOAD_TOKEN."""
    settings.CREDIT_DATA_DIR = tmp_path / "credit-data"
    source = DataSource.objects.create(
        name="Card tape",
        team=teams["credit_risk"],
        dataset="account_snapshots",
        created_by=people["manager"],
    )
    folder = upload_folder()
    (folder / UPLOAD_TOKEN).write_text("account,as_of\nA1,2026-10-31\n")
    note = {"source": source.pk, "file_name": "tape.csv"}
    (folder / f"{UPLOAD_TOKEN}.json").write_text(json.dumps(note))
    return source


def url_args(row: Route, target: Any) -> list[Any]:
    if not row.target:
        return []
    if row.target == "upload":
        return [target.pk, UPLOAD_TOKEN]
    if row.target == "team":
        return [target.slug]
    return [target.pk]


def matrix_invitation(manager, team) -> Invitation:
    """An invitation to the team from its manager, waiting to be accepted."""
    invitation, _ = Invitation.objects.get_or_create(
        token_hash="0" * 64,
        defaults={
            "email": "new.person@example.test",
            "team": team,
            "invited_by": manager,
            "expires_at": datetime(2026, 11, 20, tzinfo=UTC),
        },
    )
    return invitation


def expected_status(name: str, persona: str, visibility: Visibility) -> int:
    row = MATRIX[name]
    hidden = visibility == Visibility.TEAM and persona not in TEAM
    if hidden and row.target in OBJECT_TARGETS:
        return 404
    if row.target in SOURCE_TARGETS and persona not in TEAM:
        return 404
    return row.success if persona in row.allowed else 403


CASES = [
    (name, persona, visibility)
    for name, row in MATRIX.items()
    for persona in PERSONAS
    for visibility in (
        list(Visibility) if row.target in OBJECT_TARGETS else [Visibility.ORGANISATION]
    )
]


@pytest.mark.parametrize(("name", "persona", "visibility"), CASES)
def test_access_matrix(client, people, world, name, persona, visibility):
    row = MATRIX[name]
    args = url_args(row, world[visibility].get(row.target))
    headers = {"HX-Request": "true"} if row.htmx else {}
    client.force_login(people[persona])

    with time_machine.travel(datetime(2026, 11, 16, 12, tzinfo=UTC), tick=False):
        send = client.post if row.method == "POST" else client.get
        response = send(reverse(name, args=args), dict(row.data), headers=headers)

    assert response.status_code == expected_status(name, persona, visibility)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_signed_out_visitors_are_sent_to_sign_in(client, world, name):
    row = MATRIX[name]
    args = url_args(row, world[Visibility.ORGANISATION].get(row.target))

    send = client.post if row.method == "POST" else client.get
    response = send(reverse(name, args=args))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


PAGES_THAT_LIST = [
    ("dashboard", None),
    ("dashboard", "?status=off_track"),
    ("dashboard", "?show_archived=1"),
    ("my_work", None),
    ("cycle_list", None),
    ("cycle_detail", "cycle"),
    ("objective_detail", "parent"),
    ("objective_history", "parent"),
    ("activity_feed", None),
]


@pytest.mark.parametrize(("name", "target"), PAGES_THAT_LIST)
def test_a_team_only_objective_appears_on_no_page_for_an_outsider(
    client, people, world, name, target
):
    hidden = world[Visibility.TEAM]
    public = world[Visibility.ORGANISATION]
    hidden["objective"].parent = public["objective"]
    hidden["objective"].save()
    query = target if target and target.startswith("?") else ""
    args = []
    if target == "cycle":
        args = [public["cycle"].pk]
    elif target == "parent":
        args = [public["objective"].pk]
    client.force_login(people["outsider"])

    with time_machine.travel(datetime(2026, 11, 16, 12, tzinfo=UTC), tick=False):
        page = client.get(reverse(name, args=args) + query)

    assert page.status_code == 200
    for item in ("objective", "key_result", "initiative"):
        assert str(hidden[item]) not in page.text
    assert "Initiative seen by Whole organisation" in page.text or name not in {
        "objective_detail",
        "objective_history",
        "activity_feed",
    }


@pytest.mark.parametrize("name", ["dashboard", "objective_detail", "my_work"])
def test_a_hidden_parent_is_not_named_under_its_visible_child(
    client, people, world, name
):
    hidden_parent = world[Visibility.TEAM]["objective"]
    child = world[Visibility.ORGANISATION]["objective"]
    child.parent = hidden_parent
    child.save()
    args = [child.pk] if name == "objective_detail" else []
    client.force_login(people["outsider"])

    with time_machine.travel(datetime(2026, 11, 16, 12, tzinfo=UTC), tick=False):
        page = client.get(reverse(name, args=args))

    assert page.status_code == 200
    assert hidden_parent.title not in page.text
    if name != "my_work":
        assert child.title in page.text


@pytest.mark.parametrize("pk", ["9223372036854775808", "99999999999999999999", "0"])
@pytest.mark.parametrize("name", sorted(n for n, r in MATRIX.items() if r.target))
def test_an_id_the_database_cannot_hold_is_not_found(client, people, name, pk):
    row = MATRIX[name]
    sample = [1, UPLOAD_TOKEN] if row.target == "upload" else [1]
    path = reverse(name, args=sample).replace("/1/", f"/{pk}/", 1)
    client.force_login(people["admin"])

    send = client.post if row.method == "POST" else client.get
    response = send(path, dict(row.data))

    assert response.status_code == 404


@pytest.mark.parametrize("persona", [None, *PERSONAS])
def test_a_calendar_feed_answers_anyone_with_its_token_and_only_that(
    client, people, world, persona
):
    _feed, token = create_feed(people["member"], FeedScope.PERSON)
    if persona is not None:
        client.force_login(people[persona])

    with time_machine.travel(datetime(2026, 11, 16, 12, tzinfo=UTC), tick=False):
        valid = client.get(reverse("calendar_feed", args=[token]))
        wrong = client.get(reverse("calendar_feed", args=[token + "0"]))

    assert valid.status_code == 200
    assert wrong.status_code == 404


def test_a_team_only_objective_appears_in_no_feed_of_an_outsider(client, people, world):
    hidden = world[Visibility.TEAM]
    outsider = people["outsider"]
    hidden["initiative"].assignee = outsider  # even work given to them
    hidden["initiative"].due_date = date(2026, 12, 1)
    hidden["initiative"].save()
    tokens = [
        create_feed(outsider, FeedScope.PERSON)[1],
        create_feed(outsider, FeedScope.CYCLE, cycle=hidden["cycle"])[1],
        create_feed(outsider, FeedScope.TEAM, team=outsider.memberships.get().team)[1],
    ]

    with time_machine.travel(datetime(2026, 11, 16, 12, tzinfo=UTC), tick=False):
        feeds = [client.get(reverse("calendar_feed", args=[t])) for t in tokens]

    for feed in feeds:
        assert feed.status_code == 200
        for item in ("objective", "key_result", "initiative"):
            assert str(hidden[item]).encode() not in feed.content
    assert b"Key result seen by Whole organisation" in feeds[1].content


@pytest.mark.parametrize("persona", [None, *PERSONAS])
def test_an_unsubscribe_link_answers_anyone_with_its_token_and_only_that(
    client, people, world, persona
):
    from creditokr.reminders.models import Preference
    from creditokr.reminders.tokens import make_token

    token = make_token(people["member"].pk, "deadline")
    if persona is not None:
        client.force_login(people[persona])

    valid = client.get(reverse("reminder_unsubscribe", args=[token]))
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    wrong = client.post(reverse("reminder_unsubscribe", args=[tampered]))

    assert valid.status_code == 200
    assert wrong.status_code == 404
    assert not Preference.objects.exists()
