"""Rate limits shared by every process: attempts are rows in PostgreSQL, keyed by a hash."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from app import clock
from app.piccolo_conf import DB
from app.tables import RateLimitHit


def limit_key(kind: str, value: str) -> str:
    # Hashed so the table never holds an e-mail or an address in clear.
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


async def allow(key: str, *, limit: int, window: timedelta) -> bool:
    """Count one attempt under `key` unless `limit` attempts already fall within `window`.

    Concurrent attempts on one key queue on a transaction-scoped advisory lock, so each one
    counts what the previous ones inserted; the lock goes with the commit (no session state
    is left on the pooled connection). The count and the insert are one statement, run after
    the lock is held: under READ COMMITTED that statement's snapshot sees the earlier rows.
    """
    now = clock.now()
    async with DB.transaction():
        await RateLimitHit.raw("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))", key)
        inserted = await RateLimitHit.raw(
            "INSERT INTO rate_limit_hit (key, created_at) SELECT {}, {}"
            " WHERE (SELECT count(*) FROM rate_limit_hit WHERE key = {} AND created_at > {}) < {}"
            " RETURNING id",
            key,
            now,
            key,
            now - window,
            limit,
        )
    return bool(inserted)
