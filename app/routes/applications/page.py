"""The demande page: what each viewer sees of it, their next step, and the answers every
action on the demande gives (the refreshed page for htmx, a 303 with a flash otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from app import formatting, policies
from app.auth import loaded
from app.domain import application_forms as forms
from app.domain import applications, canned_replies, demande_actions, files, presence, reference
from app.policies import (
    ApplicationById,
    ApplicationFacts,
    Viewer,
    can_open_application,
    can_see_presence,
    policy,
)
from app.routes.common import address, current_viewer, session_signature
from app.settings import get_settings
from app.templating import Fields, redirect, render, wants_fragment

STATUS_BADGES = {
    "new": "fr-badge--new",
    "in_progress": "fr-badge--info",
    "processed": "fr-badge--success",
    "archived": "",
}
KIND_LABELS = {
    "take_charge": "Je m'en occupe",
    "wrong_recipient": "Je ne suis pas le bon interlocuteur",
    "invitation": "Invitation",
    "usager_fields": "Informations sur l'usager ajoutées",
    "archive": "Demande archivée",
    "reopen": "Demande rouverte",
    "experts_added": "Experts ajoutés",
}
DEMANDE = ApplicationById()


def max_body() -> int:
    # Several files per form, plus the text fields; each file is checked on its own.
    return get_settings().max_file_bytes * 10 + 1024 * 1024


def upload_context() -> dict:
    """What the file inputs say: accepted types, size limit, how long files are kept."""
    return {
        "accept": files.ACCEPT_ATTRIBUTE,
        "accepted_label": files.ACCEPTED_LABEL,
        "max_file_mb": get_settings().max_file_bytes // (1024 * 1024),
        "retention_days": get_settings().files_retention_days,
    }


def facts_of(request: Request) -> ApplicationFacts:
    """The demande the guard loaded through the viewer's scope and checked."""
    return loaded(request, "application")


@cache
def usager_field_rows() -> list[dict]:
    """The optional usager fields and who requires them (reference data: built once)."""
    required_by: dict[str, list[str]] = {}
    for organisation, codes in reference.REQUIRED_USAGER_FIELDS_BY_ORGANISATION.items():
        for code in codes:
            required_by.setdefault(code, []).append(reference.organisation(organisation).short_name)
    return [
        {"code": code, "label": label, "required_for": ", ".join(required_by.get(code, []))}
        for code, label in reference.USAGER_OPTIONAL_FIELDS
    ]


# --- the demande page -------------------------------------------------------------------------


def _mask(value: str) -> str:
    return f"masqué ({len(value)} caractère{'s' if len(value) > 1 else ''})"


@dataclass(slots=True)
class EntryView:
    """One thread entry as the viewer may see it, each shown value computed once.

    Attributes rather than dict keys, and the time already formatted: the thread template reads
    about twenty of them per entry, and a long thread made its rendering the page's main cost.
    The anonymised copy carries lengths only.
    """

    id: UUID
    kind: str
    kind_label: str
    author_name: str
    author_group_name: str | None
    time_iso: str
    time_label: str
    is_private: bool
    marks_processed: bool
    marks_irrelevant: bool
    # Who an invitation brought in, joined; None when there is nobody to name.
    invited: str | None
    body: str
    body_length: int
    signature: str
    files: list[Fields]
    files_count: int
    can_download: bool
    added_fields: list[Fields]


def _entry(answer: dict, viewer: Viewer, facts: ApplicationFacts, anonymised: bool) -> EntryView:
    kind, created_at = answer["kind"], answer["created_at"]
    names = [*answer["invited_users"], *answer["invited_groups"]]
    if answer["invited"].get("experts"):
        names.append("l'équipe Administration+ (experts)")
    added = [
        Fields(
            code=f["code"],
            label=reference.usager_field_label(f["code"]),
            value=f["value"],
            shown=formatting.usager_value(f["code"], f["value"]),
        )
        for f in answer["added_fields"]
    ]
    if anonymised:
        added = [Fields(f, value=_mask(f["value"]), shown=_mask(f["value"])) for f in added]
    return EntryView(
        id=answer["id"],
        kind=kind,
        kind_label=KIND_LABELS.get(kind, ""),
        author_name=f"{answer['first_name']} {answer['last_name']}".strip(),
        author_group_name=answer["author_group_name"],
        time_iso=created_at.isoformat(),
        time_label=formatting.datetime_fr(created_at),
        is_private=answer["visibility"] != "public",
        marks_processed=answer["marks_processed"],
        marks_irrelevant=answer["marks_irrelevant"],
        invited=", ".join(names) if kind == "invitation" and names else None,
        body="" if anonymised else answer["body"],
        body_length=len(answer["body"] or ""),
        signature="" if anonymised else answer["signature"],
        files=[] if anonymised else [Fields(f) for f in answer["files"]],
        files_count=len(answer["files"]),
        can_download=not anonymised
        and policies.can_download_file(viewer, facts, answer["visibility"]),
        added_fields=added,
    )


