"""Inbox search: folded terms, their `tsquery`, and the plan a search takes (spec §4.4).

A search asks the GIN index for `words & the viewer's key` (docs/decisions/
2026-11-22-inbox-search-scope.md), so only matches of the viewer's scope reach the heap (with
several words, maybe the rarest alone, the others tested on its matches); a word common in the
scope walks the scope in inbox order instead. `search_plan` picks (docs/decisions/
2026-12-02-search-counts.md).
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from app.policies import Viewer
from app.tables import Application

MAX_SEARCH_TERMS = 8

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


# Above this many matching demandes in the viewer's scope (planner estimate), walk the scope
# in inbox order instead of collecting every match first.
NARROW_SEARCH_ROWS = 5_000
# At most this many matches (estimated, or kept), a narrow search is read match by match
# (`scope_filters`); bench/RESULTS.md (third session) has the measures either side.
FEW_MATCHES = 2_000


def scope_key(viewer: Viewer) -> str:
    """The viewer's key lexeme in the search vectors, as a tsquery (SQL `aplus_scope_key`)."""
    return f"'#{viewer.id.hex}'"


def query_sql(viewer: Viewer, terms: list[str], scoped: bool) -> tuple[str, tuple]:
    """The tsquery of a search.

    `scoped` adds the viewer's key to the query, so the GIN index itself keeps only the
    demandes of their scope (see docs/decisions/2026-11-22-inbox-search-scope.md).
    """
    if scoped:
        return "(to_tsquery('french', {}) && {}::tsquery)", (tsquery(terms), scope_key(viewer))
    return "to_tsquery('french', {})", (tsquery(terms),)


def visible_match_sql(viewer: Viewer, terms: list[str]) -> tuple[str, tuple]:
    """The full-text condition on demande `s` for participation `p` (the scope walk):
    `search_private` only where this participation reads the private answers."""
    query, args = query_sql(viewer, terms, scoped=False)
    return (
        f"(s.search_public @@ {query} OR (p.reads_private AND s.search_private @@ {query}))",
        args * 2,
    )


# A demande read from the heap to test the whole query costs about this many times a match
# the GIN index adds to a prefix term's bitmap (bench/RESULTS.md, EXPLAIN at 1 M demandes).
RECHECK_WEIGHT = 10


@dataclass(frozen=True)
class SearchPlan:
    """How a search reads the database: `narrow`, the GIN index collects the matches of the
    scope; otherwise the scope is walked in inbox order. `index_terms`: for each vector
    (public, private), when not empty, the only terms its index is asked for, the others
    being tested on those candidates."""

    narrow: bool = True
    index_terms: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    # The planner's estimate of the scope's matches (it overestimates prefix terms).
    estimated_matches: int = 0


_VECTORS = ("search_public", "search_private")


# Plans depend on the table statistics only, not on the inbox: a search counted again because
# the viewer's inbox changed skips its EXPLAIN. Statistics move slowly (autovacuum's ANALYZE).
PLAN_SECONDS = 600
_plans: OrderedDict[tuple, tuple[float, SearchPlan]] = OrderedDict()


def clear_plans() -> None:
    _plans.clear()


async def search_plan(viewer: Viewer, terms: list[str]) -> SearchPlan:
    """`_estimated_plan`, kept PLAN_SECONDS per viewer and terms (2 000 of them a worker)."""
    key = (viewer.id, tuple(terms))
    hit = _plans.get(key)
    if hit is not None and time.monotonic() - hit[0] < PLAN_SECONDS:
        _plans.move_to_end(key)
        return hit[1]
    plan = await _estimated_plan(viewer, terms)
    _plans[key] = (time.monotonic(), plan)
    _plans.move_to_end(key)
    while len(_plans) > 2000:
        _plans.popitem(last=False)
    return plan


async def _estimated_plan(viewer: Viewer, terms: list[str]) -> SearchPlan:
    """Ask the planner how many demandes of the scope match (tsvector statistics are good),
    and, with several terms, how many demandes of the whole database each one matches.

    GIN reads every demande a prefix term ("dupon:*") matches in the database before it
    intersects them with the viewer's key, so "élodie dupont" costs all the Élodies (33 000 at
    1 M demandes) though it matches one demande. When the rarest term's own matches in the
    scope cost less to test one by one than the other terms cost the index, the index is
    asked for that term alone (`_index_terms`). One EXPLAIN statement in both cases.
    """
    query, args = query_sql(viewer, terms, scoped=True)
    # Both vectors: an upper bound of what this viewer may match, close enough to pick a plan.
    branches = [f"s.search_public @@ {query} OR s.search_private @@ {query}"]
    args = [*args, *args]
    if len(terms) > 1:
        # Each term in each vector, then the first one in the scope: the share of the
        # database the viewer's key keeps (the same for any term, the planner multiplies).
        for vector, term, scoped in [
            *((v, t, False) for v in _VECTORS for t in terms),
            ("search_public", terms[0], True),
        ]:
            term_query, term_args = query_sql(viewer, [term], scoped=scoped)
            branches.append(f"s.{vector} @@ {term_query}")
            args.extend(term_args)
    rows = await Application.raw(
        "EXPLAIN (FORMAT JSON) "
        + " UNION ALL ".join(f"SELECT s.id FROM application s WHERE {b}" for b in branches),
        *args,
    )
    plan = rows[0]["QUERY PLAN"]
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    nodes = plan.get("Plans", []) if len(branches) > 1 and plan["Node Type"] == "Append" else []
    if len(nodes) != len(branches):
        estimate = int(plan["Plan Rows"])
        return SearchPlan(estimate <= NARROW_SEARCH_ROWS, estimated_matches=estimate)
    rows = [int(n["Plan Rows"]) for n in nodes]
    n = len(terms)
    public, private, in_scope = rows[1 : 1 + n], rows[1 + n : 1 + 2 * n], rows[-1]
    kept = min(in_scope / max(public[0], 1), 1.0)
    return SearchPlan(
        rows[0] <= NARROW_SEARCH_ROWS,
        (_index_terms(terms, public, kept), _index_terms(terms, private, kept)),
        rows[0],
    )


