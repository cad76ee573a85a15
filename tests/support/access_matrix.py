"""The access-matrix walk: every route of the app, filled with objects a persona must not
touch, requested as a page, as an htmx fragment and as a POST with a valid CSRF token.

A finding is a marker string of a foreign object in a response (body or headers) or a change
in the database fingerprint. The walk fingerprints once per persona batch, inside a savepoint;
when the batch changed something it rolls back and replays the batch one request at a time to
name the culprit routes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from app import emails
from app.domain import sessions
from app.piccolo_conf import DB
from app.tables import User
from support.access_world import FOREIGN_AREA, SEARCH_WORD

PARAM = re.compile(r"\{(\w+):(\w+)\}")

# Left out of the fingerprint, each for a reason that is not a permission:
# - audit_event: every refusal is written there by design (the audit log is the evidence);
# - rate_limit_hit: one row per request of a rate-limited route, whoever asks;
# - piccolo_migration and saq_* (job queue bookkeeping): nothing a request may change.
UNTRACKED_TABLES = {"audit_event", "rate_limit_hit", "piccolo_migration"}
UNTRACKED_PREFIXES = ("saq",)
# Columns a mere request refreshes: "last seen" clocks of accounts and sessions.
UNTRACKED_COLUMNS = {
    "app_user": ("last_seen_at", "first_login_at"),
    "user_session": ("last_seen_at", "expires_at"),
}
# The persona's own rows that its own-account routes may rewrite: accepting the CGU again
# stamps the acceptance, logging out revokes its own session. Any other column of its own
# account row (roles, names, flags) stays tracked.
OWN_ROW_COLUMNS = {"app_user": ("id", ("cgu_accepted_at",))}
OWN_ROWS_SKIPPED = {"user_session": "user"}

# Archiving and reopening are the département admin's right (spec §3).
CLOSING_HANDLERS = {"archive_application", "reopen_application"}

#: Lines for the terminal summary (tests/policies/conftest.py).
SUMMARY: list[str] = []

UNKNOWN_TOKEN = "jeton-inconnu-de-la-matrice"


@dataclass
class Case:
    persona: str
    handler: str
    route: str
    method: str
    path: str
    htmx: bool
    objects: str
    data: dict[str, Any] | None = None

    def label(self) -> str:
        mode = ("htmx " if self.htmx else "") + self.method
        return f"{self.persona}: {mode} {self.route} [{self.objects}] ({self.handler})"


@dataclass
class Finding:
    kind: str  # "leak", "change" or "error"
    case: Case
    status: int
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.case.label()} -> {self.status} {self.detail}"


@dataclass
class Findings:
    found: list[Finding] = field(default_factory=list)
    cases: int = 0
    # (persona, handler, objects, mode) -> status: proof that the walk reached the handlers.
    statuses: dict[tuple[str, str, str, str], int] = field(default_factory=dict)

    def add(self, kind: str, case: Case, status: int, detail: str) -> None:
        self.found.append(Finding(kind, case, status, detail))

    def report(self) -> str:
        return f"{len(self.found)} findings:\n  " + "\n  ".join(str(f) for f in self.found)


def all_handlers(app) -> Iterable[tuple[str, Any]]:
    """Every (path, handler) of the app's route table but Litestar's automatic OPTIONS."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler":
                continue
            yield route.path, handler


class UnknownParameter(AssertionError):
    """A route has a path parameter the matrix does not know how to fill."""


