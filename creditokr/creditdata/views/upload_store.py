"""Uploaded files waiting to be mapped and imported.

An upload is kept in the uploads folder under a random name, never the
name the person gave it, next to a small JSON note of the source it is for
and its original name. It lives until it is imported or for a day,
whichever comes first: storing a new upload removes those over a day old.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.http import Http404

from creditokr.creditdata import services
from creditokr.creditdata.models import DataSource

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
KEEP_SECONDS = 24 * 3600
TOKEN = re.compile(r"[0-9a-f]{32}")
NOTE_SUFFIX = ".json"
CLAIMED_SUFFIX = ".importing"


@dataclass(frozen=True)
class Upload:
    token: str
    path: Path
    source_id: int
    file_name: str

    @property
    def note(self) -> Path:
        return self.path.with_name(self.path.name + NOTE_SUFFIX)

    @property
    def claimed(self) -> Path:
        return self.path.with_name(self.path.name + CLAIMED_SUFFIX)

    @property
    def importing(self) -> bool:
        """Another request has taken this upload and is importing it."""
        return not self.path.exists() and self.claimed.exists()


def store(upload: UploadedFile[bytes], source: DataSource) -> Upload:
    """Keep an uploaded file for a source under a fresh random name."""
    folder = services.upload_folder()
    sweep(folder)
    token = secrets.token_hex(16)
    stored = Upload(
        token=token,
        path=folder / token,
        source_id=source.pk,
        file_name=Path(upload.name or "upload").name[:255],
    )
    with stored.path.open("xb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    note = {"source": source.pk, "file_name": stored.file_name}
    stored.note.write_text(json.dumps(note), encoding="utf-8")
    logger.info("upload %s stored for source %s", token, source.pk)
    return stored


def find(source: DataSource, token: str) -> Upload:
    """The upload with this token for this source; 404 for anything else."""
    if not TOKEN.fullmatch(token):
        raise Http404("No such upload.")
    path = services.upload_folder() / token
    note_path = path.with_name(token + NOTE_SUFFIX)
    try:
        note = json.loads(note_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise Http404("No such upload, or it has expired.") from None
    found = Upload(token, path, source.pk, str(note.get("file_name", "")))
    if note.get("source") != source.pk or not (path.is_file() or found.importing):
        raise Http404("No such upload, or it has expired.")
    return found


def claim(upload: Upload) -> Path | None:
    """Take the upload for one import: renaming is atomic, so of two
    requests importing the same upload at once only one gets the file."""
    try:
        upload.path.rename(upload.claimed)
    except FileNotFoundError:
        return None
    return upload.claimed


def release(upload: Upload, claimed: Path) -> None:
    """Give a claimed upload back, e.g. after a refused import."""
    if claimed.exists():
        claimed.rename(upload.path)


def remove(upload: Upload) -> None:
    upload.path.unlink(missing_ok=True)
    upload.note.unlink(missing_ok=True)


def sweep(folder: Path, now: float | None = None) -> int:
    """Remove uploads (and their notes) stored more than a day ago."""
    cutoff = (now if now is not None else time.time()) - KEEP_SECONDS
    removed = 0
    for path in folder.iterdir():
        if not TOKEN.fullmatch(path.name.removesuffix(NOTE_SUFFIX)):
            continue
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