def _abilities(viewer: Viewer, facts: ApplicationFacts, anonymised: bool) -> dict[str, bool]:
    return {
        "read": not anonymised,
        "download": (not anonymised) and policies.can_download_file(viewer, facts),
        "answer": policies.can_answer(viewer, facts),
        "instructor_options": policies.can_use_instructor_options(viewer, facts),
        "private": policies.can_post_private_answer(viewer, facts),
        "add_fields": policies.can_add_usager_fields(viewer, facts),
        "invite": policies.can_invite(viewer, facts),
        "archive": policies.can_archive(viewer, facts),
        "rate_usefulness": policies.is_on_creator_side(viewer, facts),
        "reopen": policies.can_reopen(viewer, facts),
        "print_mandat": policies.can_print_mandat(viewer, facts),
    }


async def page_context(
    request: Request,
    facts: ApplicationFacts,
    *,
    answer_form: dict | None = None,
    invite_form: dict | None = None,
    archive_form: dict | None = None,
    notice: str | None = None,
    opening: bool = False,
) -> dict:
    """The demande page's context; `opening`: this is the page opened (not redrawn after an
    action), so its audit event and seen mark ride in the page's read statement."""
    viewer = current_viewer(request)
    anonymised = not policies.can_read_application(viewer, facts)
    can = _abilities(viewer, facts, anonymised)
    # The réponses types and the invite form's lists, read with the demande.
    wanted = applications.ListsWanted(
        viewer.id,
        viewer.group_ids,
        invite_departement(request, facts, invite_form) if can["invite"] else None,
        canned_replies.rows_of_groups(viewer.group_ids) if can["answer"] else None,
    )
    writes: list = []
    if opening:
        writes = demande_actions.opening_writes(
            viewer, facts, anonymised=anonymised, client_address=address(request)
        )
    view = await applications.load_demande(facts.id, lists=wanted, writes=writes)
    if opening:
        demande_actions.opening_logged(viewer, facts, anonymised=anonymised)
    app = Fields(view.application)
    shown = [
        a
        for a in view.answers
        if anonymised or policies.can_read_answer(viewer, facts, a["visibility"])
    ]
    entries = [_entry(a, viewer, facts, anonymised) for a in shown]
    creator_view = policies.is_creator(viewer, facts)
    usager = [
        ("Prénom", app["usager_first_name"], ""),
        ("Nom", app["usager_last_name"], ""),
        ("Date de naissance", formatting.date_fr(app["usager_birth_date"]), ""),
    ] + [
        (reference.usager_field_label(f["code"]), f["value"], f["code"])
        for f in app["usager_fields"]
    ]
    # Fields added later by the creator appear in the usager box too (spec §4.2); from the
    # answers themselves, whose values the anonymised entries no longer hold.
    usager += [
        (reference.usager_field_label(f["code"]), f["value"], f["code"])
        for a in shown
        for f in a["added_fields"]
    ]
    if anonymised:
        usager = [(label, _mask(value or "")) for label, value, _code in usager]
    else:
        usager = [(label, formatting.usager_value(code, value)) for label, value, code in usager]
    step, step_text = next_step(app["status"], can, creator_side=can["rate_usefulness"])
    context: dict[str, Any] = {
        "title": "Demande archivée"
        if facts.is_wiped
        else ("Demande" if anonymised else app["subject"]),
        "wiped_after_days": get_settings().personal_data_retention_days,
        "app": app,
        "facts": facts,
        "anonymised": anonymised,
        "can": can,
        "status_label": applications.status_label(app["status"], creator_view),
        "status_badge": STATUS_BADGES[app["status"]],
        "area_label": reference.departement(app["area"]).label,
        "usager": usager,
        "description_length": len(app["description"] or ""),
        "mandat": view.mandat,
        "mandat_label": dict(forms.MANDAT_KINDS).get(view.mandat["kind"], "")
        if view.mandat
        else "",
        "files": [] if anonymised else view.files,
        "files_count": len(view.files),
        "groups": view.groups,
        "participants": [Fields(p) for p in view.participants],
        "entries": entries,
        "fmt": formatting,
        "usager_fields": usager_field_rows(),
        "usefulness": forms.USEFULNESS,
        **upload_context(),
        "notice": notice,
        "next_step": step,
        "next_step_text": step_text,
        # Folded forms open again when they hold errors, or after the no-JS "Afficher les
        # groupes de ce département" (a GET carrying the chosen département).
        "invite_open": bool((invite_form or {}).get("errors"))
        or "departement" in request.query_params,
        "presence_seconds": presence.POLL_SECONDS,
        "answer_form": answer_form
        or {"values": {"signature": session_signature(request)}, "errors": {}},
        "archive_form": archive_form or {"values": {}, "errors": {}},
    }
    lists = view.lists
    assert lists is not None
    context["canned_replies"] = canned_replies.from_rows(lists.more or [])
    if lists.invite is not None:
        context.update(await invite_context(request, facts, invite_form, lists.invite))
    return context


