"""Demandes: creation, the demande page, answers, invitations, archiving, files.

Handlers are thin: load the demande through the viewer's scope (a 404 outside it), check the
rule, call one domain function, then answer with the refreshed part of the page for htmx or a
303 with a flash message otherwise.
"""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from asyncpg.exceptions import UniqueViolationError
from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Template

from app import formatting, notifications, policies
from app.auth import loaded
from app.domain import application_forms as forms
from app.domain import applications, audit, canned_replies, files, presence, reference
from app.domain.application_forms import Checked
from app.domain.validators import ValidationError
from app.piccolo_conf import DB
from app.policies import (
    ApplicationById,
    ApplicationFacts,
    Viewer,
    can_answer,
    can_archive,
    can_ask_to_reopen,
    can_create_application,
    can_invite,
    can_open_application,
    can_print_mandat,
    can_see_presence,
    policy,
)
from app.security import client_address
from app.settings import get_settings
from app.tables import Answer, Attachment, User, UserSession
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
QUICK_REPLIES = ("take_charge", "wrong_recipient")


def _max_body() -> int:
    # Several files per form, plus the text fields; each file is checked on its own.
    return get_settings().max_file_bytes * 10 + 1024 * 1024


def _viewer(request: Request) -> Viewer:
    return request.scope["state"]["viewer"]


def _address(request: Request) -> str:
    return client_address(request.scope)


def _session_signature(request: Request) -> str:
    session = request.scope["state"].get("session") or {}
    return session.get("signature") or ""


async def _remember_signature(request: Request, signature: str) -> None:
    """Collective accounts sign each message; the signature is kept for the session."""
    session = request.scope["state"].get("session")
    if session and signature and signature != session.get("signature"):
        await UserSession.update({UserSession.signature: signature}).where(
            UserSession.id == session["id"]
        )


async def _acting_user(viewer: Viewer) -> User:
    return await User.objects().where(User.id == viewer.id).first()


async def _uploads(form: Any) -> list[tuple[str, bytes]]:
    # Uploads wait in spooled temporary files; at most one byte past the limit is read into
    # memory, enough for check_file to refuse the file as too big.
    limit = get_settings().max_file_bytes
    result = []
    for item in form.getall("files", []):
        if isinstance(item, UploadFile) and item.filename:
            result.append((item.filename, await item.read(limit + 1)))
    return result


def _check_files(uploads: list[tuple[str, bytes]], checked: Checked) -> list[files.CheckedFile]:
    result = []
    for filename, data in uploads:
        try:
            result.append(files.check_file(filename, data))
        except ValidationError as exc:
            checked.errors.setdefault("files", str(exc))
    return result


async def _store_files(
    request: Request, checked_files, *, application_id: UUID, answer_id: UUID | None
) -> None:
    viewer = _viewer(request)
    for checked in checked_files:
        attachment = await files.store(
            checked, application_id=application_id, uploader_id=viewer.id, answer_id=answer_id
        )
        await audit.record(
            audit.Event.FILE_UPLOADED,
            actor_id=viewer.id,
            application_id=application_id,
            file_id=attachment.id,
            client_address=_address(request),
        )


async def _deny(request: Request, facts: ApplicationFacts) -> None:
    """A demande the viewer may see but not act on this way: 403, in the audit log."""
    await audit.record(
        audit.Event.ACCESS_DENIED,
        actor_id=_viewer(request).id,
        application_id=facts.id,
        client_address=_address(request),
    )
    raise PermissionDeniedException()


# --- creation -------------------------------------------------------------------------------


async def _creation_context(request: Request, values: dict, errors: dict) -> dict:
    viewer = _viewer(request)
    my_groups = await applications.groups_by_ids(viewer.group_ids)
    picker = await applications.addressable_groups(values.get("area") or "")
    colleagues = await applications.colleagues_of(viewer.id, viewer.group_ids, helpers_only=True)
    return {
        "title": "Nouvelle demande",
        "values": values,
        "errors": errors,
        "my_groups": my_groups,
        "departements": reference.DEPARTEMENTS,
        "categories": reference.CATEGORIES,
        **_picker_context(picker, values),
        "colleagues": colleagues,
        "usager_fields": _usager_field_rows(),
        "mandat_kinds": forms.MANDAT_KINDS,
        "accept": files.ACCEPT_ATTRIBUTE,
        "accepted_label": files.ACCEPTED_LABEL,
        "max_file_mb": get_settings().max_file_bytes // (1024 * 1024),
        "retention_days": get_settings().files_retention_days,
        "subject_max": 150,
    }


