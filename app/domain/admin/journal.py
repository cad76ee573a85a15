"""How the admin screens write to the events log: the admin, their address, the target."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from app.domain import audit
from app.policies import Viewer


async def logged(
    code: audit.Event,
    viewer: Viewer,
    client_address: str,
    *,
    user_id: UUID | None = None,
    group_id: UUID | None = None,
    fields: Iterable[str] = (),
) -> None:
    """Record an admin's action on an account or a group (`fields`: names, never values)."""
    await audit.record(
        code,
        actor_id=viewer.id,
        user_id=user_id,
        group_id=group_id,
        client_address=client_address,
        changed_fields=fields,
    )
