"""`creditokr import-data FILE --source NAME`: deliver a file to a source.

The same path as an upload in the app: the file is read, mapped onto the
source's canonical dataset and validated in full. Any problem is listed by
line and column and nothing changes; otherwise the source's data is
replaced and the key results it feeds are refreshed.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from creditokr.accounts.models import Membership, Role, Team, User
from creditokr.creditdata import services
from creditokr.creditdata.canonical import DATASETS
from creditokr.creditdata.ingest.errors import IngestError, MappingError
from creditokr.creditdata.ingest.mapping import Mapping, check_mapping
from creditokr.creditdata.ingest.readers import FileFormat, sniff
from creditokr.creditdata.models import DataSource, SourceKind


class Command(BaseCommand):
    help = "Import a CSV, XLSX or Parquet file into a credit data source."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="The file to import.")
        parser.add_argument("--source", required=True, help="The source's name.")
        parser.add_argument(
            "--mapping",
            type=Path,
            help="A JSON file mapping the file's columns onto the dataset "
            "(default: the mapping the source last used).",
        )
        parser.add_argument(
            "--create",
            action="store_true",
            help="Create the source first (needs --dataset, --team, --mapping).",
        )
        parser.add_argument("--dataset", choices=sorted(DATASETS))
        parser.add_argument("--team", help="The team the new source belongs to.")
        parser.add_argument("--delimiter", help="CSV delimiter, if not detected.")
        parser.add_argument("--encoding", help="File encoding, if not detected.")
        parser.add_argument("--sheet", help="XLSX sheet (default: the first).")
        parser.add_argument(
            "--user",
            help="Username recorded as importer (default: the first administrator).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        user = _importer(options["user"])
        source = _source(options, user)
        if source.kind != SourceKind.FILE:
            raise CommandError(f"{source} reads a SQL database; it takes no files.")

        mapping = _mapping(options["mapping"], source)
        try:
            sniffed = sniff(path, path.name, overrides=_overrides(options))
        except IngestError as error:
            raise CommandError(f"{path.name}: {error.message}") from None
        problems = check_mapping(mapping, sniffed.columns)
        if problems:
            lines = "\n".join(f"  {problem.message}" for problem in problems)
            raise CommandError(f"The mapping does not fit {path.name}:\n{lines}")

        outcome = services.deliver_file(
            user, source, path, path.name, sniffed.format, mapping
        )
        result = outcome.result
        if not outcome.accepted:
            for row_error in result.errors:
                self.stderr.write(f"  {row_error.message}")
            shown = len(result.errors)
            more = result.error_count - shown
            tail = f" (the first {shown} are listed)" if more > 0 else ""
            count = result.error_count
            counted = "1 problem" if count == 1 else f"{count} problems"
            raise CommandError(
                f"{path.name} was not imported: {counted}{tail}. Nothing was changed."
            )

        data_import = outcome.data_import
        assert data_import is not None
        self.stdout.write(
            f"Imported {data_import.rows} rows into {source} "
            f"(data from {data_import.data_start} to {data_import.data_end})."
        )
        for refreshed in outcome.refreshed:
            key_result = refreshed.feed.key_result
            if refreshed.error:
                self.stdout.write(f"  {key_result}: not refreshed: {refreshed.error}")
            else:
                self.stdout.write(
                    f"  {key_result}: {refreshed.written} new check-ins, "
                    f"{refreshed.unchanged} unchanged"
                )


def _importer(username: str | None) -> User:
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user is called {username!r}.")
        return user
    admin_ids = Membership.objects.filter(role=Role.ADMIN).values("user_id")
    user = (
        User.objects.filter(is_active=True, pk__in=admin_ids).order_by("pk").first()
        or User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
    )
    if user is None:
        raise CommandError("There is no administrator yet; give --user.")
    return user


def _source(options: dict[str, Any], user: User) -> DataSource:
    name = options["source"]
    existing = DataSource.objects.filter(name=name).first()
    if not options["create"]:
        if existing is None:
            raise CommandError(
                f"No source is called {name!r}. Use --create to make one."
            )
        return existing
    if existing is not None:
        raise CommandError(f"A source called {name!r} exists already.")
    if not (options["dataset"] and options["team"] and options["mapping"]):
        raise CommandError("--create needs --dataset, --team and --mapping.")
    team = Team.objects.filter(name=options["team"]).first()
    if team is None:
        raise CommandError(f"No team is called {options['team']!r}.")
    return DataSource(
        name=name,
        team=team,
        dataset=options["dataset"],
        kind=SourceKind.FILE,
        created_by=user,
    )


def _mapping(path: Path | None, source: DataSource) -> Mapping:
    if path is None:
        if not source.mapping:
            raise CommandError(f"{source} has no mapping yet; give --mapping.")
        raw: Any = source.mapping
    else:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{path} is not a readable JSON file: {error}") from None
    try:
        mapping = Mapping.from_dict(raw)
    except MappingError as error:
        raise CommandError(f"The mapping is not valid: {error}") from None
    if mapping.dataset != source.dataset:
        raise CommandError(
            f"The mapping is for {mapping.dataset}, but {source} holds "
            f"{source.dataset}."
        )
    if source.pk is None:
        source.save()
    return mapping


def _overrides(options: dict[str, Any]) -> FileFormat:
    return FileFormat(
        encoding=options.get("encoding") or None,
        delimiter=options.get("delimiter") or None,
        sheet=options.get("sheet") or None,
    )
