"""Checking the forms posted on an open demande: an answer, an invitation, the archiving.

Each check returns a `Checked` (values kept for re-display, French errors, cleaned values) and
sets `forged` when the form uses an option it never offers this viewer: the handler refuses
such a post whole, with the predicates of app/policies.py deciding what is offered.
"""

from __future__ import annotations

from app import policies
from app.domain import applications, reference
from app.domain.application_forms import (
    MESSAGE_MAX,
    USEFULNESS,
    Checked,
    FormData,
    check_files,
    check_usager_field,
    read_uploads,
    signature_error,
    text,
    uuids,
)
from app.domain.validators import ValidationError
from app.policies import ApplicationFacts, Viewer

QUICK_REPLIES = ("take_charge", "wrong_recipient")


def _length_error(checked: Checked, body: str) -> None:
    if len(body) > MESSAGE_MAX:
        checked.errors["body"] = f"Le message ne doit pas dépasser {MESSAGE_MAX} caractères."


def _signature_error(checked: Checked, viewer: Viewer) -> None:
    error = signature_error(checked.values["signature"], is_collective=viewer.is_collective)
    if error:
        checked.errors["signature"] = error


def _added_fields(form: FormData, checked: Checked, viewer: Viewer, facts: ApplicationFacts):
    """Usager fields added with the answer (the creator's side only)."""
    added = []
    for code, _label in reference.USAGER_OPTIONAL_FIELDS:
        name = f"field_{code}"
        checked.values[name] = text(form, name)
        if not checked.values[name]:
            continue
        if not policies.can_add_usager_fields(viewer, facts):
            checked.forged = True
        try:
            added.append({"code": code, "value": check_usager_field(code, checked.values[name])})
        except ValidationError as exc:
            checked.errors[name] = str(exc)
    return added


async def check_answer(
    form: FormData, viewer: Viewer, facts: ApplicationFacts, *, max_file_bytes: int
) -> Checked:
    """A message, a quick reply, added usager fields or files; cleaned as post_answer takes."""
    checked = Checked()
    v, errors = checked.values, checked.errors
    v["body"] = form.get("body") or ""
    body = v["body"].strip()
    quick = text(form, "quick")
    quick = quick if quick in QUICK_REPLIES else ""
    for flag in ("irrelevant", "private", "processed"):
        v[flag] = bool(form.get(flag))
    v["signature"] = text(form, "signature")
    instructor = policies.can_use_instructor_options(viewer, facts)
    if (quick or v["irrelevant"] or v["processed"]) and not instructor:
        checked.forged = True
    if v["private"] and not policies.can_post_private_answer(viewer, facts):
        checked.forged = True
    added_fields = _added_fields(form, checked, viewer, facts)
    check_files(await read_uploads(form, max_file_bytes), checked)
    _length_error(checked, body)
    if v["irrelevant"] and not body:
        errors["body"] = "Indiquez la procédure standard que l'usager doit suivre."
    if not (body or checked.files or added_fields or quick or v["processed"]) and not errors:
        errors["body"] = "Votre message est vide : écrivez un message, joignez un fichier" + (
            " ou choisissez une réponse rapide." if instructor else "."
        )
    _signature_error(checked, viewer)
    checked.cleaned = {
        "body": body,
        "kind": quick or ("usager_fields" if added_fields else "message"),
        "visibility": "instructors" if v["private"] else "public",
        "marks_processed": v["processed"],
        "marks_irrelevant": v["irrelevant"],
        "added_fields": added_fields,
        "signature": v["signature"],
    }
    return checked


async def check_invitation(form: FormData, viewer: Viewer, facts: ApplicationFacts) -> Checked:
    """Colleagues of the viewer, groups with an active instructeur, or the experts."""
    checked = Checked()
    v = checked.values
    v.update(
        body=form.get("body") or "",
        private=bool(form.get("private")),
        users=[str(u) for u in uuids(form, "users")],
        groups=[str(g) for g in uuids(form, "groups")],
        experts=bool(form.get("experts")),
        departement=text(form, "departement"),
        signature=text(form, "signature"),
    )
    if v["private"] and not policies.can_post_private_answer(viewer, facts):
        checked.forged = True
    colleagues = {
        c["id"]
        for c in await applications.colleagues_of(viewer.id, viewer.group_ids, helpers_only=False)
    }
    instructors = await applications.active_instructor_ids(uuids(form, "groups"))
    experts = (
        v["experts"]
        and policies.can_invite_experts(viewer, facts)
        and bool(await applications.experts_not_on(facts.id))
    )
    checked.cleaned = {
        "user_ids": [u for u in uuids(form, "users") if u in colleagues],
        "group_ids": [g for g, members in instructors.items() if members],
        "experts": experts,
        "body": v["body"].strip(),
        "visibility": "instructors" if v["private"] else "public",
        "signature": v["signature"],
    }
    if not (checked.cleaned["user_ids"] or checked.cleaned["group_ids"] or experts):
        checked.errors["invitees"] = (
            "Choisissez au moins un collègue, un groupe ou les experts à inviter."
        )
    _length_error(checked, v["body"])
    _signature_error(checked, viewer)
    return checked


def check_archive(form: FormData, viewer: Viewer, facts: ApplicationFacts) -> Checked:
    """The usefulness rating is the aidant's; an admin closing a stalled demande gives none."""
    checked = Checked()
    checked.cleaned["usefulness"] = None
    if policies.is_on_creator_side(viewer, facts):
        usefulness = text(form, "usefulness")
        if usefulness in {code for code, _label, _emoji in USEFULNESS}:
            checked.cleaned["usefulness"] = usefulness
        else:
            checked.errors["usefulness"] = "Indiquez si Administration+ vous a été utile."
    return checked
