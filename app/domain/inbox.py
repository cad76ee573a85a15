"""The inbox (spec §4.4): tabs, counts, group filter, search and keyset pages.

Every query starts from the viewer's `participation` rows (their scope: demandes they created
or are invited on), which carry copies of the demande's status, sort key, lateness and groups
(kept by triggers, see docs/decisions/2026-11-22-inbox-denormalisation.md). A tab is a few
ranges of the index `participation_inbox`, so a page costs the same at 10 k or 1 M demandes.
Tab rules are written once, as `Slice`s: the list query and the counts both derive from them.

What the viewer reads on each demande comes from the same rows: `reads_content` and
`reads_private` mirror `policies.can_read_application` and `policies.can_read_private_answers`
(docs/decisions/2026-12-01-private-answers-per-demande.md), so rows, search and message
counts show exactly what the thread shows, demande by demande, whatever the viewer's roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from app import clock
from app.domain import inbox_counts
from app.domain.applications import REAL_ANSWER_KINDS, status_label
from app.domain.inbox_search import (  # noqa: F401 (fold, tsquery: the inbox's search API)
    Filters,
    fold,
    scope_filters,
    search_terms,
    tsquery,
)
from app.policies import Viewer
from app.tables import Application

PAGE_SIZE = 25
# "moins de 24 h avant d'être en souffrance".
SOON_LATE = timedelta(hours=24)
_OPEN = ("new", "in_progress")


@dataclass(frozen=True)
class Slice:
    """One range of the inbox index: a status, optionally only (un)opened demandes."""

    status: str
    # None: both; True: never opened by the viewer; False: opened at least once.
    unseen: bool | None = None

    def matches(self, status: str, unseen: bool) -> bool:
        return status == self.status and (self.unseen is None or self.unseen == unseen)


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    slices: tuple[Slice, ...]
    # Only demandes past their late_at (en souffrance).
    late_only: bool = False

    def contains(self, status: str, unseen: bool, late: bool) -> bool:
        return (late or not self.late_only) and any(s.matches(status, unseen) for s in self.slices)


# Rules, in the words of docs/decisions/2026-11-22-inbox-tabs.md.
NOUVELLES = Tab("nouvelles", "Nouvelles", (Slice("new"), Slice("in_progress", unseen=True)))
EN_COURS_INSTRUCTEUR = Tab("en-cours", "En cours", (Slice("in_progress", unseen=False),))
# Aidants have no "Traitées" tab: what awaits their archiving stays in "En cours".
EN_COURS_AIDANT = Tab(
    "en-cours", "En cours", (Slice("in_progress", unseen=False), Slice("processed"))
)
EN_SOUFFRANCE = Tab(
    "en-souffrance", "En souffrance", (Slice("new"), Slice("in_progress")), late_only=True
)
TRAITEES = Tab("traitees", "Traitées", (Slice("processed"),))
ARCHIVEES = Tab("archivees", "Archivées", (Slice("archived"),))


def works_as_instructor(viewer: Viewer) -> bool:
    """Instructeurs (and experts, who answer like them) get the instructeur tabs."""
    return viewer.is_instructor or viewer.is_expert


def tabs_for(viewer: Viewer) -> tuple[Tab, ...]:
    if works_as_instructor(viewer):
        return (NOUVELLES, EN_COURS_INSTRUCTEUR, EN_SOUFFRANCE, TRAITEES, ARCHIVEES)
    return (NOUVELLES, EN_COURS_AIDANT, ARCHIVEES)


def tab_for(viewer: Viewer, key: str | None) -> Tab:
    tabs = tabs_for(viewer)
    return next((t for t in tabs if t.key == key), tabs[0])


# --- the page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in the inbox order (last activity, then id, both descending)."""

    updated_at: datetime
    application_id: UUID

    def encode(self) -> str:
        micros = int(self.updated_at.timestamp() * 1_000_000)
        return f"{micros}_{self.application_id.hex}"

    @staticmethod
    def decode(raw: str | None) -> Cursor | None:
        if not raw:
            return None
        try:
            micros, hex_id = raw.split("_", 1)
            at = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
            return Cursor(at, UUID(hex=hex_id))
        except (ValueError, OverflowError, OSError):
            return None


@dataclass(frozen=True)
class Row:
    id: UUID
    status: str
    is_creator: bool
    subject: str
    usager_name: str
    created_at: datetime
    # Retention erased its texts: the row shows when instead of a subject.
    wiped_at: datetime | None
    updated_at: datetime
    messages: int
    unread: int
    never_opened: bool
    late: bool
    soon_late: bool
    # Shaped once here, so the row template only reads attributes (bench/RESULTS.md).
    status_text: str = ""
    age: str = ""
    created_iso: str = ""

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.updated_at, self.id)


