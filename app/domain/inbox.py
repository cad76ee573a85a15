"""The inbox (spec §4.4): tabs, counts, group filter, search, keyset pages and the CSV export.

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

import asyncio
import io
import json
import re
import unicodedata
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from app import clock, exports
from app.domain import business_days
from app.domain.applications import REAL_ANSWER_KINDS, STATUS_LABELS
from app.policies import Viewer
from app.tables import Application, Group

PAGE_SIZE = 25
# Counting stops there for each status (see _counts).
COUNT_CAP = 1000
# "moins de 24 h avant d'être en souffrance".
SOON_LATE = timedelta(hours=24)
MAX_SEARCH_TERMS = 8
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


# --- search text ------------------------------------------------------------------------

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})


def fold(text: str) -> str:
    """Lower-case, accent-free text: the Python twin of SQL `aplus_fold` (no `unaccent` here)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# A NIR or an identifier is often typed in groups ("1 85 05 78 006 084 36") but stored in one
# piece; "2A"/"2B" (Corsica) sit inside a NIR.
_NUMERIC = re.compile(r"[0-9]+|2[ab]")
# A French phone number typed in one piece. Usager fields are indexed in both forms
# (`aplus_field_values`), but a number written in a message or description is in pairs.
_COMPACT_PHONE = re.compile(r"0[1-9][0-9]{8}")


def search_terms(query: str) -> list[str]:
    """Terms of a search, folded; one-letter words are dropped (they would match everything).

    Consecutive numeric groups make one term, their parts separated by spaces ("06 12 34"):
    `tsquery` matches it written in one piece or in those groups.
    """
    terms: list[str] = []
    run: list[str] = []
    for word in [*re.findall(r"[a-z0-9]+", fold(query)), ""]:
        if word and _NUMERIC.fullmatch(word):
            run.append(word)
            continue
        if len(run) > 1:
            terms.append(" ".join(run))
        elif run and len(run[0]) > 1:
            terms.append(run[0])
        run = []
        if len(word) > 1:
            terms.append(word)
    return terms[:MAX_SEARCH_TERMS]


def _term_query(term: str) -> str:
    parts = term.split(" ")
    if len(parts) > 1:
        # In one piece (a NIR stored without spaces) or as the groups typed (as before).
        apart = " & ".join(f"{p}:*" for p in parts if len(p) > 1)
        return f"({''.join(parts)}:*" + (f" | {apart})" if apart else ")")
    if _COMPACT_PHONE.fullmatch(term):
        pairs = " <-> ".join(term[i : i + 2] for i in range(0, 10, 2))
        return f"({term}:* | {pairs})"
    return f"{term}:*"


def tsquery(terms: Iterable[str]) -> str:
    """Every term must match, each word as a prefix ("dupon" finds "Dupont"); input is [a-z0-9]."""
    return " & ".join(_term_query(t) for t in terms)


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


@dataclass(frozen=True)
class _Filters:
    """The WHERE clause shared by the list and the counts, with its arguments.

    A search that matches few demandes of the viewer's scope collects them first through the
    GIN index, with the viewer's key in the query (`matches`, a materialised CTE); a broad one
    (a common word) is checked demande by demande while walking the scope in inbox order,
    which stops early thanks to the LIMITs. `_search_is_narrow` picks, from the planner's
    estimate.
    """

    sql: str
    args: tuple
    cte: str = ""
    cte_args: tuple = ()


# Above this many matching demandes in the viewer's scope (planner estimate), walk the scope
# in inbox order instead of collecting every match first.
NARROW_SEARCH_ROWS = 5_000


def scope_key(viewer: Viewer) -> str:
    """The viewer's key lexeme in the search vectors, as a tsquery (SQL `aplus_scope_key`)."""
    return f"'#{viewer.id.hex}'"


def _query_sql(viewer: Viewer, terms: list[str], scoped: bool) -> tuple[str, tuple]:
    """The tsquery of a search.

    `scoped` adds the viewer's key to the query, so the GIN index itself keeps only the
    demandes of their scope (see docs/decisions/2026-11-22-inbox-search-scope.md).
    """
    if scoped:
        return "(to_tsquery('french', {}) && {}::tsquery)", (tsquery(terms), scope_key(viewer))
    return "to_tsquery('french', {})", (tsquery(terms),)


def _visible_match_sql(viewer: Viewer, terms: list[str]) -> tuple[str, tuple]:
    """The full-text condition on demande `s` for participation `p` (the scope walk):
    `search_private` only where this participation reads the private answers."""
    query, args = _query_sql(viewer, terms, scoped=False)
    return (
        f"(s.search_public @@ {query} OR (p.reads_private AND s.search_private @@ {query}))",
        args * 2,
    )


async def _search_is_narrow(viewer: Viewer, terms: list[str]) -> bool:
    """Ask the planner how many demandes of the scope match (tsvector statistics are good)."""
    query, args = _query_sql(viewer, terms, scoped=True)
    # Both vectors: an upper bound of what this viewer may match, close enough to pick a plan.
    rows = await Application.raw(
        "EXPLAIN (FORMAT JSON) SELECT s.id FROM application s"
        f" WHERE s.search_public @@ {query} OR s.search_private @@ {query}",
        *args,
        *args,
    )
    plan = rows[0]["QUERY PLAN"]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"]) <= NARROW_SEARCH_ROWS


