"""What "Mes groupes" shows: the groups of the viewer's scope, pages of members, export rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from app import emails
from app.policies import Viewer, visible_groups
from app.tables import (
    Group,
    Membership,
)


async def my_groups(viewer: Viewer) -> list[Group]:
    """Groups of "Mes groupes": mine, and those of my area manager / observer scopes."""
    return (
        await Group.objects()
        .where(visible_groups(viewer, with_admin_areas=False))
        .order_by(Group.name)
    )


# "Mes groupes" shows this many blocks a page: a national observer's scope holds every group.
MY_GROUPS_PAGE_SIZE = 20


async def my_groups_page(viewer: Viewer, q: str = "", page: int = 1) -> tuple[list[Group], int]:
    """One page of "Mes groupes", searched by name or département code; (groups, total)."""
    where = visible_groups(viewer, with_admin_areas=False)
    q = " ".join(q.split())
    if q:
        where = where & (Group.name.ilike(f"%{q}%") | Group.areas.any(q.upper()))
    total = await Group.count().where(where)
    rows = (
        await Group.objects()
        .where(where)
        .order_by(Group.name, Group.id)
        .limit(MY_GROUPS_PAGE_SIZE)
        .offset((page - 1) * MY_GROUPS_PAGE_SIZE)
    )
    return rows, total


async def group_members(group_ids: Sequence[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """Members of each group with how many groups each belongs to (one query)."""
    result: dict[UUID, list[dict[str, Any]]] = {g: [] for g in group_ids}
    if not group_ids:
        return result
    rows = await Membership.raw(
        f"SELECT {_MEMBER_COLUMNS} FROM membership m JOIN app_user u ON u.id = m.user"
        f" WHERE m.group = ANY({{}}::uuid[]) ORDER BY {_MEMBER_ORDER}",
        list(group_ids),
    )
    for row in rows:
        result[row["group_id"]].append(row)
    return result


# Active members a group block shows at once: a 3 750-member group rendered whole was
# 5.5 MB of HTML (issue 16). Disabled members, listed on demand, are capped the same way.
MEMBERS_PAGE_SIZE = 50

# Hand-written (see docs/database.md): one ranked page per group for any number of groups
# (window function), measured in bench/RESULTS.md "Big groups"; the export and a single row
# read the same columns.
_MEMBER_COLUMNS = (
    "m.group AS group_id, m.is_manager, u.id, u.email, u.first_name, u.last_name,"
    " u.qualite, u.phone, u.is_helper, u.is_instructor, u.is_collective, u.is_admin,"
    " u.is_expert, u.last_seen_at, u.disabled_at, u.created_at,"
    " (SELECT count(*) FROM membership o WHERE o.user = u.id) AS groups_count"
)
_MEMBER_ORDER = "lower(u.last_name), lower(u.first_name), u.email, u.id"


@dataclass
class MembersPage:
    """One page of a group's active members, and the first page of its disabled ones."""

    active: list[dict[str, Any]]
    disabled: list[dict[str, Any]]
    active_total: int
    disabled_total: int
    page: int

    page_size: int = MEMBERS_PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.active_total // self.page_size))


async def group_members_pages(
    pages: dict[UUID, int], *, around: UUID | None = None
) -> dict[UUID, MembersPage]:
    """For each group, the requested page of active members (two statements for any number).

    ``around``: a member whose page is shown instead (the row just edited or added).
    A page past the end shows the last one.
    """
    if not pages:
        return {}
    ids, numbers = list(pages), [max(1, n) for n in pages.values()]
    ranked = (
        "WITH ranked AS (SELECT m.group AS group_id, m.user AS user_id,"
        " u.disabled_at IS NOT NULL AS is_disabled,"
        " row_number() OVER (PARTITION BY m.group, u.disabled_at IS NOT NULL"
        f" ORDER BY {_MEMBER_ORDER}) AS rank"
        " FROM membership m JOIN app_user u ON u.id = m.user WHERE m.group = ANY({}::uuid[]))"
    )
    targets = await Membership.raw(
        ranked + ", totals AS (SELECT g.id, g.page,"
        " (SELECT count(*) FROM ranked r WHERE r.group_id = g.id AND NOT r.is_disabled) AS active,"
        " (SELECT count(*) FROM ranked r WHERE r.group_id = g.id AND r.is_disabled) AS disabled,"
        " (SELECT (r.rank - 1) / {} + 1 FROM ranked r WHERE r.group_id = g.id"
        "   AND r.user_id = {} AND NOT r.is_disabled) AS around_page"
        " FROM unnest({}::uuid[], {}::int[]) AS g(id, page))"
        " SELECT id, active, disabled, least(coalesce(around_page, page),"
        " greatest(1, (active + {} - 1) / {})) AS page FROM totals",
        ids,
        MEMBERS_PAGE_SIZE,
        around,
        ids,
        numbers,
        MEMBERS_PAGE_SIZE,
        MEMBERS_PAGE_SIZE,
    )
    result = {
        t["id"]: MembersPage([], [], t["active"], t["disabled"], t["page"], MEMBERS_PAGE_SIZE)
        for t in targets
    }
    rows = await Membership.raw(
        ranked + f" SELECT r.rank, {_MEMBER_COLUMNS} FROM ranked r"
        " JOIN unnest({}::uuid[], {}::int[]) AS g(id, page) ON g.id = r.group_id"
        " JOIN membership m ON m.group = r.group_id AND m.user = r.user_id"
        " JOIN app_user u ON u.id = r.user_id"
        " WHERE r.rank > CASE WHEN r.is_disabled THEN 0 ELSE (g.page - 1) * {} END"
        " AND r.rank <= CASE WHEN r.is_disabled THEN 1 ELSE g.page END * {}"
        f" ORDER BY r.group_id, r.rank",
        ids,
        ids,
        [result[g].page for g in ids],
        MEMBERS_PAGE_SIZE,
        MEMBERS_PAGE_SIZE,
    )
    for row in rows:
        page = result[row["group_id"]]
        (page.disabled if row["disabled_at"] is not None else page.active).append(row)
    return result


async def member_row(group_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    rows = await Membership.raw(
        f"SELECT {_MEMBER_COLUMNS} FROM membership m JOIN app_user u ON u.id = m.user"
        " WHERE m.group = {} AND m.user = {}",
        group_id,
        user_id,
    )
    return rows[0] if rows else None


# --- exports --------------------------------------------------------------------------------

EXPORT_HEADER = [
    "Groupe",
    "Prénom",
    "Nom",
    "Qualité",
    "E-mail",
    "Téléphone",
    "Aidant",
    "Instructeur",
    "Responsable",
    "Compte partagé",
    "Désactivé",
    "Dernière activité",
]


async def export_rows(groups: Sequence[Group]) -> list[list[Any]]:
    members = await group_members([g.id for g in groups])
    out: list[list[Any]] = []
    for group in groups:
        for m in members[group.id]:
            out.append(
                [
                    group.name,
                    m["first_name"],
                    m["last_name"],
                    m["qualite"],
                    m["email"],
                    m["phone"],
                    _oui_non(m["is_helper"]),
                    _oui_non(m["is_instructor"]),
                    _oui_non(m["is_manager"]),
                    _oui_non(m["is_collective"]),
                    _oui_non(m["disabled_at"] is not None),
                    m["last_seen_at"].astimezone(emails.PARIS).strftime("%d/%m/%Y %H:%M")
                    if m["last_seen_at"]
                    else "",
                ]
            )
    return out


def _oui_non(flag: bool) -> str:
    """A flag as the export's "oui" / "non" column."""
    return "oui" if flag else "non"
