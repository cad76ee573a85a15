"""Reading for the creation form and the demande page, in a fixed number of queries."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from piccolo.querystring import QueryString
from piccolo.table import Table

from app.tables import (
    Answer,
    Application,
    Attachment,
    Group,
    Mandat,
    Membership,
    User,
)

# --- reading for the forms and the demande page --------------------------------------------

# The group's organisation, its name and category (a LEFT JOIN: a group may have none).
_ORGANISATION_COLUMNS = (
    Group.organisation,
    Group.organisation.short_name.as_alias("organisation_name"),
    Group.organisation.category.as_alias("category"),
)


async def addressable_groups(area: str) -> list[dict]:
    """Groups of a département that have at least one active instructeur (spec §4.1)."""
    with_instructor = Membership.select(Membership.group).where(
        (Membership.user.is_instructor == True)  # noqa: E712 (Piccolo expression)
        & Membership.user.disabled_at.is_null()
    )
    return (
        await Group.select(
            Group.id,
            Group.name,
            Group.short_description,
            Group.public_note,
            *_ORGANISATION_COLUMNS,
        )
        .where(Group.areas.any(area) & Group.id.is_in(with_instructor))
        # Ascending, so groups without an organisation (NULL) come last.
        .order_by(Group.organisation.short_name, Group.name)
    )


async def groups_by_ids(group_ids: Iterable[UUID]) -> list[dict]:
    group_ids = list(group_ids)
    if not group_ids:
        return []
    return (
        await Group.select(
            Group.id, Group.name, Group.areas, Group.bal_email, *_ORGANISATION_COLUMNS
        )
        .where(Group.id.is_in(group_ids))
        .order_by(Group.name)
    )


async def colleagues_of(
    user_id: UUID, group_ids: Iterable[UUID], *, helpers_only: bool
) -> list[dict]:
    """Other active members of these groups (aidants only for a new demande)."""
    group_ids = list(group_ids)
    if not group_ids:
        return []
    where = (
        User.id.is_in(Membership.select(Membership.user).where(Membership.group.is_in(group_ids)))
        & (User.id != user_id)
        & User.disabled_at.is_null()
    )
    if helpers_only:
        where &= User.is_helper == True  # noqa: E712 (Piccolo expression)
    return (
        await User.select(User.id, User.first_name, User.last_name, User.email, User.qualite)
        .where(where)
        .order_by(User.last_name, User.first_name)
    )


async def find_by_creation_key(creation_key: str) -> Application | None:
    return await Application.objects().where(Application.creation_key == creation_key).first()


@dataclass
class DemandeView:
    """Everything the demande page shows, read in one statement (no N+1)."""

    application: dict
    mandat: dict | None
    groups: list[dict]
    participants: list[dict]
    answers: list[dict]
    # Files attached at creation (answer is None); answers carry their own under "files".
    files: list[dict]
    # The page's own lists, when `load_demande` was asked for them.
    lists: PageLists | None = None


def _names(table: type[Table]) -> list[str]:
    return [c._meta.db_column_name for c in table._meta.columns]


def _row_of(alias: str, names: list[str]) -> str:
    return "ROW(" + ", ".join(f'{alias}."{n}"' for n in names) + ")"


_APPLICATION = _names(Application)
_MANDAT = _names(Mandat)
_ATTACHMENT = _names(Attachment)
_ANSWER = [*_names(Answer), "first_name", "last_name", "qualite", "author_group_name"]
_GROUP = ["id", "name", "bal_email", "organisation_name"]
_PARTICIPANT = [
    *("id", "is_creator", "last_seen_at", "created_at", "group_id", "first_name", "last_name"),
    *("qualite", "email", "is_instructor", "is_expert", "organisation"),
]
# Hand-written (docs/database.md): the page's reads in one round trip. Each list is an array of
# anonymous rows, which asyncpg decodes with their own types (uuid, timestamptz, date); the
# Python below names their fields. Group names are looked up per row (a hash join would read
# every group). A participant's organisation falls back to all the person's groups (a
# correlated string_agg). The people and groups an entry invited are named here too.
_DEMANDE_COLUMNS = (
    "SELECT "
    + ", ".join(f'a."{n}"' for n in _APPLICATION)
    + ", (SELECT "
    + _row_of("m", _MANDAT)
    + " FROM mandat m WHERE m.application = a.id) AS mandat_row,"
    ' ARRAY(SELECT ROW(ag."group", g.name, g.bal_email, o.short_name)'
    '   FROM application_group ag JOIN app_group g ON g.id = ag."group"'
    "   LEFT JOIN organisation o ON o.code = g.organisation"
    "   WHERE ag.application = a.id ORDER BY ag.created_at, g.name) AS group_rows,"
    " ARRAY(SELECT ROW(p.user, p.is_creator, p.last_seen_at, p.created_at, p.group,"
    "   u.first_name, u.last_name, u.qualite, u.email, u.is_instructor, u.is_expert,"
    "   COALESCE((SELECT g.name FROM app_group g WHERE g.id = COALESCE(p.group,"
    "     CASE WHEN p.is_creator THEN a.creator_group END)),"
    "   (SELECT string_agg(g2.name, ', ' ORDER BY g2.name)"
    '     FROM membership m JOIN app_group g2 ON g2.id = m."group" WHERE m."user" = u.id)))'
    "   FROM participation p JOIN app_user u ON u.id = p.user"
    "   WHERE p.application = a.id"
    "   ORDER BY p.is_creator DESC, p.created_at, u.last_name) AS participant_rows,"
    " ARRAY(SELECT ROW("
    + ", ".join(f't."{n}"' for n in _names(Answer))
    + ", u.first_name, u.last_name, u.qualite,"
    "   (SELECT g.name FROM app_group g WHERE g.id = t.author_group))"
    "   FROM answer t JOIN app_user u ON u.id = t.author"
    "   WHERE t.application = a.id ORDER BY t.created_at, t.id) AS answer_rows,"
    " ARRAY(SELECT "
    + _row_of("f", _ATTACHMENT)
    + " FROM attachment f WHERE f.application = a.id ORDER BY f.created_at) AS attachment_rows,"
    " ARRAY(SELECT ROW(u.id, u.first_name, u.last_name) FROM app_user u"
    "   WHERE u.id IN (SELECT jsonb_array_elements_text(t.invited -> 'users')::uuid"
    "     FROM answer t WHERE t.application = a.id"
    "     AND jsonb_typeof(t.invited -> 'users') = 'array'"
    "   )) AS invited_user_rows,"
    " ARRAY(SELECT ROW(g.id, g.name) FROM app_group g"
    "   WHERE g.id IN (SELECT jsonb_array_elements_text(t.invited -> 'groups')::uuid"
    "     FROM answer t WHERE t.application = a.id"
    "     AND jsonb_typeof(t.invited -> 'groups') = 'array'"
    "   )) AS invited_group_rows"
)
_DEMANDE_FROM = " FROM application a WHERE a.id = {}"


# Most entries carry no invitation and no added field: no parser for those.
_EMPTY_JSON = {"{}": dict, "[]": list}


def _json(value):
    if isinstance(value, str):
        empty = _EMPTY_JSON.get(value)
        return empty() if empty is not None else json.loads(value)
    return value


async def load_demande(
    application_id: UUID,
    *,
    lists: ListsWanted | None = None,
    writes: Sequence[QueryString] = (),
) -> DemandeView:
    """The demande page's reads in one statement: the demande and its lists, plus the page's
    own lists when `lists` says which (`page_lists`), plus `writes` sent as data-modifying
    CTEs (the opening's audit event and seen mark: one round trip and one commit for the
    page). The CTEs and the read share one snapshot: the page shows what was there before
    its own writes (the seen marks as they were before this opening)."""
    prefix = ""
    if writes:
        prefix = "WITH " + ", ".join(f"write_{i} AS ({{}})" for i in range(len(writes))) + " "
    columns, list_args = _lists_columns(application_id, lists)
    sql = prefix + _DEMANDE_COLUMNS + "".join(", " + c for c in columns) + _DEMANDE_FROM
    row = (await Application.raw(sql, *writes, *list_args, application_id))[0]
    page_lists = _lists_of(row, lists) if lists is not None else None
    mandat = row.pop("mandat_row")
    groups = [dict(zip(_GROUP, r, strict=True)) for r in row.pop("group_rows")]
    participants = [dict(zip(_PARTICIPANT, r, strict=True)) for r in row.pop("participant_rows")]
    answers = [dict(zip(_ANSWER, r, strict=True)) for r in row.pop("answer_rows")]
    attachments = [dict(zip(_ATTACHMENT, r, strict=True)) for r in row.pop("attachment_rows")]
    user_names = {i: f"{first} {last}".strip() for i, first, last in row.pop("invited_user_rows")}
    group_names = dict(row.pop("invited_group_rows"))
    files_by_answer: dict[UUID | None, list[dict]] = {}
    for attachment in attachments:
        files_by_answer.setdefault(attachment["answer"], []).append(attachment)
    for answer in answers:
        invited = answer["invited"] = _json(answer["invited"]) or {}
        answer["added_fields"] = _json(answer["added_fields"])
        answer["files"] = files_by_answer.get(answer["id"], [])
        answer["invited_users"] = [user_names.get(UUID(u), "") for u in invited.get("users", [])]
        answer["invited_groups"] = [group_names.get(UUID(g), "") for g in invited.get("groups", [])]
    row["usager_fields"] = _json(row["usager_fields"])
    return DemandeView(
        application=row,
        mandat=dict(zip(_MANDAT, mandat, strict=True)) if mandat is not None else None,
        groups=groups,
        participants=participants,
        answers=answers,
        files=files_by_answer.get(None, []),
        lists=page_lists,
    )


@dataclass
class InviteChoices:
    """What the demande's invite form offers, none of it already on the demande."""

    colleagues: list[dict]
    groups: list[dict]
    # An active expert is not on the demande yet (the "experts" box is worth offering).
    expert_missing: bool