def next_step(status: str, can: dict, *, creator_side: bool) -> tuple[str | None, str]:
    """What this viewer should do first on the demande, shown at the top of the page.

    The aidant's side archives a processed demande and waits on a new one; whoever may answer
    an open demande is sent to the reply form; an archived demande offers reopening. Other
    actions stay folded below the thread (docs/decisions/2026-12-01-demande-next-step.md).
    """
    if status == "archived":
        return ("reopen", "") if can["reopen"] else (None, "")
    if status == "processed" and creator_side and can["archive"]:
        return "archive", ""
    if not can["answer"]:
        return None, ""
    if can["instructor_options"]:
        if status == "new":
            return "answer", "prendre la demande en charge ou répondre à l'aidant"
        return "answer", "répondre à l'aidant"
    if creator_side:
        if status == "new":
            return "wait", ""
        return "answer", "répondre aux organismes"
    return "answer", "répondre"


def invite_departement(request: Request, facts: ApplicationFacts, invite_form: dict | None) -> str:
    """The département whose groups the invite form lists: chosen (query or posted form), else
    the demande's own."""
    values = (invite_form or {}).get("values", {})
    departement = request.query_params.get("departement") or values.get("departement")
    try:
        return reference.departement(departement or facts.area).code
    except KeyError:
        return facts.area


async def invite_context(
    request: Request,
    facts: ApplicationFacts,
    invite_form: dict | None,
    choices: applications.InviteChoices | None = None,
) -> dict:
    viewer = current_viewer(request)
    form = invite_form or {"values": {"signature": session_signature(request)}, "errors": {}}
    departement = invite_departement(request, facts, invite_form)
    if choices is None:
        choices = await applications.invite_choices(
            facts.id, viewer.id, viewer.group_ids, departement
        )
    return {
        # Offered while an active expert is not on it yet.
        "invite_experts": policies.can_invite_experts(viewer, facts) and choices.expert_missing,
        "invite_form": form,
        "invite_departement": departement,
        "invite_colleagues": choices.colleagues,
        "invite_groups": choices.groups,
    }


async def _load(request: Request, application_id: UUID) -> ApplicationFacts:
    return await policies.load_application_for(
        current_viewer(request), application_id, client_address=address(request)
    )


@get("/demandes/{application_id:uuid}", opt=policy(can_open_application, application=DEMANDE))
async def show_application(request: Request, application_id: FromPath[UUID]) -> Template:
    context = await page_context(request, facts_of(request), opening=True)
    return render(request, "applications/show.html", context)


async def answer_page(request: Request, application_id: UUID, message: str) -> Response:
    """After an action: the refreshed demande for htmx, a 303 with a flash message otherwise.

    The redirect's anchor brings the flash into view (it is above the header of the demande,
    far from the form that was posted); the flash takes the focus itself (_flashes.html).
    """
    if wants_fragment(request):
        facts = await _load(request, application_id)
        context = await page_context(request, facts, notice=message)
        return render(
            request, "applications/show.html", context, fragment="applications/_demande.html"
        )
    return redirect(f"/demandes/{application_id}#confirmation", message)


async def wiped_page(request: Request, facts: ApplicationFacts, wiped_at) -> Response:
    """The demande as it is now (metadata), with why nothing more can be done on it."""
    facts = await _load(request, facts.id)
    context = await page_context(request, facts)
    context["refusal"] = applications.wiped_refusal(wiped_at)
    return render(
        request,
        "applications/show.html",
        context,
        fragment="applications/_demande.html" if wants_fragment(request) else None,
        status_code=200 if wants_fragment(request) else 409,
    )


async def form_errors_page(request: Request, facts: ApplicationFacts, **posted: Any) -> Response:
    """The demande again with the posted form's values and errors (answer_form=checked.form,
    invite_form=…, archive_form=…): 400, or 200 for htmx, which only swaps 2xx answers."""
    context = await page_context(request, facts, **posted)
    return render(
        request,
        "applications/show.html",
        context,
        fragment="applications/_demande.html",
        status_code=200 if wants_fragment(request) else 400,
    )


@post(
    "/demandes/{application_id:uuid}/presence",
    opt=policy(can_see_presence, application=DEMANDE),
    status_code=200,
)
async def presence_fragment(request: Request, application_id: FromPath[UUID]) -> Template:
    """The htmx poll of the demande page: a heartbeat, answered with who else is there.

    A POST (it writes the heartbeat) that only htmx sends; outside the viewer's scope it is a
    404 like the page itself, so it tells nothing about who looks at what.
    """
    viewer = current_viewer(request)
    facts = facts_of(request)
    form = await request.form()
    others = await presence.heartbeat(facts.id, viewer.id, writing=bool(form.get("ecrit")))
    return render(request, "applications/_presence.html", {"others": others})