@dataclass(frozen=True)
class GroupOption:
    id: UUID
    name: str
    count: int
    selected: bool


@dataclass
class InboxPage:
    tabs: list[tuple[Tab, int]]
    tab: Tab
    rows: list[Row]
    groups: list[GroupOption]
    query: str
    next_cursor: Cursor | None = None
    previous_cursor: Cursor | None = None
    now: datetime = field(default_factory=clock.now)
    # Tabs whose count stopped at COUNT_CAP (shown as "1 000+").
    capped_tabs: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return next(n for t, n in self.tabs if t is self.tab)


def _slice_sql(
    tab: Tab,
    sl: Slice,
    filters: Filters,
    now: datetime,
    cursor: Cursor | None,
    backwards: bool,
    limit: int,
) -> tuple[str, list]:
    sql = (
        "SELECT p.application, p.app_updated_at, p.last_seen_at, p.app_late_at, p.is_creator,"
        " p.app_status, p.reads_private FROM participation p WHERE "
        + filters.sql
        + " AND p.app_status = {}"
    )
    args = [*filters.args, sl.status]
    if sl.unseen is True:
        sql += " AND p.last_seen_at IS NULL"
    elif sl.unseen is False:
        sql += " AND p.last_seen_at IS NOT NULL"
    if tab.late_only:
        sql += " AND p.app_late_at < {}"
        args.append(now)
    if cursor is not None:
        sql += f" AND (p.app_updated_at, p.application) {'>' if backwards else '<'} ({{}}, {{}})"
        args.extend([cursor.updated_at, cursor.application_id])
    order = "ASC" if backwards else "DESC"
    sql += f" ORDER BY p.app_updated_at {order}, p.application {order} LIMIT {limit:d}"
    return f"({sql})", args


async def _list_rows(
    viewer: Viewer,
    tab: Tab,
    filters: Filters,
    now: datetime,
    cursor: Cursor | None,
    backwards: bool,
) -> list[dict]:
    """One query: the page's slice ranges merged, joined to the demandes and their counts."""
    limit = PAGE_SIZE + 1
    parts, args = [], []
    for sl in tab.slices:
        sql, slice_args = _slice_sql(tab, sl, filters, now, cursor, backwards, limit)
        parts.append(sql)
        args.extend(slice_args)
    order = "ASC" if backwards else "DESC"
    with_matches = filters.cte + ", " if filters.cte else ""
    args = [*filters.cte_args, *args]
    sql = (
        f"WITH {with_matches}page AS (SELECT * FROM (" + " UNION ALL ".join(parts) + ") u"
        f" ORDER BY app_updated_at {order}, application {order} LIMIT {limit:d})"
        " SELECT a.id, a.status, a.subject, a.usager_first_name, a.usager_last_name,"
        " a.personal_data_wiped_at, a.created_at, page.app_updated_at AS updated_at,"
        " page.app_late_at AS late_at,"
        " page.last_seen_at, page.is_creator, c.messages, c.unread"
        " FROM page JOIN application a ON a.id = page.application"
        " CROSS JOIN LATERAL (SELECT count(*) AS messages, count(*) FILTER ("
        "   WHERE t.author <> {} AND t.created_at > coalesce(page.last_seen_at, '-infinity'))"
        "   AS unread FROM answer t WHERE t.application = a.id AND t.kind = ANY({})"
        # The thread's rule, read from this participation (policies.can_read_answer).
        "   AND (t.visibility = 'public' OR page.reads_private)) c"
        f" ORDER BY page.app_updated_at {order}, page.application {order}"
    )
    args.extend([viewer.id, sorted(REAL_ANSWER_KINDS)])
    return await Application.raw(sql, *args)


async def load_page(
    viewer: Viewer,
    *,
    tab_key: str | None = None,
    group_ids: Iterable[UUID] = (),
    query: str = "",
    after: Cursor | None = None,
    before: Cursor | None = None,
    open_first_match: bool = False,
    version: int | None = None,
) -> InboxPage:
    """The inbox as the viewer sees it: three queries whatever the size of the scope (four with
    a search). A search counts its matches in every tab; with `open_first_match` (a search just
    submitted) an empty requested tab gives way to the first tab holding a match. With the
    viewer's inbox `version`, the counts come from the cache while it has not moved."""
    now = clock.now()
    terms = search_terms(query)
    # Counted before listing, so a new search can open the first tab that holds a match.
    counts = await inbox_counts.scope_counts(viewer, group_ids, terms, now, version)
    own_groups, selected = counts.own_groups, counts.selected
    tab = tab_for(viewer, tab_key)
    if open_first_match:
        tab = _first_match_tab(viewer, tab, counts)
    tab_counts, group_counts, capped = _tally(viewer, tab, counts)

    filters = scope_filters(viewer, selected, terms, counts.plan, counts.kept)
    backwards = before is not None and after is None
    rows = await _list_rows(viewer, tab, filters, now, before if backwards else after, backwards)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if backwards:
        rows.reverse()

    page = InboxPage(
        tabs=[(t, tab_counts.get(t.key, 0)) for t in tabs_for(viewer)],
        tab=tab,
        rows=[_row(r, now, works_as_instructor(viewer)) for r in rows],
        groups=[
            GroupOption(o["id"], o["name"], group_counts.get(o["id"], 0), o["id"] in selected)
            for o in own_groups
        ],
        query=query,
        now=now,
        capped_tabs=capped,
    )
    if page.rows:
        has_next = more if not backwards else True
        has_previous = (after is not None) if not backwards else more
        if has_next:
            page.next_cursor = page.rows[-1].cursor
        if has_previous:
            page.previous_cursor = page.rows[0].cursor
    return page