_COLLEAGUE = ["id", "first_name", "last_name", "email", "qualite"]
_PICKER_GROUP = [
    *("id", "name", "short_description", "public_note", "organisation"),
    *("organisation_name", "category"),
]
# Hand-written (docs/database.md): the three lists of the invite form in one round trip, with
# the rules of `colleagues_of` (helpers_only=False) and `addressable_groups`; ids break ties.
_INVITE_COLUMNS = (
    "ARRAY(SELECT ROW(u.id, u.first_name, u.last_name, u.email, u.qualite)"
    "   FROM app_user u"
    # An array, not IN (subquery): the members are found by id, not by reading every account.
    '   WHERE u.id = ANY(ARRAY(SELECT m."user" FROM membership m WHERE m."group" = ANY({})))'
    "   AND u.id <> {} AND u.disabled_at IS NULL"
    "   AND u.id NOT IN (SELECT p.user FROM participation p WHERE p.application = {})"
    "   ORDER BY u.last_name, u.first_name, u.id) AS colleague_rows,"
    " ARRAY(SELECT ROW(g.id, g.name, g.short_description, g.public_note, g.organisation,"
    "   o.short_name, o.category)"
    "   FROM app_group g LEFT JOIN organisation o ON o.code = g.organisation"
    # @> rather than = ANY: the GIN index on areas finds the département's groups.
    '   WHERE g.areas @> ARRAY[{}]::varchar[] AND g.id IN (SELECT m."group" FROM membership m'
    '     JOIN app_user i ON i.id = m."user" WHERE i.is_instructor AND i.disabled_at IS NULL)'
    '   AND g.id NOT IN (SELECT ag."group" FROM application_group ag WHERE ag.application = {})'
    "   ORDER BY o.short_name, g.name, g.id) AS picker_group_rows,"
    " EXISTS (SELECT 1 FROM app_user e WHERE e.is_expert AND e.disabled_at IS NULL"
    "   AND e.id NOT IN (SELECT p.user FROM participation p WHERE p.application = {}))"
    " AS expert_missing"
)


