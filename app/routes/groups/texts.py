"""The group's presentation texts (shown to those who address it)."""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from app.domain import groups
from app.policies import can_edit_group_texts, policy
from app.routes.common import address, current_viewer, form_dict
from app.routes.groups.blocks import GROUP, group_of, organisation_label
from app.tables import Group
from app.templating import redirect, render

TEXTS = policy(can_edit_group_texts, group=GROUP)


def _texts(
    request: Request, group: Group, values: dict, errors: dict, *, status_code: int = 200
) -> Template:
    return render(
        request,
        "groups/texts.html",
        {
            "group": group,
            "values": values,
            "errors": errors,
            "title": f"Présentation du groupe {group.name}",
            "organisation": organisation_label(group.organisation),
        },
        status_code=status_code,
    )


@get("/groupes/{group_id:uuid}/presentation", opt=TEXTS)
async def texts(request: Request, group_id: FromPath[UUID]) -> Template:
    group = group_of(request)
    values = {name: getattr(group, name) or "" for name in groups.GROUP_TEXT_FIELDS}
    return _texts(request, group, values, {})


@post("/groupes/{group_id:uuid}/presentation", opt=TEXTS)
async def save_texts(request: Request, group_id: FromPath[UUID]) -> Response:
    group = group_of(request)
    data = await form_dict(request)
    if data.get("operation") == "apercu":
        # Preview without saving: the page again, its preview showing what was typed.
        values, errors = groups.clean_group_texts(data)
        return _texts(request, group, values, errors, status_code=422 if errors else 200)
    values, errors = await groups.update_group_texts(
        group, data, actor_id=current_viewer(request).id, client_address=address(request)
    )
    if errors:
        return _texts(request, group, values, errors, status_code=422)
    return redirect(f"/groupes/{group.id}", "La présentation du groupe a été enregistrée.")