def candidates(
    world, persona: str, route_params: list[str], name: str, kind: str
) -> list[tuple[str, str]]:
    """(label, value) pairs for one path parameter of a route, by name and type."""
    own_groups = world.home_groups.get(persona, [])
    home = world.home_demande
    on_home = home is not None and persona in world.home_participants
    if name == "application_id" and kind == "uuid":
        found = [("demande", str(world.demande.id))]
        # Own demande with a foreign file: the id pairing must be checked, not assumed.
        if "file_id" in route_params and on_home:
            found.append(("propre demande", str(home.id)))
        return found
    if name == "file_id" and kind == "uuid":
        return [("fichier", str(world.file.id)), ("fichier privé", str(world.private_file.id))]
    if name == "group_id" and kind == "uuid":
        found = [("groupe", str(world.group.id))]
        if "user_id" in route_params or "reply_id" in route_params:
            # Own group with a foreign account or réponse type: the pairing must be checked.
            found += [(f"propre groupe {g.name}", str(g.id)) for g in own_groups]
        else:
            found.append(("groupe du créateur", str(world.creator_group.id)))
        return found
    if name == "user_id" and kind == "uuid":
        return [(f"compte {label}", str(u.id)) for label, u in world.users().items()]
    if name == "reply_id" and kind == "uuid":
        return [("réponse type", str(world.canned_reply.id))]
    if name == "scope_id" and kind == "uuid":
        return [("périmètre", str(world.scope.id))]
    if name == "token" and kind == "str":
        return [("jeton inconnu", UNKNOWN_TOKEN)]
    if name == "file_path" and kind == "path":
        return [("fichier statique", "css/app.css")]
    if name == "event" and kind == "str":
        return [("aperçu", sorted(emails.PREVIEWS)[0])]
    raise UnknownParameter(
        f"the access matrix does not know how to fill {{{name}:{kind}}}: map it to a foreign "
        "object in tests/support/access_matrix.py::candidates"
    )


def form_data(world, persona: str, handler: str) -> dict[str, Any]:
    """Plausible form data: every field a POST route of the app reads, aimed at the foreign
    objects (the group, the demande, their people), never containing a marker itself."""
    user = world.personas[persona]
    own_email = user.email if user else "visiteur@matrice.fr"
    group = str(world.group.id)
    data: dict[str, Any] = {
        # Accounts: join or add oneself, take roles, rename.
        "email": own_email,
        "confirm_instructor": "1",
        "first_name": user.first_name if user else "Pirate",
        "last_name": user.last_name if user else "Pirate",
        "qualite": user.qualite if user else "",
        "phone": user.phone if user else "",
        "is_instructor": "1",
        "is_manager": "1",
        "is_helper": "1",
        "is_collective": "",
        "disabled": "1",
        "internal_note": "note pirate",
        "accepte": "oui",
        "suivant": "/",
        # Groups: texts and structure.
        "name": "Groupe repris",
        "short_description": "Repris",
        "public_note": "Repris",
        "bal_email": "",
        "organisation": "caf",
        "areas": "93",
        "network": "",
        "group": group,
        "role": "area_manager",
        "area": "93",
        "emails": own_email,
        "operation": "confirmer",
        "csv": "groupe;organisme;departements;email;prenom;nom;instructeur;responsable\n"
        f"CAF de Seine-Saint-Denis;caf;93;{own_email};Pirate;Pirate;oui;oui\n",
        "lignes": "1",
        "l0-first_name": "Pirate",
        "l0-last_name": "Pirate",
        "l0-email": "nouveau.pirate@matrice.fr",
        "l0-is_instructor": "1",
        "l0-is_manager": "1",
        # Demandes: answer, private answer, close, invite oneself and the foreign group.
        "body": "Message de la matrice",
        "private": "1",
        "processed": "1",
        "usefulness": "oui",
        "users": [str(user.id)] if user else [],
        "groups": [group],
        "departement": "93",
        "signature": "Pirate",
        # Réponses types: rewrite one, insert the foreign group's into a reply.
        "title": "Titre pirate",
        "text": "Texte pirate",
        "reponse_type": str(world.canned_reply.id),
        # Creation of a demande from the foreign group.
        "creator_group": str(world.creator_group.id),
        "subject": "Sujet pirate",
        "usager_first_name": "Pirate",
        "usager_last_name": "Pirate",
        "usager_birth_date": "1985-03-02",
        "description": "Description pirate",
        "mandat_kind": "paper",
        "mandat_date": "2026-11-30",
        "attestation": "1",
        "creation_key": f"matrice-{persona}",
        "action": "create",
        # Search by a word of the foreign demande's texts.
        "recherche": SEARCH_WORD,
        "onglet": "nouvelles",
        "groupe": [group],
    }
    if handler == "user_update":
        # An e-mail change is an account takeover: aim at a fresh address, not a taken one.
        data["email"] = "repris@matrice.fr"
    if handler == "login_request":
        data["email"] = "inconnu@matrice.fr"
    return data


