"""Inbox search: folded terms, their `tsquery`, and the plan a search takes (spec §4.4).

A search asks the GIN index for `words & the viewer's key` (docs/decisions/
2026-11-22-inbox-search-scope.md), so only matches of the viewer's scope reach the heap; a
word common in the scope walks the scope in inbox order instead (`search_is_narrow`).
"""

from __future__ import annotations

import json
import re
import unicodedata
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


async def search_is_narrow(viewer: Viewer, terms: list[str]) -> bool:
    """Ask the planner how many demandes of the scope match (tsvector statistics are good)."""
    query, args = query_sql(viewer, terms, scoped=True)
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


@dataclass(frozen=True)
class Filters:
    """The WHERE clause shared by the list and the counts, with its arguments.

    A search that matches few demandes of the viewer's scope collects them first through the
    GIN index, with the viewer's key in the query (`matches`, a materialised CTE); a broad one
    (a common word) is checked demande by demande while walking the scope in inbox order,
    which stops early thanks to the LIMITs. `search_is_narrow` picks, from the planner's
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
    narrow: bool = True,
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
    if narrow:
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
            query, query_args = query_sql(viewer, terms, scoped=True)
            cte = (
                "matches AS MATERIALIZED (SELECT s.id, true AS in_public FROM application s"
                f" WHERE s.search_public @@ {query}"
                " UNION ALL"
                f" SELECT s.id, false FROM application s WHERE s.search_private @@ {query})"
            )
            cte_args = query_args * 2
        sql += (
            " AND p.application IN (SELECT id FROM matches)"
            " AND (p.reads_private OR p.application IN (SELECT id FROM matches WHERE in_public))"
        )
        return Filters(sql, tuple(args), cte, cte_args)
    match, match_args = visible_match_sql(viewer, terms)
    sql += f" AND EXISTS (SELECT 1 FROM application s WHERE s.id = p.application AND {match})"
    return Filters(sql, (*args, *match_args))