def _filters(
    viewer: Viewer, group_ids: list[UUID], terms: list[str], narrow: bool = True
) -> _Filters:
    # Mirror of can_read_application: an expert's archived demandes leave their inbox.
    sql = 'p."user" = {} AND p.reads_content'
    args: list = [viewer.id]
    if group_ids:
        sql += " AND p.app_groups && {}::uuid[]"
        args.append(group_ids)
    if not terms:
        return _Filters(sql, tuple(args))
    if narrow:
        # The demandes of the scope matching either vector, tagged with the vector. The plain
        # `IN` keeps the planner driving from these few matches into the viewer's
        # participations; a private match then counts only where that participation reads
        # private answers (a per-row condition inside the join would walk their whole range).
        query, query_args = _query_sql(viewer, terms, scoped=True)
        cte = (
            "matches AS MATERIALIZED ("
            f"SELECT s.id, true AS in_public FROM application s WHERE s.search_public @@ {query}"
            " UNION ALL"
            f" SELECT s.id, false FROM application s WHERE s.search_private @@ {query})"
        )
        sql += (
            " AND p.application IN (SELECT id FROM matches)"
            " AND (p.reads_private OR p.application IN (SELECT id FROM matches WHERE in_public))"
        )
        return _Filters(sql, tuple(args), cte, query_args * 2)
    match, match_args = _visible_match_sql(viewer, terms)
    sql += f" AND EXISTS (SELECT 1 FROM application s WHERE s.id = p.application AND {match})"
    return _Filters(sql, (*args, *match_args))


def _slice_sql(
    tab: Tab,
    sl: Slice,
    filters: _Filters,
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
    filters: _Filters,
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
) -> InboxPage:
    """The inbox as the viewer sees it: three queries whatever the size of the scope (four with
    a search). A search counts its matches in every tab; with `open_first_match` (a search just
    submitted) an empty requested tab gives way to the first tab holding a match."""
    now = clock.now()
    terms = search_terms(query)
    # Counted before listing, so a new search can open the first tab that holds a match.
    own_groups, selected, narrow, buckets = await _scope_counts(viewer, group_ids, terms, now)
    tab = tab_for(viewer, tab_key)
    if open_first_match:
        tab = _first_match_tab(viewer, tab, own_groups, buckets)
    tab_counts, group_counts, capped = _tally(viewer, tab, own_groups, buckets)

    filters = _filters(viewer, selected, terms, narrow)
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
    viewer: Viewer, *, tab_key: str | None, group_ids: Iterable[UUID], query: str
) -> str:
    """The tab a search just submitted opens: the requested one, or if it holds no match the
    first tab that does (issue 15: a search covers every tab, not only the current one)."""
    tab = tab_for(viewer, tab_key)
    terms = search_terms(query)
    if not terms:
        return tab.key
    own_groups, _, _, buckets = await _scope_counts(viewer, group_ids, terms, clock.now())
    return _first_match_tab(viewer, tab, own_groups, buckets).key


async def _scope_counts(
    viewer: Viewer, group_ids: Iterable[UUID], terms: list[str], now: datetime
) -> tuple[list[dict], list[UUID], bool, list[dict]]:
    """The viewer's groups, the selected ones, the search plan and the count buckets."""
    own_groups = await _own_groups(viewer)
    selected = [g for g in dict.fromkeys(group_ids) if g in {o["id"] for o in own_groups}]
    narrow = await _search_is_narrow(viewer, terms) if terms else True
    buckets = await _count_buckets(viewer, own_groups, selected, terms, narrow, now)
    return own_groups, selected, narrow, buckets


def _first_match_tab(viewer: Viewer, tab: Tab, own_groups: list[dict], buckets) -> Tab:
    tab_counts, _, _ = _tally(viewer, tab, own_groups, buckets)
    if tab_counts.get(tab.key):
        return tab
    return next((t for t in tabs_for(viewer) if tab_counts.get(t.key)), tab)


async def _own_groups(viewer: Viewer) -> list[dict]:
    if not viewer.group_ids:
        return []
    # Raw: on the hot path, Piccolo's query building costs more than the query.
    return await Group.raw(
        "SELECT id, name FROM app_group WHERE id = ANY({}) ORDER BY name", list(viewer.group_ids)
    )


