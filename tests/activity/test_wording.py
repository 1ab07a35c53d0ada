"""Each kind of change reads naturally, from the row alone."""

from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from creditokr.accounts.models import Membership, Role, User
from creditokr.activity.history import entries
from creditokr.activity.models import ChangeRecord
from creditokr.activity.recording import attribute
from creditokr.activity.wording import describe
from creditokr.okrs import services
from creditokr.okrs.access import actor_for
from creditokr.okrs.models import Initiative
from tests.activity.conftest import last_row
from tests.conftest import TODAY, make_key_result, make_user


def test_a_check_in_reads_with_its_value_and_unit(people, public_objective):
    dso = make_key_result(
        public_objective,
        people["member"],
        title="DSO",
        unit="days",
        start_value=Decimal(50),
        target_value=Decimal(40),
    )

    check_in = services.record_check_in(
        people["member"], dso, as_of=TODAY, value=Decimal("41.20"), today=TODAY
    )

    assert describe(last_row(check_in)) == "Member recorded 41.2 days on “DSO”"


@pytest.mark.parametrize(
    ("done", "sentence"),
    [
        (True, "Member marked “Scorecard live” done"),
        (False, "Member recorded “Scorecard live” as not done yet"),
    ],
)
def test_a_milestone_check_in_says_done_or_not(
    people, public_objective, done, sentence
):
    milestone = make_key_result(
        public_objective,
        people["member"],
        title="Scorecard live",
        kind="milestone",
        start_value=None,
        target_value=None,
    )

    check_in = services.record_check_in(
        people["member"], milestone, as_of=TODAY, done=done, today=TODAY
    )

    assert describe(last_row(check_in)) == sentence


def test_a_large_amount_reads_with_its_currency(people, public_objective):
    recovered = make_key_result(
        public_objective,
        people["member"],
        title="Recoveries",
        kind="increase",
        unit="currency",
        currency_code="GBP",
        start_value=Decimal(0),
        target_value=Decimal(2_000_000),
    )

    check_in = services.record_check_in(
        people["member"],
        recovered,
        as_of=TODAY,
        value=Decimal("1250000.50"),
        today=TODAY,
    )

    assert describe(last_row(check_in)) == (
        "Member recorded 1,250,000.5 GBP on “Recoveries”"
    )


def test_memberships_read_as_who_made_whom_what(people, teams):
    bo = make_user("bo")
    collections = teams["collections"]
    membership = Membership(user=bo, team=collections, role=Role.MANAGER)
    attribute(membership, people["admin"])
    membership.save()
    made = last_row(membership)
    membership.role = Role.ADMIN
    attribute(membership, people["admin"])
    membership.save()
    promoted = last_row(membership)
    attribute(membership, people["admin"], "Moved to Sales")
    membership.delete()
    removed = ChangeRecord.objects.order_by("pk").last()

    assert describe(made) == "Admin made Bo a manager of Collections"
    assert describe(promoted) == "Admin made Bo an administrator (through Collections)"
    assert removed is not None
    assert describe(removed) == "Admin removed Bo from Collections"
    assert removed.reason == "Moved to Sales"


def test_joining_a_team_oneself_reads_as_joining(people, teams):
    bo = make_user("bo")
    membership = Membership(user=bo, team=teams["sales"], role=Role.MEMBER)
    attribute(membership, bo)
    membership.save()

    assert describe(last_row(membership)) == "Bo joined Sales as a member"


def test_accounts_read_as_deactivated_and_reactivated(people):
    viewer = people["viewer"]
    viewer.is_active = False
    attribute(viewer, people["admin"])
    viewer.save()
    deactivated = last_row(viewer)
    viewer.is_active = True
    viewer.save()

    assert describe(deactivated) == "Admin deactivated Viewer's account"
    assert describe(last_row(viewer)) == "CreditOKR reactivated Viewer's account"