def foreign_query(world) -> str:
    """Every query parameter a page of the app reads, aimed at the foreign objects (ids, the
    foreign département and organisation; never a marker): filters and pickers must not
    widen a scope the path alone would not."""
    group, user = str(world.group.id), str(world.user.id)
    return urlencode(
        [
            ("groupe", group),
            ("groups", group),
            ("membre", user),
            ("membres", "1"),
            ("desactives", "1"),
            ("utilisateur", user),
            ("departement", FOREIGN_AREA),
            ("area", FOREIGN_AREA),
            ("organisation", "caf"),
            ("reseau", "france-services"),
            ("onglet", "archivees"),
            ("q", SEARCH_WORD),
            ("page", "2"),
        ]
    )


def cases_for(app, world, persona: str) -> list[Case]:
    """Every route × every filling of its parameters × page, htmx and POST modes, and each
    page again with `foreign_query`."""
    query = foreign_query(world)
    found: list[Case] = []
    for route, handler in all_handlers(app):
        params = PARAM.findall(route)
        names = [n for n, _ in params]
        if persona in world.content_only and (
            "application_id" not in names or handler.handler_name in CLOSING_HANDLERS
        ):
            continue
        options = [candidates(world, persona, names, n, k) for n, k in params]
        for combo in itertools.product(*options):
            path = route
            for (name, kind), (_, value) in zip(params, combo, strict=True):
                path = path.replace(f"{{{name}:{kind}}}", value)
            objects = ", ".join(label for label, _ in combo) or "-"
            for method in sorted(handler.http_methods):
                if method == "HEAD":
                    continue  # the static files' HEAD shares the GET handler's answer
                data = form_data(world, persona, handler.handler_name) if method == "POST" else None
                for htmx in (False, True):
                    found.append(
                        Case(
                            persona, handler.handler_name, route, method, path, htmx, objects, data
                        )
                    )
                    if method == "GET":
                        found.append(
                            Case(
                                persona,
                                handler.handler_name,
                                route,
                                method,
                                f"{path}?{query}",
                                htmx,
                                objects + " + query",
                            )
                        )
    # Logging out ends the batch: whatever follows would be anonymous.
    found.sort(key=lambda c: (c.handler == "logout", c.method != "GET"))
    return found


# --- the database fingerprint -----------------------------------------------------------


_TABLES: list[str] = []


async def _tables() -> list[str]:
    """The tracked tables (the schema does not change during a run)."""
    if _TABLES:
        return _TABLES
    rows = await User.raw(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    _TABLES.extend(
        r["table_name"]
        for r in rows
        if r["table_name"] not in UNTRACKED_TABLES
        and not r["table_name"].startswith(UNTRACKED_PREFIXES)
    )
    return _TABLES


async def fingerprint(own_id: UUID | None) -> dict[str, str]:
    """md5 of every tracked table's rows (as JSON, sorted), in one query."""
    own = f"'{own_id}'::uuid" if own_id else "NULL::uuid"
    selects = []
    for table in await _tables():
        row = "to_jsonb(x)"
        dropped = UNTRACKED_COLUMNS.get(table, ())
        if dropped:
            row = f"({row} - ARRAY[{', '.join(repr(c) for c in dropped)}]::text[])"
        if table in OWN_ROW_COLUMNS:
            key, own_columns = OWN_ROW_COLUMNS[table]
            masked = ", ".join(repr(c) for c in own_columns)
            row = f"(CASE WHEN x.{key} = {own} THEN {row} - ARRAY[{masked}]::text[] ELSE {row} END)"
        where = ""
        if table in OWN_ROWS_SKIPPED:
            where = f' WHERE x."{OWN_ROWS_SKIPPED[table]}" IS DISTINCT FROM {own}'
        selects.append(
            f"SELECT '{table}' AS t, md5(coalesce(string_agg(r, '|' ORDER BY r), '')) AS h"
            f' FROM (SELECT {row}::text AS r FROM "{table}" x{where}) s'
        )
    rows = await User.raw(" UNION ALL ".join(selects))
    return {r["t"]: r["h"] for r in rows}


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in after if before.get(t) != after[t])