async def search_tab(
    viewer: Viewer,
    *,
    tab_key: str | None,
    group_ids: Iterable[UUID],
    query: str,
    version: int | None = None,
) -> str:
    """The tab a search just submitted opens: the requested one, or if it holds no match the
    first tab that does (issue 15: a search covers every tab, not only the current one). With
    the viewer's inbox `version`, the page it redirects to finds these counts in the cache."""
    tab = tab_for(viewer, tab_key)
    terms = search_terms(query)
    if not terms:
        return tab.key
    counts = await inbox_counts.scope_counts(viewer, group_ids, terms, clock.now(), version)
    return _first_match_tab(viewer, tab, counts).key


def _first_match_tab(viewer: Viewer, tab: Tab, counts: inbox_counts.ScopeCounts) -> Tab:
    tab_counts, _, _ = _tally(viewer, tab, counts)
    if tab_counts.get(tab.key):
        return tab
    return next((t for t in tabs_for(viewer) if tab_counts.get(t.key)), tab)


def _tally(
    viewer: Viewer, tab: Tab, counts: inbox_counts.ScopeCounts
) -> tuple[dict[str, int], dict[UUID, int], set[str]]:
    """Tab counts (with the group filter), per-group counts (in `tab`), and the tabs whose
    count is only a lower bound."""
    group_ids = [o["id"] for o in counts.own_groups]
    tab_counts: dict[str, int] = {}
    group_counts: dict[UUID, int] = dict.fromkeys(group_ids, 0)
    # Counted up to the cap per status, and per lateness for the open ones.
    per_part: dict[tuple[str, bool], int] = {}
    for b in counts.buckets:
        late = b["late"] and b["status"] in _OPEN
        per_part[b["status"], late] = per_part.get((b["status"], late), 0) + b["total"]
        for t in tabs_for(viewer):
            if t.contains(b["status"], b["unseen"], late):
                tab_counts[t.key] = tab_counts.get(t.key, 0) + b["n"]
        if tab.contains(b["status"], b["unseen"], late):
            for i, g in enumerate(group_ids):
                group_counts[g] += b[f"g{i}"]
    full = [part for part, n in per_part.items() if n >= counts.cap]
    capped = {
        t.key
        for t in tabs_for(viewer)
        if any(
            t.contains(status, unseen, late) for status, late in full for unseen in (True, False)
        )
    }
    return tab_counts, group_counts, capped


def _row(r: dict, now: datetime, instructor_view: bool) -> Row:
    late_at = r["late_at"]
    is_open = r["status"] in _OPEN
    late = bool(instructor_view and is_open and late_at is not None and now > late_at)
    soon = bool(
        instructor_view and is_open and late_at is not None and late_at - SOON_LATE < now <= late_at
    )
    return Row(
        id=r["id"],
        status=r["status"],
        is_creator=r["is_creator"],
        subject=r["subject"],
        usager_name=f"{r['usager_first_name']} {r['usager_last_name']}".strip(),
        created_at=r["created_at"],
        wiped_at=r["personal_data_wiped_at"],
        updated_at=r["updated_at"],
        messages=r["messages"],
        unread=r["unread"],
        never_opened=r["last_seen_at"] is None,
        late=late,
        soon_late=soon,
        status_text=status_label(r["status"], r["is_creator"]),
        age=age_label(r["created_at"], now),
        created_iso=r["created_at"].isoformat(),
    )


# --- labels shared by the page and the export --------------------------------------------


def age_label(created_at: datetime, now: datetime) -> str:
    """ "il y a 3 h", "il y a 12 j": short enough for a table cell."""
    seconds = max((now - created_at).total_seconds(), 0)
    if seconds < 60:
        return "à l'instant"
    if seconds < 3600:
        return f"il y a {int(seconds // 60)} min"
    if seconds < 86400:
        return f"il y a {int(seconds // 3600)} h"
    return f"il y a {int(seconds // 86400)} j"