def _picker_context(picker: list[dict], values: dict) -> dict:
    """Groups shown in the picker: the chosen category, plus whatever is already ticked."""
    category = values.get("category") or ""
    ticked = set(values.get("groups") or [])
    shown = [
        g for g in picker if not category or g["category"] == category or str(g["id"]) in ticked
    ]
    return {"picker_groups": shown, "picker_total": len(picker), "ticked": ticked}


def _usager_field_rows() -> list[dict]:
    required_by: dict[str, list[str]] = {}
    for organisation, codes in reference.REQUIRED_USAGER_FIELDS_BY_ORGANISATION.items():
        for code in codes:
            required_by.setdefault(code, []).append(reference.organisation(organisation).short_name)
    return [
        {"code": code, "label": label, "required_for": ", ".join(required_by.get(code, []))}
        for code, label in reference.USAGER_OPTIONAL_FIELDS
    ]


async def _default_values(request: Request) -> dict:
    viewer = _viewer(request)
    my_groups = await applications.groups_by_ids(viewer.group_ids)
    first = my_groups[0] if my_groups else None
    return {
        "area": (first["areas"][0] if first and first["areas"] else ""),
        "creator_group": str(first["id"]) if first else "",
        "category": "",
        "groups": [],
        "colleagues": [],
        "mandat_kind": "",
        "mandat_date": formatting.today().isoformat(),
        "signature": _session_signature(request),
        "creation_key": secrets.token_urlsafe(24),
    }


@get("/demandes/nouvelle", opt=policy(can_create_application))
async def new_application(request: Request) -> Template:
    values = await _default_values(request)
    return render(request, "applications/new.html", await _creation_context(request, values, {}))


@get("/demandes/nouvelle/organismes", opt=policy(can_create_application))
async def group_picker(request: Request) -> Template:
    """The organismes list for a territoire and a category (htmx; ids only in the URL)."""
    values = {
        "area": request.query_params.get("area", ""),
        "category": request.query_params.get("category", ""),
        "groups": request.query_params.getall("groups", []),
    }
    picker = await applications.addressable_groups(values["area"])
    context = {"values": values, "errors": {}, **_picker_context(picker, values)}
    return render(request, "applications/_group_picker.html", context)


@post(
    "/demandes/nouvelle",
    opt=policy(can_create_application),
    request_max_body_size=_max_body(),
)
async def create_application(request: Request) -> Response:
    viewer = _viewer(request)
    form = await request.form()
    if form.get("action") == "refresh":
        # "Mettre à jour la liste" without JavaScript: the same form, values kept, no errors.
        values = {**await _default_values(request), **_raw_values(form)}
        return render(
            request, "applications/new.html", await _creation_context(request, values, {})
        )

    key = forms.text(form, "creation_key")[:64]
    foreign_key = False
    if key:
        existing = await applications.find_by_creation_key(key)
        if existing is not None and existing.creator == viewer.id:
            # A double submission: the first one created the demande.
            return redirect(f"/demandes/{existing.id}", "Votre demande a été envoyée.")
        # Someone else's key (forged): never let it lead to their demande.
        foreign_key = existing is not None

    my_groups = await applications.groups_by_ids(viewer.group_ids)
    colleagues = await applications.colleagues_of(viewer.id, viewer.group_ids, helpers_only=True)
    picker = await applications.addressable_groups(forms.text(form, "area"))
    checked = forms.check_new_application(
        form,
        picker_groups=picker,
        creator_group_ids=[g["id"] for g in my_groups],
        colleague_ids={c["id"] for c in colleagues},
        is_collective=viewer.is_collective,
    )
    checked_files = _check_files(await _uploads(form), checked)
    if not checked.ok:
        return render(
            request,
            "applications/new.html",
            await _creation_context(request, checked.values, checked.errors),
            status_code=400,
        )

    c = checked.cleaned
    if foreign_key:
        c["creation_key"] = None
    creator = await _acting_user(viewer)
    try:
        application = await _create(request, c, creator, checked_files)
    except UniqueViolationError:
        # Two clicks raced past the check above: the other request created the demande.
        existing = await applications.find_by_creation_key(c["creation_key"] or "")
        if existing is None or existing.creator != viewer.id:
            raise
        application = existing
    await _remember_signature(request, c["signature"])
    return redirect(f"/demandes/{application.id}", "Votre demande a été envoyée.")


