"""The feed pages: making, showing once, revoking, and who may read a feed."""

import hashlib

import pytest
from django.urls import reverse

from creditokr.accounts.models import Membership
from creditokr.calendars.feeds import revoke_feed
from creditokr.calendars.models import CalendarFeed, FeedScope
from tests.calendars.conftest import fetch, make_feed

LIST = reverse("calendar_list")
CREATE = reverse("calendar_feed_create")
REVOKE = reverse("calendar_feed_revoke")


def feed_of(token: str) -> CalendarFeed:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return CalendarFeed.objects.get(token_hash=digest)


def test_making_a_feed_shows_its_address_once(client, people):
    client.force_login(people["member"])

    response = client.post(CREATE, {"scope": "person"})
    first = client.get(LIST)
    second = client.get(LIST)

    assert response.status_code == 302
    feed = CalendarFeed.objects.get(owner=people["member"])
    prefix = "https://okr.example.test/calendar/"
    start = first.text.index(prefix)
    url = first.text[start : first.text.index('"', start)]
    token = url.removeprefix(prefix).removesuffix(".ics")
    assert len(token) == 43  # 32 random bytes in URL-safe base64
    assert feed_of(token) == feed
    assert prefix not in second.text
    assert "Member (CreditOKR)" in second.text


def test_only_a_hash_of_the_token_is_stored(people):
    token = make_feed(people["member"])

    feed = CalendarFeed.objects.get(owner=people["member"])
    assert token not in str(CalendarFeed.objects.values().get(pk=feed.pk))
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_a_team_feed_is_only_for_a_team_you_belong_to(client, people, teams):
    client.force_login(people["outsider"])

    refused = client.post(CREATE, {"scope": "team", "team": teams["credit_risk"].pk})
    allowed = client.post(CREATE, {"scope": "team", "team": teams["sales"].pk})

    assert refused.status_code == 400
    assert "Pick one of your teams." in refused.text
    assert allowed.status_code == 302
    assert list(CalendarFeed.objects.values_list("scope", "team")) == [
        ("team", teams["sales"].pk)
    ]


def test_a_cycle_feed_needs_a_cycle(client, people, teams, quarter):
    client.force_login(people["viewer"])

    missing = client.post(CREATE, {"scope": "cycle"})
    # A team left in the form from another choice does not matter.
    stale = teams["sales"].pk
    made = client.post(CREATE, {"scope": "cycle", "cycle": quarter.pk, "team": stale})

    assert missing.status_code == 400
    assert "Pick the cycle whose calendar you want." in missing.text
    assert made.status_code == 302
    feed = CalendarFeed.objects.get()
    assert (feed.scope, feed.cycle, feed.team) == ("cycle", quarter, None)


def test_revoking_a_feed_stops_it(client, people):
    token = make_feed(people["member"])
    client.force_login(people["member"])
    assert fetch(client, token).status_code == 200

    response = client.post(REVOKE, {"feed": feed_of(token).pk})

    assert response.status_code == 302
    assert fetch(client, token).status_code == 404
    assert feed_of(token).revoked_at is not None
    assert "Member (CreditOKR)" not in client.get(LIST).text


def test_nobody_revokes_someone_elses_feed(client, people):
    token = make_feed(people["member"])
    client.force_login(people["admin"])

    response = client.post(REVOKE, {"feed": feed_of(token).pk})

    assert response.status_code == 404
    assert feed_of(token).revoked_at is None
    assert fetch(client, token).status_code == 200


@pytest.mark.parametrize("value", ["", "abc", "0", "99999999999999999999"])
def test_revoking_without_a_feed_of_yours_is_not_found(client, people, value):
    client.force_login(people["member"])

    assert client.post(REVOKE, {"feed": value}).status_code == 404


def test_an_unknown_token_is_not_found(client, people):
    make_feed(people["member"])

    assert fetch(client, "x" * 43).status_code == 404
    assert client.get("/calendar/.ics").status_code == 404


def test_a_deactivated_owners_feed_is_not_found(client, people):
    token = make_feed(people["member"])
    people["member"].is_active = False
    people["member"].save()

    assert fetch(client, token).status_code == 404


def test_a_team_feed_stops_when_its_owner_leaves_the_team(client, people, teams):
    token = make_feed(people["member"], FeedScope.TEAM, team=teams["credit_risk"])
    assert fetch(client, token).status_code == 200

    Membership.objects.filter(user=people["member"]).delete()

    assert fetch(client, token).status_code == 404


def test_the_feed_needs_no_sign_in_but_the_pages_do(client, people):
    token = make_feed(people["member"])

    assert fetch(client, token).status_code == 200
    for page in (LIST, CREATE, REVOKE):
        response = client.post(page) if page != LIST else client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_reading_a_feed_records_when(client, people):
    token = make_feed(people["member"])
    assert feed_of(token).last_fetched_at is None

    fetch(client, token)

    assert feed_of(token).last_fetched_at is not None


def test_the_list_shows_only_my_live_feeds(client, people):
    make_feed(people["member"])
    revoke_feed(feed_of(make_feed(people["member"])))
    make_feed(people["manager"])
    client.force_login(people["member"])

    page = client.get(LIST)

    assert page.status_code == 200
    assert page.text.count('name="feed"') == 1
    assert "Manager (CreditOKR)" not in page.text