def _index_terms(terms: list[str], everywhere: list[int], kept: float) -> tuple[str, ...]:
    """The rarest term alone, when its matches in the database plus testing those the key
    keeps cost less than every term's matches (empty: every term)."""
    rarest = min(range(len(terms)), key=lambda i: everywhere[i])
    alone = everywhere[rarest] * (1 + RECHECK_WEIGHT * kept)
    return (terms[rarest],) if alone < sum(everywhere) else ()


@dataclass(frozen=True)
class KeptMatches:
    """The demandes of the viewer's scope a narrow search matched, in the public and in the
    private vector, as PostgreSQL array literals: compact in the counts cache, parsed by the
    server. The page then reads them instead of asking the GIN index again, whose prefix
    terms cost in proportion to their matches in the whole database (bench/RESULTS.md)."""

    public: str
    private: str

    @property
    def size(self) -> int:
        return len(self.public) + len(self.private)

    @property
    def count(self) -> int:
        return sum(v.count(",") + 1 for v in (self.public, self.private) if v != "{}")


@dataclass(frozen=True)
class Filters:
    """The WHERE clause shared by the list and the counts, with its arguments.

    A search that matches few demandes of the viewer's scope collects them first through the
    GIN index, with the viewer's key in the query (`matches`, a materialised CTE); a broad one
    (a common word) is checked demande by demande while walking the scope in inbox order,
    which stops early thanks to the LIMITs. `search_plan` picks, from the planner's
    estimate.
    """

    sql: str
    args: tuple
    cte: str = ""
    cte_args: tuple = ()


def scope_filters(
    viewer: Viewer,
    group_ids: list[UUID],
    terms: list[str],
    plan: SearchPlan = SearchPlan(),
    kept: KeptMatches | None = None,
) -> Filters:
    # Mirror of can_read_application: an expert's archived demandes leave their inbox.
    sql = 'p."user" = {} AND p.reads_content'
    args: list = [viewer.id]
    if group_ids:
        sql += " AND p.app_groups && {}::uuid[]"
        args.append(group_ids)
    if not terms:
        return Filters(sql, tuple(args))
    if plan.narrow:
        # The demandes of the scope matching either vector, tagged with the vector. The plain
        # `IN` keeps the planner driving from these few matches into the viewer's
        # participations; a private match then counts only where that participation reads
        # private answers (a per-row condition inside the join would walk their whole range).
        if kept is not None:
            cte = (
                "matches AS MATERIALIZED (SELECT id, true AS in_public"
                " FROM unnest({}::text::uuid[]) id"
                " UNION ALL SELECT id, false FROM unnest({}::text::uuid[]) id)"
            )
            cte_args: tuple = (kept.public, kept.private)
        else:
            cte, cte_args = _matches_cte(viewer, terms, plan)
        # Few matches: looked up one by one in the viewer's participations (an array, so the
        # planner cannot walk the viewer's whole range instead, which it did for a 42-match
        # search of a 50 000-demande scope: 25 ms against 11). More: the planner picks.
        few = (kept.count if kept is not None else plan.estimated_matches) <= FEW_MATCHES
        among = "= ANY(ARRAY(SELECT id FROM matches))" if few else "IN (SELECT id FROM matches)"
        sql += (
            f" AND p.application {among}"
            " AND (p.reads_private OR p.application IN (SELECT id FROM matches WHERE in_public))"
        )
        return Filters(sql, tuple(args), cte, cte_args)
    match, match_args = visible_match_sql(viewer, terms)
    sql += f" AND EXISTS (SELECT 1 FROM application s WHERE s.id = p.application AND {match})"
    return Filters(sql, (*args, *match_args))


def _matches_cte(viewer: Viewer, terms: list[str], plan: SearchPlan) -> tuple[str, tuple]:
    """The scope's matches in either vector, through its GIN index: `plan.index_terms` only
    if any, then the whole query tested on each candidate (`ts_match_vq`, no index answers)."""
    branches, args = [], []
    for vector, tag, index_terms in zip(
        _VECTORS, ("true AS in_public", "false"), plan.index_terms, strict=True
    ):
        query, query_args = query_sql(viewer, list(index_terms or terms), scoped=True)
        sql = f"SELECT s.id, {tag} FROM application s WHERE s.{vector} @@ {query}"
        args.extend(query_args)
        if index_terms:
            check, check_args = query_sql(viewer, terms, scoped=False)
            sql += f" AND ts_match_vq(s.{vector}, {check})"
            args.extend(check_args)
        branches.append(sql)
    return "matches AS MATERIALIZED (" + " UNION ALL ".join(branches) + ")", tuple(args)