async def _create(request: Request, c: dict, creator: User, checked_files) -> Any:
    """The demande, its files, its audit event and its e-mails: all or nothing."""
    viewer = _viewer(request)
    async with DB.transaction():
        application = await applications.create_application(
            creator=creator,
            creator_group=c["creator_group"],
            area=c["area"],
            subject=c["subject"],
            usager_first_name=c["usager_first_name"],
            usager_last_name=c["usager_last_name"],
            usager_birth_date=c["usager_birth_date"],
            description=c["description"],
            groups=c["groups"],
            usager_fields=c["usager_fields"],
            colleagues=c["colleagues"],
            mandat_kind=c["mandat_kind"],
            mandat_date=c["mandat_date"],
            signature=c["signature"],
            creation_key=c["creation_key"],
        )
        await _store_files(request, checked_files, application_id=application.id, answer_id=None)
        await audit.record(
            audit.Event.APPLICATION_CREATED,
            actor_id=viewer.id,
            application_id=application.id,
            client_address=_address(request),
        )
        await notifications.application_created(application.id)
    return application


def _raw_values(form: Any) -> dict:
    """The typed values, to show the form again as it was."""
    values: dict[str, Any] = {}
    for name in form.keys():
        if name in ("groups", "colleagues"):
            values[name] = [str(v) for v in form.getall(name)]
        elif name not in ("files", "_csrf_token", "action"):
            value = form.get(name)
            values[name] = value if isinstance(value, str) else ""
    values["attestation"] = bool(form.get("attestation"))
    return values


# --- the demande page -------------------------------------------------------------------------


def _mask(value: str) -> str:
    return f"masqué ({len(value)} caractère{'s' if len(value) > 1 else ''})"


def _entry(answer: dict, viewer: Viewer, facts: ApplicationFacts, anonymised: bool) -> dict:
    """One thread entry as the viewer may see it; the anonymised copy carries lengths only."""
    entry = Fields(
        {
            **answer,
            "author_name": f"{answer['first_name']} {answer['last_name']}".strip(),
            "kind_label": KIND_LABELS.get(answer["kind"], ""),
            "added_fields": [
                {
                    "code": f["code"],
                    "label": reference.usager_field_label(f["code"]),
                    "value": f["value"],
                    "shown": formatting.usager_value(f["code"], f["value"]),
                }
                for f in answer["added_fields"]
            ],
            "is_private": answer["visibility"] != "public",
        }
    )
    if anonymised:
        entry["body_length"] = len(answer["body"] or "")
        entry["body"] = ""
        entry["signature"] = ""
        entry["files_count"] = len(answer["files"])
        entry["files"] = []
        entry["added_fields"] = [
            {**f, "value": _mask(f["value"]), "shown": _mask(f["value"])}
            for f in entry["added_fields"]
        ]
        entry["can_download"] = False
    else:
        entry["can_download"] = policies.can_download_file(viewer, facts, answer["visibility"])
    return entry