def test_a_status_set_and_cleared_by_hand(people, public_objective):
    services.set_status_override(
        people["member"], public_objective, "at_risk", "Bureau feed late", 1
    )
    set_row = last_row(public_objective)
    services.set_status_override(people["member"], public_objective, "", "", 2)

    assert describe(set_row) == (
        "Member set the status of objective “Reduce 30+ delinquency” to At risk by hand"
    )
    assert describe(last_row(public_objective)) == (
        "Member cleared the status set by hand on objective “Reduce 30+ delinquency”"
    )


def test_several_fields_are_listed_in_the_forms_order(people, public_key_result):
    public_key_result.weight = Decimal(3)
    public_key_result.title = "30+ DPD rate"
    public_key_result.due_date = TODAY
    services.update_key_result(people["manager"], public_key_result, 1)

    assert describe(last_row(public_key_result)) == (
        "Manager changed the title, due date and weight of key result “30+ DPD rate”"
    )


def test_moving_an_initiative_in_the_list(people, public_objective):
    first, second = (
        Initiative.objects.create(objective=public_objective, title=t, position=n)
        for n, t in enumerate(["Call campaign", "Letters"])
    )

    services.reorder_initiatives(
        people["manager"], public_objective, [second.pk, first.pk]
    )

    assert describe(last_row(second)) == (
        "Manager moved initiative “Letters” in the list"
    )


def test_a_change_by_someone_since_deleted_names_their_email(people, quarter):
    leaver = make_user("leaver")
    quarter.name = "Autumn"
    attribute(quarter, leaver)
    quarter.save()
    row = last_row(quarter)
    leaver.delete()
    row.refresh_from_db()

    assert describe(row) == "leaver@example.test changed the name of cycle “Autumn”"


def test_sentences_and_entries_cost_no_query_per_row(
    people, public_key_result, django_assert_num_queries
):
    for n in range(5):
        services.record_check_in(
            people["member"],
            public_key_result,
            as_of=TODAY,
            value=Decimal(7) + n,
            today=TODAY,
        )
        public_key_result.owner = people["manager" if n % 2 else "member"]
        services.update_key_result(
            people["manager"], public_key_result, public_key_result.version
        )
    actor = actor_for(people["viewer"])
    records = list(ChangeRecord.objects.select_related("actor", "content_type"))

    with django_assert_num_queries(0):
        [describe(record) for record in records]
    # One query for the people named in owner changes, however many.
    with django_assert_num_queries(1):
        shown = entries(actor, records)

    owner_changes = Counter(
        (c.before, c.after) for entry in shown for c in entry.changes
    )
    member, manager = "Member (member)", "Manager (manager)"
    assert owner_changes == {(member, manager): 2, (manager, member): 2}


# The admin


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root", "root@example.test", "pw")


def test_superusers_read_the_history_in_the_admin_and_change_nothing(
    client, root, people, public_objective
):
    client.force_login(root)
    row = last_row(public_objective)
    change = reverse("admin:activity_changerecord_change", args=[row.pk])

    listing = client.get(reverse("admin:activity_changerecord_changelist"))
    opened = client.get(change)
    posted = client.post(change, {"reason": "rewritten"})
    added = client.get(reverse("admin:activity_changerecord_add"))
    deleted = client.post(
        reverse("admin:activity_changerecord_delete", args=[row.pk]), {"post": "yes"}
    )

    assert listing.status_code == 200
    assert "CreditOKR created objective “Reduce 30+ delinquency”" in (
        listing.content.decode()
    )
    assert opened.status_code == 200
    assert (posted.status_code, added.status_code, deleted.status_code) == (
        403,
        403,
        403,
    )
    row.refresh_from_db()
    assert row.reason == ""


def test_staff_who_are_not_superusers_do_not_see_the_history(client, people):
    staff = make_user("staff")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="activity")
    )
    client.force_login(staff)

    response = client.get(reverse("admin:activity_changerecord_changelist"))
    index = client.get(reverse("admin:index"))

    assert response.status_code == 403
    assert "activity" not in index.content.decode().lower()
