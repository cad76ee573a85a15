"""Admin: pre-registering aidants by e-mail, and importing groups and accounts from a CSV."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from app.domain import admin
from app.domain.validators import ValidationError, uuids
from app.routes.admin.shared import MANAGE
from app.routes.common import address, current_viewer, form_dict
from app.settings import get_settings
from app.templating import redirect, render


def _preregistration_page(
    request: Request, groups: list, text: str = "", group_id: str = "", status_code=200, **result
) -> Template:
    context = {
        "title": "Pré-inscription d'aidants",
        "groups": groups,
        "text": text,
        "group_id": group_id,
        "lines": None,
        "error": None,
        **result,
    }
    return render(request, "admin/preregistration.html", context, status_code=status_code)


@get("/admin/preinscription", opt=MANAGE)
async def preregistration(request: Request) -> Template:
    return _preregistration_page(request, await admin.list_groups(current_viewer(request)))


@post("/admin/preinscription", opt=MANAGE)
async def preregistration_post(request: Request) -> Response:
    viewer, data = current_viewer(request), await form_dict(request)
    text, group_id = data.get("emails", ""), data.get("group", "")
    chosen = uuids([group_id])
    group = await admin.load_group(viewer, chosen[0]) if chosen else None
    groups = await admin.list_groups(viewer)
    if group is None:
        error = "Choisissez le groupe des aidants."
        return _preregistration_page(request, groups, text, group_id, 422, error=error)
    if data.get("operation") == "confirmer":
        created, added = await admin.apply_preregistration(
            viewer, text, group, client_address=address(request)
        )
        return redirect(
            "/admin/preinscription",
            f"{created} compte(s) créé(s), {added} compte(s) existant(s) ajouté(s) au groupe.",
        )
    lines = await admin.preregistration(text, group)
    return _preregistration_page(request, groups, text, group_id, lines=lines)


def _import_page(request: Request, text: str, status_code: int = 200, **result) -> Template:
    context = {
        "title": "Import de groupes et d'utilisateurs",
        "text": text,
        "columns": admin.IMPORT_COLUMNS,
        **result,
    }
    return render(request, "admin/import.html", context, status_code=status_code)


@get("/admin/import", opt=MANAGE)
async def import_form(request: Request) -> Template:
    return _import_page(request, "", lines=None, error=None)


async def _import_text(form) -> str:
    """The CSV pasted, or the file sent instead (its encoding guessed, or a French error)."""
    upload = form.get("fichier")
    if isinstance(upload, UploadFile):
        content = await upload.read(get_settings().max_file_bytes + 1)
        if content:
            return admin.import_file_text(content)
    return form.get("csv") or ""


@post("/admin/import", opt=MANAGE)
async def import_post(request: Request) -> Response:
    viewer, form = current_viewer(request), await request.form()
    try:
        text = await _import_text(form)
    except ValidationError as exc:
        return _import_page(request, form.get("csv") or "", 422, lines=[], error=str(exc))
    if form.get("operation") != "confirmer":
        lines, error = await admin.review_import(viewer, text)
    else:
        lines, error, counts = await admin.apply_import(
            viewer, text, client_address=address(request)
        )
        if error is None:
            return redirect("/admin/import", IMPORTED.format(**counts))
    invalid = error is not None or any(line.errors for line in lines)
    return _import_page(request, text, 422 if invalid else 200, lines=lines, error=error)


IMPORTED = (
    "Import terminé : {groups} groupe(s) créé(s), {users} compte(s) créé(s), "
    "{memberships} appartenance(s)."
)