@dataclass
class PageLists:
    invite: InviteChoices | None
    # The rows of the column passed as `more` (e.g. the réponses types); None when not asked.
    more: list[tuple] | None


@dataclass(frozen=True)
class ListsWanted:
    """Which of the demande page's lists to read: the invite form's (`invite_choices`) when
    `invite_area` is given, and `more`, an array column another module builds."""

    viewer_id: UUID
    group_ids: Sequence[UUID]
    invite_area: str | None
    more: QueryString | None = None


def _lists_columns(application_id: UUID, wanted: ListsWanted | None) -> tuple[list[str], list]:
    columns: list[str] = []
    args: list = []
    if wanted is None:
        return columns, args
    if wanted.invite_area is not None:
        columns.append(_INVITE_COLUMNS)
        args += [list(wanted.group_ids), wanted.viewer_id, application_id, wanted.invite_area]
        args += [application_id, application_id]
    if wanted.more is not None:
        columns.append("{} AS more_rows")
        args.append(wanted.more)
    return columns, args


def _lists_of(row: dict, wanted: ListsWanted) -> PageLists:
    invite = None
    if wanted.invite_area is not None:
        invite = InviteChoices(
            colleagues=[dict(zip(_COLLEAGUE, r, strict=True)) for r in row["colleague_rows"]],
            groups=[dict(zip(_PICKER_GROUP, r, strict=True)) for r in row["picker_group_rows"]],
            expert_missing=row["expert_missing"],
        )
    return PageLists(invite=invite, more=row["more_rows"] if wanted.more is not None else None)


async def page_lists(application_id: UUID, wanted: ListsWanted) -> PageLists:
    """The page's lists alone, in one statement (none when none is asked)."""
    columns, args = _lists_columns(application_id, wanted)
    if not columns:
        return PageLists(invite=None, more=None)
    return _lists_of((await Application.raw("SELECT " + ", ".join(columns), *args))[0], wanted)


async def invite_choices(
    application_id: UUID, viewer_id: UUID, group_ids: Iterable[UUID], area: str
) -> InviteChoices:
    """Colleagues of the viewer's groups, the département's groups with an active instructeur
    and whether an expert is missing: those not on the demande yet."""
    lists = await page_lists(application_id, ListsWanted(viewer_id, list(group_ids), area))
    assert lists.invite is not None
    return lists.invite