async def _page_context(
    request: Request,
    facts: ApplicationFacts,
    *,
    answer_form: dict | None = None,
    invite_form: dict | None = None,
    archive_form: dict | None = None,
    notice: str | None = None,
) -> dict:
    viewer = _viewer(request)
    anonymised = not policies.can_read_application(viewer, facts)
    view = await applications.load_demande(facts.id)
    app = Fields(view.application)
    entries = [
        _entry(a, viewer, facts, anonymised)
        for a in view.answers
        if anonymised or policies.can_read_answer(viewer, facts, a["visibility"])
    ]
    creator_view = policies.is_creator(viewer, facts)
    usager = [
        ("Prénom", app["usager_first_name"], ""),
        ("Nom", app["usager_last_name"], ""),
        ("Date de naissance", formatting.date_fr(app["usager_birth_date"]), ""),
    ] + [
        (reference.usager_field_label(f["code"]), f["value"], f["code"])
        for f in app["usager_fields"]
    ]
    # Fields added later by the creator appear in the usager box too (spec §4.2).
    for entry in entries:
        usager += [(f["label"], f["value"], f["code"]) for f in entry["added_fields"]]
    if anonymised:
        usager = [(label, _mask(value or "")) for label, value, _code in usager]
    else:
        usager = [(label, formatting.usager_value(code, value)) for label, value, code in usager]
    can = {
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
        "usager_fields": _usager_field_rows(),
        "usefulness": forms.USEFULNESS,
        "accept": files.ACCEPT_ATTRIBUTE,
        "accepted_label": files.ACCEPTED_LABEL,
        "max_file_mb": get_settings().max_file_bytes // (1024 * 1024),
        "retention_days": get_settings().files_retention_days,
        "notice": notice,
        "next_step": step,
        "next_step_text": step_text,
        # Folded forms open again when they hold errors, or after the no-JS "Afficher les
        # groupes de ce département" (a GET carrying the chosen département).
        "invite_open": bool((invite_form or {}).get("errors"))
        or "departement" in request.query_params,
        "presence_seconds": presence.POLL_SECONDS,
        "answer_form": answer_form
        or {"values": {"signature": _session_signature(request)}, "errors": {}},
        "archive_form": archive_form or {"values": {}, "errors": {}},
        "canned_replies": await canned_replies.of_groups(viewer.group_ids) if can["answer"] else [],
    }
    if can["invite"]:
        context.update(await _invite_context(request, facts, view, invite_form))
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


async def _invite_context(
    request: Request, facts: ApplicationFacts, view, invite_form: dict | None
) -> dict:
    viewer = _viewer(request)
    form = invite_form or {"values": {"signature": _session_signature(request)}, "errors": {}}
    departement = request.query_params.get("departement") or form["values"].get("departement")
    try:
        departement = reference.departement(departement or facts.area).code
    except KeyError:
        departement = facts.area
    on_demande = {p["id"] for p in view.participants}
    groups_on = {g["id"] for g in view.groups}
    colleagues = [
        c
        for c in await applications.colleagues_of(viewer.id, viewer.group_ids, helpers_only=False)
        if c["id"] not in on_demande
    ]
    groups = [
        g for g in await applications.addressable_groups(departement) if g["id"] not in groups_on
    ]
    return {
        # Offered while an active expert is not on it yet (participants are already loaded).
        "invite_experts": policies.can_invite_experts(viewer, facts)
        and any(e not in on_demande for e in await applications.active_expert_ids()),
        "invite_form": form,
        "invite_departement": departement,
        "invite_colleagues": colleagues,
        "invite_groups": groups,
        "departements": reference.DEPARTEMENTS,
    }


async def _load(request: Request, application_id: UUID) -> ApplicationFacts:
    return await policies.load_application_for(
        _viewer(request), application_id, client_address=_address(request)
    )


DEMANDE = ApplicationById()


def _facts(request: Request) -> ApplicationFacts:
    """The demande the guard loaded through the viewer's scope and checked."""
    return loaded(request, "application")


@get("/demandes/{application_id:uuid}", opt=policy(can_open_application, application=DEMANDE))
async def show_application(request: Request, application_id: FromPath[UUID]) -> Template:
    viewer = _viewer(request)
    facts = _facts(request)
    anonymised = not policies.can_read_application(viewer, facts)
    await audit.record(
        audit.Event.APPLICATION_OPENED_ANONYMISED if anonymised else audit.Event.APPLICATION_OPENED,
        actor_id=viewer.id,
        application_id=facts.id,
        client_address=_address(request),
    )
    context = await _page_context(request, facts)
    if not anonymised:
        await applications.mark_seen(facts.id, viewer.id)
    return render(request, "applications/show.html", context)