# --- the walk ---------------------------------------------------------------------------


def leaked(response, markers: list[str]) -> list[str]:
    haystack = (
        response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    ).lower()
    return [m for m in markers if m.lower() in haystack]


async def _log_in(client, user: User | None) -> None:
    client.cookies.clear()
    if user is not None:
        raw = await sessions.create_session(user.id)
        client.cookies.set(sessions.SESSION_COOKIE, raw, domain="testserver.local")


async def _send(client, case: Case):
    headers = {"HX-Request": "true"} if case.htmx else {}
    if case.method == "GET":
        return await client.get(case.path, headers=headers)
    return await client.post_form(case.path, case.data, headers=headers)


async def walk_persona(
    client,
    world,
    persona: str,
    cases: list[Case],
    findings: Findings,
) -> None:
    """One persona's batch in a savepoint: leaks per response, state once per batch."""
    user = world.personas[persona]
    transaction = DB.current_transaction.get()
    await _log_in(client, user)
    await client.csrf_token()
    own_id = user.id if user else None
    savepoint = await transaction.savepoint(f"matrix_{persona}")
    before = await fingerprint(own_id)
    for case in cases:
        response = await _send(client, case)
        findings.cases += 1
        mode = ("htmx " if case.htmx else "") + case.method
        findings.statuses[(persona, case.handler, case.objects, mode)] = response.status_code
        if response.status_code >= 500:
            findings.add("error", case, response.status_code, "server error")
        shown = leaked(response, world.markers_for(persona))
        if shown:
            findings.add("leak", case, response.status_code, "shows " + ", ".join(shown))
    after = await fingerprint(own_id)
    await savepoint.rollback_to()
    if not changed_tables(before, after):
        return
    await _split(client, user, cases, findings, f"matrix_{persona}_", changed_tables(before, after))


async def _split(client, user, cases: list[Case], findings: Findings, name: str, tables) -> None:
    """Name the culprits of a range that changed the database by replaying its halves.

    Culprits cluster on a few routes, so this replays far fewer requests than one by one. A
    change that only a sequence makes (neither half alone) is reported on the whole range."""
    before = len(findings.found)
    if len(cases) > 1:
        middle = len(cases) // 2
        await _bisect(client, user, cases[:middle], findings, name + "1")
        await _bisect(client, user, cases[middle:], findings, name + "2")
    if len(findings.found) == before:
        detail = "changed " + ", ".join(tables)
        if len(cases) > 1:
            detail += f" (with the {len(cases) - 1} requests after it, not alone)"
        findings.add("change", cases[0], 0, detail)


async def _bisect(client, user: User | None, cases: list[Case], findings: Findings, name: str):
    transaction = DB.current_transaction.get()
    own_id = user.id if user else None
    savepoint = await transaction.savepoint(name)
    await _log_in(client, user)
    await client.csrf_token()
    before = await fingerprint(own_id)
    statuses = [(await _send(client, case)).status_code for case in cases]
    tables = changed_tables(before, await fingerprint(own_id))
    await savepoint.rollback_to()
    if not tables:
        return
    if len(cases) == 1:
        findings.add("change", cases[0], statuses[0], "changed " + ", ".join(tables))
        return
    await _split(client, user, cases, findings, name, tables)
