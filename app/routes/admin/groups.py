"""Admin: the groups of the admin's départements (list, creation, structure, deletion)."""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from app.auth import loaded
from app.domain import admin, reference
from app.routes.admin.shared import MANAGE, STRUCTURE
from app.routes.common import address, current_viewer, form_dict
from app.tables import Group
from app.templating import redirect, render


@get("/admin", opt=MANAGE)
async def home(request: Request) -> Template:
    return render(request, "admin/home.html", {"title": "Administration"})


@get("/admin/groupes", opt=MANAGE)
async def groups_list(request: Request) -> Template:
    q = (request.query_params.get("q") or "").strip()
    rows = await admin.list_groups(current_viewer(request), q)
    return render(request, "admin/groups.html", {"title": "Groupes", "rows": rows, "q": q})


def _group_form(
    request: Request, group: Group | None, values: dict, errors: dict, status_code: int = 200
) -> Template:
    return render(
        request,
        "admin/group_form.html",
        {
            "title": f"Groupe {group.name}" if group else "Nouveau groupe",
            "group": group,
            "values": values,
            "errors": errors,
            "organisations": reference.ORGANISATIONS,
        },
        status_code=status_code,
    )


@get("/admin/groupes/nouveau", opt=MANAGE)
async def group_new(request: Request) -> Template:
    areas = ", ".join(sorted(current_viewer(request).admin_areas)[:1])
    return _group_form(request, None, {"areas_text": areas}, {})


@post("/admin/groupes", opt=MANAGE)
async def group_create(request: Request) -> Response:
    viewer = current_viewer(request)
    values, errors = admin.clean_group(viewer, await form_dict(request))
    if errors:
        return _group_form(request, None, values, errors, status_code=422)
    group = await admin.save_group(viewer, None, values, client_address=address(request))
    return redirect(f"/admin/groupes/{group.id}", "Le groupe a été créé.")


@get("/admin/groupes/{group_id:uuid}", opt=STRUCTURE)
async def group_edit(request: Request, group_id: FromPath[UUID]) -> Template:
    group = loaded(request, "group")
    values = {name: getattr(group, name) or "" for name in admin.GROUP_FIELDS}
    values["areas_text"] = ", ".join(group.areas)
    return _group_form(request, group, values, {})


@post("/admin/groupes/{group_id:uuid}", opt=STRUCTURE)
async def group_update(request: Request, group_id: FromPath[UUID]) -> Response:
    viewer = current_viewer(request)
    group = loaded(request, "group")
    values, errors = admin.clean_group(viewer, await form_dict(request), current=group)
    if errors:
        return _group_form(request, group, values, errors, status_code=422)
    await admin.save_group(viewer, group, values, client_address=address(request))
    return redirect(f"/admin/groupes/{group.id}", "Le groupe a été enregistré.")


@post("/admin/groupes/{group_id:uuid}/suppression", opt=STRUCTURE)
async def group_delete(request: Request, group_id: FromPath[UUID]) -> Response:
    group = loaded(request, "group")
    refusal = await admin.delete_group(
        current_viewer(request), group, client_address=address(request)
    )
    if refusal:
        return redirect(f"/admin/groupes/{group.id}", refusal, level="error")
    return redirect("/admin/groupes", f"Le groupe « {group.name} » a été supprimé.")
