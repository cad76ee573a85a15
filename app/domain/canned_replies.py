"""Réponses types: short texts a group keeps to insert into its replies (issue 15, item 9).

They are shared by the whole group and copied into a message before it is sent, so they must
never hold personal data: the group page says so next to the form. Limits are checked here,
before writing; the table's CHECKs only stop a bug from storing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from piccolo.querystring import QueryString

from app import clock, formatting
from app.domain import audit
from app.piccolo_conf import DB
from app.tables import Group

MAX_PER_GROUP = 50
TITLE_MAX = 80
TEXT_MAX = 2000
# Between the text already typed and the inserted one.
SEPARATOR = "\n\n"


@dataclass(frozen=True)
class CannedReply:
    id: UUID
    group_id: UUID
    title: str
    text: str
    updated_at: datetime
    updated_by_name: str = ""
    group_name: str = ""

    @property
    def updated_on(self) -> str:
        return formatting.date_fr(self.updated_at)


@dataclass
class CannedForm:
    """What was typed in an add or edit form, and what is wrong with it (French)."""

    values: dict[str, str] = field(default_factory=lambda: {"title": "", "text": ""})
    errors: dict[str, str] = field(default_factory=dict)


_SELECT = (
    "SELECT c.id, c.group AS group_id, c.title, c.text, c.updated_at, g.name AS group_name,"
    " coalesce(trim(u.first_name || ' ' || u.last_name), '') AS updated_by_name"
    " FROM canned_reply c JOIN app_group g ON g.id = c.group"
    " LEFT JOIN app_user u ON u.id = c.updated_by"
)


def rows_of_groups(group_ids: frozenset[UUID] | list[UUID]) -> QueryString:
    """`of_groups` as one column of a larger statement, an array of rows in `CannedReply`'s
    field order: the demande page reads it with the invite form's lists, in one round trip."""
    return QueryString(
        "ARRAY(SELECT ROW(c.id, c.group, c.title, c.text, c.updated_at,"
        " coalesce(trim(u.first_name || ' ' || u.last_name), ''), g.name)"
        " FROM canned_reply c JOIN app_group g ON g.id = c.group"
        " LEFT JOIN app_user u ON u.id = c.updated_by"
        " WHERE c.group = ANY({}) ORDER BY lower(g.name), g.id, lower(c.title), c.id)",
        list(group_ids),
    )


def from_rows(rows: list[tuple]) -> list[CannedReply]:
    return [CannedReply(*row) for row in rows]


def _reply(row: dict) -> CannedReply:
    return CannedReply(**row)


async def of_group(group_id: UUID) -> list[CannedReply]:
    rows = await Group.raw(_SELECT + " WHERE c.group = {} ORDER BY lower(c.title), c.id", group_id)
    return [_reply(r) for r in rows]


async def of_groups(group_ids: frozenset[UUID] | list[UUID]) -> list[CannedReply]:
    """The replies a viewer may insert: those of their groups, by group then title."""
    if not group_ids:
        return []
    rows = await Group.raw(
        _SELECT + " WHERE c.group = ANY({}) ORDER BY lower(g.name), g.id, lower(c.title), c.id",
        list(group_ids),
    )
    return [_reply(r) for r in rows]


async def find(reply_id: UUID, group_ids: frozenset[UUID] | list[UUID]) -> CannedReply | None:
    """One reply, only when it belongs to one of `group_ids` (else None: a 404 for the route)."""
    if not group_ids:
        return None
    rows = await Group.raw(
        _SELECT + " WHERE c.id = {} AND c.group = ANY({})", reply_id, list(group_ids)
    )
    return _reply(rows[0]) if rows else None


def clean(data: dict) -> CannedForm:
    """The form's values, trimmed, with an error per field in French (nothing written)."""
    title = " ".join(str(data.get("title") or "").split())
    # Line breaks inside the text are kept (paragraphs); only its ends are trimmed.
    text = str(data.get("text") or "").replace("\r\n", "\n").strip()
    form = CannedForm(values={"title": title, "text": text})
    if not title:
        form.errors["title"] = "Donnez un titre court à la réponse type."
    elif len(title) > TITLE_MAX:
        form.errors["title"] = (
            f"Le titre ne doit pas dépasser {TITLE_MAX} caractères (il en a {len(title)})."
        )
    if not text:
        form.errors["text"] = "Écrivez le texte de la réponse type."
    elif len(text) > TEXT_MAX:
        form.errors["text"] = (
            f"Le texte ne doit pas dépasser {TEXT_MAX} caractères (il en a {len(text)})."
        )
    return form


async def _changed(group_id: UUID, actor_id: UUID, client_address: str) -> None:
    # The group's shared texts changed; which reply and its words stay out of the log.
    await audit.record(
        audit.Event.GROUP_UPDATED,
        actor_id=actor_id,
        group_id=group_id,
        client_address=client_address,
        changed_fields=["canned_replies"],
    )


async def create(
    group_id: UUID, data: dict, *, actor_id: UUID, client_address: str = ""
) -> CannedForm:
    """Add a reply; the form comes back with errors (and nothing written) when refused.

    The count and the insert are one statement, so two members adding the last free place
    at once cannot go past the limit.
    """
    form = clean(data)
    if form.errors:
        return form
    now = clock.now()
    async with DB.transaction():
        rows = await _insert(group_id, form, actor_id, now)
        if rows:
            await _changed(group_id, actor_id, client_address)
    if not rows:
        form.errors["title"] = (
            f"Ce groupe a déjà {MAX_PER_GROUP} réponses types, le maximum : supprimez-en une"
            " avant d'en ajouter une autre."
        )
    return form


async def _insert(group_id: UUID, form: CannedForm, actor_id: UUID, now: datetime) -> list:
    return await Group.raw(
        "INSERT INTO canned_reply"
        ' (id, "group", title, text, created_by, created_at, updated_by, updated_at)'
        " SELECT gen_random_uuid(), {}, {}, {}, {}, {}, {}, {}"
        " FROM app_group g WHERE g.id = {}"
        " AND (SELECT count(*) FROM canned_reply c WHERE c.group = g.id) < {}"
        " RETURNING id",
        group_id,
        form.values["title"],
        form.values["text"],
        actor_id,
        now,
        actor_id,
        now,
        group_id,
        MAX_PER_GROUP,
    )


async def update(
    reply: CannedReply, data: dict, *, actor_id: UUID, client_address: str = ""
) -> CannedForm:
    form = clean(data)
    if form.errors:
        return form
    async with DB.transaction():
        await Group.raw(
            "UPDATE canned_reply SET title = {}, text = {}, updated_by = {}, updated_at = {}"
            " WHERE id = {}",
            form.values["title"],
            form.values["text"],
            actor_id,
            clock.now(),
            reply.id,
        )
        await _changed(reply.group_id, actor_id, client_address)
    return form


async def delete(reply: CannedReply, *, actor_id: UUID, client_address: str = "") -> None:
    async with DB.transaction():
        await Group.raw("DELETE FROM canned_reply WHERE id = {}", reply.id)
        await _changed(reply.group_id, actor_id, client_address)


def insert(draft: str, text: str) -> str:
    """The draft with the reply's text added at its end (a blank line between them)."""
    draft = draft.rstrip()
    return f"{draft}{SEPARATOR}{text}" if draft else text