async def _answer_page(request: Request, application_id: UUID, message: str) -> Response:
    """After an action: the refreshed demande for htmx, a 303 with a flash message otherwise.

    The redirect's anchor brings the flash into view (it is above the header of the demande,
    far from the form that was posted); the flash takes the focus itself (_flashes.html).
    """
    if wants_fragment(request):
        facts = await _load(request, application_id)
        context = await _page_context(request, facts, notice=message)
        return render(
            request, "applications/show.html", context, fragment="applications/_demande.html"
        )
    return redirect(f"/demandes/{application_id}#confirmation", message)


async def _wiped_page(request: Request, facts: ApplicationFacts, wiped_at) -> Response:
    """The demande as it is now (metadata), with why nothing more can be done on it."""
    facts = await _load(request, facts.id)
    context = await _page_context(request, facts)
    context["refusal"] = applications.wiped_refusal(wiped_at)
    return render(
        request,
        "applications/show.html",
        context,
        fragment="applications/_demande.html" if wants_fragment(request) else None,
        status_code=200 if wants_fragment(request) else 409,
    )


def _error_page(request: Request, context: dict) -> Response:
    return render(
        request,
        "applications/show.html",
        context,
        fragment="applications/_demande.html",
        status_code=200 if wants_fragment(request) else 400,
    )


# --- presence and the printable mandat -----------------------------------------------------------


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
    viewer = _viewer(request)
    facts = _facts(request)
    form = await request.form()
    others = await presence.heartbeat(facts.id, viewer.id, writing=bool(form.get("ecrit")))
    return render(request, "applications/_presence.html", {"others": others})


def _mandat_context(values: dict, *, creator, groups: list, structure: str) -> dict:
    return {
        "title": "Mandat à faire signer",
        "v": values,
        "creator": creator,
        "structure": structure,
        "groups": groups,
        "fmt": formatting,
        "retention_days": get_settings().personal_data_retention_days,
    }


@get("/demandes/{application_id:uuid}/mandat", opt=policy(can_print_mandat, application=DEMANDE))
async def demande_mandat(request: Request, application_id: FromPath[UUID]) -> Template:
    """The mandat pre-filled from the demande: printed, signed on paper, never stored."""
    facts = _facts(request)
    view = await applications.load_demande(facts.id)
    app = view.application
    creator_group = await applications.groups_by_ids({facts.creator_group_id} - {None})
    creator = await User.objects().where(User.id == facts.creator_id).first()
    values = {
        "usager_first_name": app["usager_first_name"],
        "usager_last_name": app["usager_last_name"],
        "usager_birth_date": app["usager_birth_date"],
        "mandat_date": view.mandat["obtained_on"] if view.mandat else formatting.today(),
        "app_id": facts.id,
    }
    structure = creator_group[0]["name"] if creator_group else ""
    context = _mandat_context(values, creator=creator, groups=view.groups, structure=structure)
    return render(request, "applications/mandat.html", context)


@post(
    "/demandes/nouvelle/mandat",
    opt=policy(can_create_application),
    status_code=200,
    request_max_body_size=_max_body(),
)
async def new_application_mandat(request: Request) -> Template:
    """The mandat pre-filled from the creation form as typed so far (a POST: the usager's
    name never goes into a URL); nothing is stored."""
    viewer = _viewer(request)
    form = await request.form()
    my_groups = await applications.groups_by_ids(viewer.group_ids)
    chosen = forms.text(form, "creator_group")
    structure = next((g["name"] for g in my_groups if str(g["id"]) == chosen), "")
    if not structure and my_groups:
        structure = my_groups[0]["name"]
    picker = await applications.addressable_groups(forms.text(form, "area"))
    ticked = {str(g) for g in forms.uuids(form, "groups")}
    groups = [g for g in picker if str(g["id"]) in ticked]
    try:
        birth = formatting.parse_date(forms.text(form, "usager_birth_date"))
    except ValueError:
        birth = None
    try:
        mandat_date = formatting.parse_date(forms.text(form, "mandat_date")) or formatting.today()
    except ValueError:
        mandat_date = formatting.today()
    values = {
        "usager_first_name": forms.text(form, "usager_first_name")[:100],
        "usager_last_name": forms.text(form, "usager_last_name")[:100],
        "usager_birth_date": birth,
        "mandat_date": mandat_date,
        "app_id": None,
    }
    creator = await _acting_user(viewer)
    context = _mandat_context(values, creator=creator, groups=groups, structure=structure)
    return render(request, "applications/mandat.html", context)


