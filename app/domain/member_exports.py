"""The export of the members of a person's groups (Mes groupes), each group's export recorded."""

from __future__ import annotations

from typing import Any

from app import policies
from app.domain import audit, groups
from app.policies import Viewer


async def rows_for(viewer: Viewer, *, client_address: str) -> list[list[Any]] | None:
    """The rows of the groups this viewer may export; None when there is none (a refusal)."""
    mine = [g for g in await groups.my_groups(viewer) if policies.can_export_group_users(viewer, g)]
    if not mine:
        return None
    for group in mine:
        await audit.record(
            audit.Event.USERS_EXPORTED,
            actor_id=viewer.id,
            group_id=group.id,
            client_address=client_address,
        )
    return await groups.export_rows(mine)
