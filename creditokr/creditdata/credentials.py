"""Connection URLs kept encrypted at rest.

The key is CREDENTIALS_KEY (set in the environment, or generated once into
the var folder). It is separate from SECRET_KEY so that rotating session
signing does not lose stored credentials.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class CredentialError(Exception):
    pass


def _fernet() -> Fernet:
    digest = hashlib.sha256(settings.CREDENTIALS_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialError(
            "The stored connection URL cannot be decrypted: CREDENTIALS_KEY "
            "has changed since it was saved. Enter the URL again."
        ) from None