# --- answering ----------------------------------------------------------------------------------


@post(
    "/demandes/{application_id:uuid}/reponses",
    opt=policy(can_answer, application=DEMANDE),
    request_max_body_size=_max_body(),
)
async def post_answer(request: Request, application_id: FromPath[UUID]) -> Response:
    viewer = _viewer(request)
    facts = _facts(request)
    form = await request.form()
    checked = Checked()
    v, errors = checked.values, checked.errors
    v["body"] = form.get("body") or ""
    body = v["body"].strip()
    quick = forms.text(form, "quick")
    v["irrelevant"] = bool(form.get("irrelevant"))
    v["private"] = bool(form.get("private"))
    v["processed"] = bool(form.get("processed"))
    v["signature"] = forms.text(form, "signature")
    if quick and quick not in QUICK_REPLIES:
        quick = ""
    # The form never offers these options to those who may not use them: a forged request.
    if (quick or v["irrelevant"] or v["processed"]) and not policies.can_use_instructor_options(
        viewer, facts
    ):
        await _deny(request, facts)
    if v["private"] and not policies.can_post_private_answer(viewer, facts):
        await _deny(request, facts)

    added_fields = []
    for code, _label in reference.USAGER_OPTIONAL_FIELDS:
        name = f"field_{code}"
        v[name] = forms.text(form, name)
        if v[name]:
            if not policies.can_add_usager_fields(viewer, facts):
                await _deny(request, facts)
            try:
                added_fields.append(
                    {"code": code, "value": forms.check_usager_field(code, v[name])}
                )
            except ValidationError as exc:
                errors[name] = str(exc)
    checked_files = _check_files(await _uploads(form), checked)
    if len(body) > forms.MESSAGE_MAX:
        errors["body"] = f"Le message ne doit pas dépasser {forms.MESSAGE_MAX} caractères."
    if v["irrelevant"] and not body:
        errors["body"] = "Indiquez la procédure standard que l'usager doit suivre."
    if not (body or checked_files or added_fields or quick or v["processed"]) and not errors:
        errors["body"] = "Votre message est vide : écrivez un message, joignez un fichier" + (
            " ou choisissez une réponse rapide."
            if policies.can_use_instructor_options(viewer, facts)
            else "."
        )
    if error := forms.signature_error(v["signature"], is_collective=viewer.is_collective):
        errors["signature"] = error
    if errors:
        context = await _page_context(request, facts, answer_form={"values": v, "errors": errors})
        return _error_page(request, context)

    kind = quick or ("usager_fields" if added_fields else "message")
    author = await _acting_user(viewer)
    try:
        await _save_answer(request, facts, author, v, kind, body, added_fields, checked_files)
    except applications.WipedError as wiped:
        return await _wiped_page(request, facts, wiped.wiped_at)
    await applications.mark_seen(facts.id, viewer.id)
    await _remember_signature(request, v["signature"])
    return await _answer_page(request, facts.id, "Votre message a été envoyé.")


async def _save_answer(
    request: Request,
    facts: ApplicationFacts,
    author: User,
    v: dict,
    kind: str,
    body: str,
    added_fields: list,
    checked_files: list,
) -> Answer:
    """One transaction: the answer, its files, the audit line, the notifications."""
    viewer = _viewer(request)
    async with DB.transaction():
        answer = await applications.post_answer(
            facts.id,
            author,
            body=body,
            kind=kind,
            visibility="instructors" if v["private"] else "public",
            marks_processed=v["processed"],
            marks_irrelevant=v["irrelevant"],
            added_fields=added_fields,
            author_group=_author_group(
                viewer, facts, await applications.load_participation_group(facts.id, viewer.id)
            ),
            signature=v["signature"],
        )
        await _store_files(request, checked_files, application_id=facts.id, answer_id=answer.id)
        await audit.record(
            audit.Event.ANSWER_POSTED,
            actor_id=viewer.id,
            application_id=facts.id,
            client_address=_address(request),
        )
        await notifications.answer_posted(answer.id)
    return answer


