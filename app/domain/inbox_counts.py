"""The inbox's counts (tabs and groups) and the viewer's groups, served from a per-viewer cache.

The capped counts are most of an inbox page's database time at 1 M demandes (bench/RESULTS.md).
They change only when the viewer's data changes, which bumps `app_user.inbox_version` in the
same transaction (triggers, docs/decisions/2026-12-02-inbox-version.md), or when time makes a
demande late. An entry is keyed by that version (read with the session, at the start of the
request) and dropped at the first lateness it did not count yet: a hit is never staler than
what a fresh count would have shown at the time the version was read.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.domain import inbox_search
from app.domain.inbox_search import KeptMatches, SearchPlan, scope_filters, search_plan
from app.policies import Viewer
from app.tables import Application, Group

# Counting stops there for each status (see _count_buckets).
COUNT_CAP = 1000
# ... and there for a broad search, which tests each demande of the scope in turn: about
# SEARCH_COUNT_CAP / (share of the scope matching) demandes read per status
# (docs/decisions/2026-12-02-search-counts.md).
SEARCH_COUNT_CAP = 100
# A narrow search keeps its matches with its counts, up to this many (37 bytes each), so its
# pages and tabs skip the full-text index; the cache holds at most MAX_KEPT_BYTES of them.
MAX_KEPT_MATCHES = 5000
MAX_KEPT_BYTES = 4_000_000
_STATUSES = ("new", "in_progress", "processed", "archived")
_OPEN = ("new", "in_progress")
# Entries of one worker (a few hundred bytes each): every agent's last few filters.
CACHE_ENTRIES = 2000


@dataclass(frozen=True)
class ScopeCounts:
    own_groups: list[dict]
    selected: list[UUID]
    # How the search reads the database (see inbox_search.search_plan).
    plan: SearchPlan
    buckets: list[dict]
    # When the first open demande counted as not late turns late (None: none will).
    expires_at: datetime | None
    # Where each status stopped counting ("1 000+").
    cap: int = COUNT_CAP
    # A narrow search's matches (None: too many, or no search).
    kept: KeptMatches | None = None


_cache: OrderedDict[tuple, ScopeCounts] = OrderedDict()
_kept_bytes = 0


def clear_cache() -> None:
    global _kept_bytes
    _cache.clear()
    _kept_bytes = 0
    inbox_search.clear_plans()


def _store(key: tuple, counts: ScopeCounts) -> None:
    global _kept_bytes
    old = _cache.pop(key, None)
    if old is not None and old.kept is not None:
        _kept_bytes -= old.kept.size
    _cache[key] = counts
    if counts.kept is not None:
        _kept_bytes += counts.kept.size
    while len(_cache) > CACHE_ENTRIES or _kept_bytes > MAX_KEPT_BYTES:
        _, dropped = _cache.popitem(last=False)
        if dropped.kept is not None:
            _kept_bytes -= dropped.kept.size


async def scope_counts(
    viewer: Viewer,
    group_ids: Iterable[UUID],
    terms: list[str],
    now: datetime,
    version: int | None = None,
) -> ScopeCounts:
    """The viewer's groups, the selected ones, the search plan and the count buckets; from the
    cache when `version` (the viewer's inbox version, None: no cache) has not moved."""
    requested = tuple(dict.fromkeys(group_ids))
    key = (viewer.id, version, viewer.group_ids, requested, tuple(terms))
    if version is not None:
        hit = _cache.get(key)
        if hit is not None and (hit.expires_at is None or now < hit.expires_at):
            _cache.move_to_end(key)
            return hit
    own_groups = await _own_groups(viewer)
    own_ids = {o["id"] for o in own_groups}
    selected = [g for g in requested if g in own_ids]
    plan = await search_plan(viewer, terms) if terms else SearchPlan()
    cap = COUNT_CAP if plan.narrow else SEARCH_COUNT_CAP
    buckets = await _count_buckets(viewer, own_groups, selected, terms, plan, now, cap)
    expires = [b["next_late"] for b in buckets if not b["late"] and b["next_late"] is not None]
    kept = None
    if terms and plan.narrow:
        # No bucket: nothing of the scope matched, the page has nothing to list either.
        kept = next(
            (KeptMatches(b["kept_public"], b["kept_private"]) for b in buckets if b["kept_public"]),
            None if buckets else KeptMatches("{}", "{}"),
        )
    counts = ScopeCounts(own_groups, selected, plan, buckets, min(expires, default=None), cap, kept)
    if version is not None:
        _store(key, counts)
    return counts


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
    plan: SearchPlan,
    now: datetime,
    cap: int,
) -> list[dict]:
    """One query: the scope (search included) counted by status, unseen and lateness, in total,
    with the group filter, and per group; `inbox._tally` turns them into tab and group counts.

    Each status is counted up to `cap` rows: a 50 000-demande archive costs no more
    than a small one, and "1 000+" tells as much as the exact figure. A narrow search also
    returns its matches (on the first row, up to MAX_KEPT_MATCHES), read by the GIN index once
    for the counts and the pages that follow.
    """
    scope = scope_filters(viewer, [], terms, plan)
    group_ids = [o["id"] for o in own_groups]
    selected_sql = "p.app_groups && {}::uuid[]" if selected else "true"
    per_group = "".join(
        f", count(*) FILTER (WHERE {{}} = ANY(p.app_groups)) AS g{i}" for i in range(len(group_ids))
    )
    # An open status is capped twice, its late demandes and the others: capped together, the
    # newest `cap` rows held few of the late ones, and "En souffrance" read "26+" for 3 200.
    parts = [
        (status, condition)
        for status in _STATUSES
        for condition in (
            (" AND p.app_late_at < {}", " AND NOT coalesce(p.app_late_at < {}, false)")
            if status in _OPEN
            else ("",)
        )
    ]
    capped_scan = " UNION ALL ".join(
        "(SELECT p.app_status, p.last_seen_at, p.app_late_at, p.app_groups"
        f" FROM participation p WHERE {scope.sql} AND p.app_status = {{}}{condition}"
        f" LIMIT {cap:d})"
        for _, condition in parts
    )
    kept = "".join(
        f", CASE WHEN row_number() OVER () = 1 THEN (SELECT CASE WHEN count(*) <= "
        f"{MAX_KEPT_MATCHES:d} THEN coalesce(array_agg(id) FILTER (WHERE {tagged}),"
        f" ARRAY[]::uuid[])::text END FROM matches) END AS kept_{name}"
        for name, tagged in (("public", "in_public"), ("private", "NOT in_public"))
        if scope.cte
    )
    with_matches = f"WITH {scope.cte} " if scope.cte else ""
    open_sql = ", ".join(f"'{s}'" for s in _OPEN)
    sql = (
        with_matches + "SELECT p.app_status AS status, p.last_seen_at IS NULL AS unseen,"
        " coalesce(p.app_late_at < {}, false) AS late, count(*) AS total,"
        f" min(p.app_late_at) FILTER (WHERE p.app_status IN ({open_sql})) AS next_late,"
        f" count(*) FILTER (WHERE {selected_sql}) AS n{per_group}{kept}"
        f" FROM ({capped_scan}) p GROUP BY 1, 2, 3"
    )
    args = [*scope.cte_args, now, *([selected] if selected else []), *group_ids]
    for status, condition in parts:
        args.extend([*scope.args, status, *([now] if condition else [])])
    return await Application.raw(sql, *args)