async def _count_buckets(
    viewer: Viewer,
    own_groups: list[dict],
    selected: list[UUID],
    terms: list[str],
    narrow: bool,
    now: datetime,
) -> list[dict]:
    """One query: the scope (search included) counted by status, unseen and lateness, in total,
    with the group filter, and per group; `_tally` turns them into tab and group counts.

    Each status is counted up to COUNT_CAP rows: a 50 000-demande archive costs no more
    than a small one, and "1 000+" tells as much as the exact figure.
    """
    scope = _filters(viewer, [], terms, narrow)
    group_ids = [o["id"] for o in own_groups]
    selected_sql = "p.app_groups && {}::uuid[]" if selected else "true"
    per_group = "".join(
        f", count(*) FILTER (WHERE {{}} = ANY(p.app_groups)) AS g{i}" for i in range(len(group_ids))
    )
    statuses = ("new", "in_progress", "processed", "archived")
    capped_scan = " UNION ALL ".join(
        "(SELECT p.app_status, p.last_seen_at, p.app_late_at, p.app_groups"
        f" FROM participation p WHERE {scope.sql} AND p.app_status = {{}} LIMIT {COUNT_CAP:d})"
        for _ in statuses
    )
    with_matches = f"WITH {scope.cte} " if scope.cte else ""
    sql = (
        with_matches + "SELECT p.app_status AS status, p.last_seen_at IS NULL AS unseen,"
        " coalesce(p.app_late_at < {}, false) AS late, count(*) AS total,"
        f" count(*) FILTER (WHERE {selected_sql}) AS n{per_group}"
        f" FROM ({capped_scan}) p GROUP BY 1, 2, 3"
    )
    args = [*scope.cte_args, now, *([selected] if selected else []), *group_ids]
    for status in statuses:
        args.extend([*scope.args, status])
    return await Application.raw(sql, *args)


def _tally(
    viewer: Viewer, tab: Tab, own_groups: list[dict], buckets: list[dict]
) -> tuple[dict[str, int], dict[UUID, int], set[str]]:
    """Tab counts (with the group filter), per-group counts (in `tab`), and the tabs whose
    count is only a lower bound."""
    group_ids = [o["id"] for o in own_groups]
    tab_counts: dict[str, int] = {}
    group_counts: dict[UUID, int] = dict.fromkeys(group_ids, 0)
    per_status: dict[str, int] = {}
    for b in buckets:
        per_status[b["status"]] = per_status.get(b["status"], 0) + b["total"]
        late = b["late"] and b["status"] in _OPEN
        for t in tabs_for(viewer):
            if t.contains(b["status"], b["unseen"], late):
                tab_counts[t.key] = tab_counts.get(t.key, 0) + b["n"]
        if tab.contains(b["status"], b["unseen"], late):
            for i, g in enumerate(group_ids):
                group_counts[g] += b[f"g{i}"]
    full = {status for status, n in per_status.items() if n >= COUNT_CAP}
    capped = {t.key for t in tabs_for(viewer) if any(sl.status in full for sl in t.slices)}
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


# --- CSV export ---------------------------------------------------------------------------

CSV_COLUMNS = [
    "id",
    "statut",
    "date_creation",
    "date_archivage",
    "groupes",
    "delai_premiere_reponse_heures_ouvrees",
    "delai_resolution_heures_ouvrees",
    "utilite",
    "non_pertinente",
]
_EXPORT_BATCH = 2000
# Rows formatted between two turns of the event loop: ~11 µs of CPU each (bench/RESULTS.md),
# so a slice blocks the worker's other requests a few milliseconds, well under 20 ms.
_EXPORT_SLICE = 250


def _hours(start: datetime, end: datetime | None, area: str) -> str:
    if end is None:
        return ""
    return f"{business_days.business_hours_between(start, end, area):.1f}"


def export_row(r: Mapping[str, Any]) -> list[Any]:
    """One CSV line of the export (kept apart so bench/ times exactly this code)."""
    resolved = r["processed_at"] or r["archived_at"]
    return exports.safe_row(
        [
            r["id"],
            STATUS_LABELS[r["status"]],
            r["created_at"].isoformat(),
            r["archived_at"].isoformat() if r["archived_at"] else "",
            r["groups"] or "",
            _hours(r["created_at"], r["first_answer_at"], r["area"]),
            _hours(r["created_at"], resolved, r["area"]),
            r["usefulness"] or "",
            "oui" if r["is_irrelevant"] else "non",
        ]
    )


async def export_csv(viewer: Viewer) -> AsyncIterator[str]:
    """Metadata of every demande in the scope, never a personal field; streamed by batches."""
    buffer = io.StringIO()
    writer = exports.csv_writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    after = UUID(int=0)
    while True:
        rows = await Application.raw(
            "SELECT a.id, a.status, a.created_at, a.archived_at, a.first_answer_at,"
            " a.processed_at, a.area, a.usefulness, a.is_irrelevant,"
            " (SELECT string_agg(g.name, ' | ' ORDER BY g.name) FROM application_group ag"
            '   JOIN app_group g ON g.id = ag."group" WHERE ag.application = a.id) AS groups'
            " FROM participation p JOIN application a ON a.id = p.application"
            ' WHERE p."user" = {} AND p.application > {} ORDER BY p.application LIMIT {}',
            viewer.id,
            after,
            _EXPORT_BATCH,
        )
        if not rows:
            return
        for at in range(0, len(rows), _EXPORT_SLICE):
            buffer.seek(0)
            buffer.truncate()
            for r in rows[at : at + _EXPORT_SLICE]:
                writer.writerow(export_row(r))
            yield buffer.getvalue()
            # Sending a chunk need not suspend (the transport buffers it): give the loop a turn.
            await asyncio.sleep(0)
        after = rows[-1]["id"]
