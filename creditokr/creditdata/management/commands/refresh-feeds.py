"""`creditokr refresh-feeds`: recompute the key results fed by credit data.

Without options, every feed is recomputed from its source's current data.
Values already on record are not written again.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from creditokr.creditdata import services
from creditokr.creditdata.models import DataSource, KeyResultFeed


class Command(BaseCommand):
    help = "Recompute key results fed by credit data; writes only new values."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--source", help="Only the feeds of this source.")

    def handle(self, *args: Any, **options: Any) -> None:
        feeds = KeyResultFeed.objects.select_related("key_result", "source")
        if options["source"]:
            source = DataSource.objects.filter(name=options["source"]).first()
            if source is None:
                raise CommandError(f"No source is called {options['source']!r}.")
            outcomes = services.refresh_source_feeds(source)
        else:
            outcomes = [services.refresh_feed(feed) for feed in feeds]
        failed = 0
        for outcome in outcomes:
            key_result = outcome.feed.key_result
            if outcome.error:
                failed += 1
                self.stdout.write(f"{key_result}: not refreshed: {outcome.error}")
            else:
                self.stdout.write(
                    f"{key_result}: {outcome.written} new check-ins, "
                    f"{outcome.unchanged} unchanged"
                )
        if failed:
            raise CommandError(f"{failed} feeds could not be refreshed.")
