"""Creating a demande: the form, its organismes picker, the submission."""

from __future__ import annotations

import secrets

from litestar import Request, Response, get, post
from litestar.response import Template

from app import formatting
from app.domain import application_forms as forms
from app.domain import applications, demande_actions, reference
from app.policies import can_create_application, policy
from app.routes.applications.page import max_body, upload_context, usager_field_rows
from app.routes.common import address, current_viewer, remember_signature, session_signature
from app.settings import get_settings
from app.templating import redirect, render

CREATE = policy(can_create_application)
SENT = "Votre demande a été envoyée."


async def _creation_context(request: Request, values: dict, errors: dict) -> dict:
    viewer = current_viewer(request)
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
        "usager_fields": usager_field_rows(),
        "mandat_kinds": forms.MANDAT_KINDS,
        **upload_context(),
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


async def _default_values(request: Request) -> dict:
    viewer = current_viewer(request)
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
        "signature": session_signature(request),
        "creation_key": secrets.token_urlsafe(24),
    }


async def _form_page(request: Request, values: dict, errors: dict, status_code: int = 200):
    context = await _creation_context(request, values, errors)
    return render(request, "applications/new.html", context, status_code=status_code)


@get("/demandes/nouvelle", opt=CREATE)
async def new_application(request: Request) -> Template:
    return await _form_page(request, await _default_values(request), {})


@get("/demandes/nouvelle/organismes", opt=CREATE)
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


@post("/demandes/nouvelle", opt=CREATE, request_max_body_size=max_body())
async def create_application(request: Request) -> Response:
    viewer = current_viewer(request)
    form = await request.form()
    if form.get("action") == "refresh":
        # "Mettre à jour la liste" without JavaScript: the same form, values kept, no errors.
        return await _form_page(
            request, {**await _default_values(request), **forms.raw_values(form)}, {}
        )
    earlier = await demande_actions.earlier_submission(viewer, forms.text(form, "creation_key"))
    if earlier is not None:
        # A double submission: the first one created the demande.
        return redirect(f"/demandes/{earlier.id}", SENT)
    checked = await forms.check_creation(form, viewer, max_file_bytes=get_settings().max_file_bytes)
    if not checked.ok:
        return await _form_page(request, checked.values, checked.errors, status_code=400)
    application = await demande_actions.create(
        viewer, checked.cleaned, checked.files, client_address=address(request)
    )
    await remember_signature(request, checked.cleaned["signature"])
    return redirect(f"/demandes/{application.id}", SENT)