def _author_group(viewer: Viewer, facts: ApplicationFacts, participation_group: UUID | None):
    """The group the author speaks for: the one they were invited through, or the creator's."""
    if participation_group is not None:
        return participation_group
    if policies.is_creator(viewer, facts):
        return facts.creator_group_id
    return next(iter(viewer.group_ids)) if len(viewer.group_ids) == 1 else None


# --- inviting -----------------------------------------------------------------------------------


INVITE = policy(can_invite, application=DEMANDE)


@get("/demandes/{application_id:uuid}/invitations/groupes", opt=INVITE)
async def invite_group_picker(request: Request, application_id: FromPath[UUID]) -> Template:
    """The groups of a département that can be invited (htmx partial of the invite form)."""
    facts = _facts(request)
    view = await applications.load_demande(facts.id)
    context = await _invite_context(request, facts, view, None)
    return render(request, "applications/_invite_groups.html", {**context, "app": view.application})


@post("/demandes/{application_id:uuid}/invitations", opt=INVITE)
async def post_invitation(request: Request, application_id: FromPath[UUID]) -> Response:
    viewer = _viewer(request)
    facts = _facts(request)
    form = await request.form()
    v: dict[str, Any] = {
        "body": form.get("body") or "",
        "private": bool(form.get("private")),
        "users": [str(u) for u in forms.uuids(form, "users")],
        "groups": [str(g) for g in forms.uuids(form, "groups")],
        "experts": bool(form.get("experts")),
        "departement": forms.text(form, "departement"),
        "signature": forms.text(form, "signature"),
    }
    errors: dict[str, str] = {}
    if v["private"] and not policies.can_post_private_answer(viewer, facts):
        await _deny(request, facts)
    colleagues = {
        c["id"]
        for c in await applications.colleagues_of(viewer.id, viewer.group_ids, helpers_only=False)
    }
    user_ids = [u for u in forms.uuids(form, "users") if u in colleagues]
    instructors = await applications.active_instructor_ids(forms.uuids(form, "groups"))
    group_ids = [g for g, members in instructors.items() if members]
    experts = (
        v["experts"]
        and policies.can_invite_experts(viewer, facts)
        and bool(await applications.experts_not_on(facts.id))
    )
    if not user_ids and not group_ids and not experts:
        errors["invitees"] = "Choisissez au moins un collègue, un groupe ou les experts à inviter."
    if len(v["body"]) > forms.MESSAGE_MAX:
        errors["body"] = f"Le message ne doit pas dépasser {forms.MESSAGE_MAX} caractères."
    if error := forms.signature_error(v["signature"], is_collective=viewer.is_collective):
        errors["signature"] = error
    if errors:
        context = await _page_context(request, facts, invite_form={"values": v, "errors": errors})
        return _error_page(request, context)

    author = await _acting_user(viewer)
    async with DB.transaction():
        invitation = await applications.invite(
            facts.id,
            author,
            user_ids=user_ids,
            group_ids=group_ids,
            body=v["body"].strip(),
            visibility="instructors" if v["private"] else "public",
            author_group=_author_group(
                viewer, facts, await applications.load_participation_group(facts.id, viewer.id)
            ),
            signature=v["signature"],
            experts=experts,
        )
        if user_ids or experts:
            await audit.record(
                audit.Event.USERS_INVITED,
                actor_id=viewer.id,
                application_id=facts.id,
                client_address=_address(request),
            )
        for group_id in group_ids:
            await audit.record(
                audit.Event.GROUP_INVITED,
                actor_id=viewer.id,
                application_id=facts.id,
                group_id=group_id,
                client_address=_address(request),
            )
        await notifications.invitation_sent(invitation)
    await _remember_signature(request, v["signature"])
    return await _answer_page(request, facts.id, "Les invitations ont été envoyées.")


# --- archiving ----------------------------------------------------------------------------------


