"""Rate limits shared by every process: attempts are rows in PostgreSQL, keyed by a hash."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from app import clock
from app.tables import RateLimitHit


def limit_key(kind: str, value: str) -> str:
    # Hashed so the table never holds an e-mail or an address in clear.
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


async def allow(key: str, *, limit: int, window: timedelta) -> bool:
    """Count one attempt under `key` unless `limit` attempts already fall within `window`."""
    since = clock.now() - window
    used = await RateLimitHit.count().where(
        (RateLimitHit.key == key) & (RateLimitHit.created_at > since)
    )
    if used >= limit:
        return False
    await RateLimitHit.insert(RateLimitHit(key=key, created_at=clock.now()))
    return True
