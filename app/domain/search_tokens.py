"""Search terms travel in URLs sealed, never in clear: they are often a usager's name.

The inbox URL (pushed into the browser history by htmx, bookmarked, sent in Referer headers
to our own pages) carries `recherche=<token>`: the terms encrypted with AES-GCM under a key
derived from SECRET_KEY, bound to the user who searched (a token shared with a colleague
opens nothing) and valid for a limited time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app import clock
from app.settings import get_settings

LIFETIME_SECONDS = 7 * 86400
MAX_TERMS = 200


def _cipher() -> AESGCM:
    key = hashlib.sha256(b"aplus-search-terms:" + get_settings().secret_key.encode()).digest()
    return AESGCM(key)


def seal(terms: str, user_id: UUID) -> str:
    """The token standing for `terms` in URLs of this user."""
    nonce = secrets.token_bytes(12)
    payload = json.dumps({"q": terms[:MAX_TERMS], "t": int(clock.now().timestamp())}).encode()
    sealed = _cipher().encrypt(nonce, payload, user_id.bytes)
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def open_token(token: str, user_id: UUID) -> str | None:
    """The terms, or None for a token that is forged, someone else's or expired."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(_cipher().decrypt(raw[:12], raw[12:], user_id.bytes))
    except (ValueError, InvalidTag, TypeError):
        return None
    if clock.now().timestamp() - payload.get("t", 0) > LIFETIME_SECONDS:
        return None
    return str(payload.get("q", ""))[:MAX_TERMS]