@post("/demandes/{application_id:uuid}/archivage", opt=policy(can_archive, application=DEMANDE))
async def archive_application(request: Request, application_id: FromPath[UUID]) -> Response:
    viewer = _viewer(request)
    facts = _facts(request)
    form = await request.form()
    usefulness: str | None = forms.text(form, "usefulness")
    # The rating is the aidant's; an admin closing a stalled demande does not give one.
    rates = policies.is_on_creator_side(viewer, facts)
    if not rates:
        usefulness = None
    elif usefulness not in {code for code, _label, _emoji in forms.USEFULNESS}:
        context = await _page_context(
            request,
            facts,
            archive_form={
                "values": {},
                "errors": {"usefulness": "Indiquez si Administration+ vous a été utile."},
            },
        )
        return _error_page(request, context)
    async with DB.transaction():
        await applications.archive(facts.id, await _acting_user(viewer), usefulness)
        await audit.record(
            audit.Event.APPLICATION_ARCHIVED,
            actor_id=viewer.id,
            application_id=facts.id,
            client_address=_address(request),
        )
    return await _answer_page(request, facts.id, "La demande est archivée.")


# Who may reopen, wiped or not: a wiped demande gets the reason rather than a bare 403.
@post(
    "/demandes/{application_id:uuid}/reouverture",
    opt=policy(can_ask_to_reopen, application=DEMANDE),
)
async def reopen_application(request: Request, application_id: FromPath[UUID]) -> Response:
    viewer = _viewer(request)
    facts = _facts(request)
    if facts.is_wiped:
        return await _wiped_page(request, facts, facts.personal_data_wiped_at)
    try:
        async with DB.transaction():
            await applications.reopen(facts.id, await _acting_user(viewer))
            await audit.record(
                audit.Event.APPLICATION_REOPENED,
                actor_id=viewer.id,
                application_id=facts.id,
                client_address=_address(request),
            )
    except applications.WipedError as wiped:
        return await _wiped_page(request, facts, wiped.wiped_at)
    return await _answer_page(request, facts.id, "La demande est rouverte.")


# --- files --------------------------------------------------------------------------------------


@get(
    "/demandes/{application_id:uuid}/fichiers/{file_id:uuid}",
    opt=policy(can_open_application, application=DEMANDE),
)
async def download_file(
    request: Request, application_id: FromPath[UUID], file_id: FromPath[UUID]
) -> Response:
    viewer = _viewer(request)
    facts = _facts(request)
    attachment = (
        await Attachment.select()
        .where((Attachment.id == file_id) & (Attachment.application == facts.id))
        .first()
    )
    visibility = "public"
    if attachment is not None and attachment["answer"] is not None:
        answer = (
            await Answer.select(Answer.visibility).where(Answer.id == attachment["answer"]).first()
        )
        visibility = answer["visibility"]
    if attachment is None or not policies.can_download_file(viewer, facts, visibility):
        await audit.record(
            audit.Event.NOT_FOUND_IN_SCOPE,
            actor_id=viewer.id,
            application_id=facts.id,
            file_id=file_id,
            client_address=_address(request),
        )
        raise NotFoundException()
    if attachment["deleted_at"] is not None:
        return render(
            request,
            "applications/file_deleted.html",
            {
                "title": "Fichier supprimé",
                "app_id": facts.id,
                "attachment": attachment,
                "fmt": formatting,
                "retention_days": get_settings().files_retention_days,
            },
            status_code=410,
        )
    content = files.read(attachment["id"], attachment["key_id"])
    await audit.record(
        audit.Event.FILE_DOWNLOADED,
        actor_id=viewer.id,
        application_id=facts.id,
        file_id=attachment["id"],
        client_address=_address(request),
    )
    return Response(
        content,
        media_type=attachment["content_type"],
        headers={
            "Content-Disposition": files.content_disposition(attachment["filename"]),
            "Cache-Control": "no-store",
        },
    )


router = Router(
    path="",
    route_handlers=[
        new_application,
        group_picker,
        create_application,
        show_application,
        presence_fragment,
        demande_mandat,
        new_application_mandat,
        post_answer,
        invite_group_picker,
        post_invitation,
        archive_application,
        reopen_application,
        download_file,
    ],
)
