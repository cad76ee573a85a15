"""The printable mandat, from the demande or from the creation form: nothing is stored."""

from __future__ import annotations

from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from app import formatting
from app.domain import application_forms as forms
from app.domain import applications, demande_actions
from app.policies import can_create_application, can_print_mandat, policy
from app.routes.applications.page import DEMANDE, facts_of, max_body
from app.routes.common import current_viewer
from app.settings import get_settings
from app.tables import User
from app.templating import render


def _mandat_page(request: Request, values: dict, *, creator, groups: list, structure: str):
    context = {
        "title": "Mandat à faire signer",
        "v": values,
        "creator": creator,
        "structure": structure,
        "groups": groups,
        "fmt": formatting,
        "retention_days": get_settings().personal_data_retention_days,
    }
    return render(request, "applications/mandat.html", context)


@get("/demandes/{application_id:uuid}/mandat", opt=policy(can_print_mandat, application=DEMANDE))
async def demande_mandat(request: Request, application_id: FromPath[UUID]) -> Template:
    """The mandat pre-filled from the demande: printed, signed on paper, never stored."""
    facts = facts_of(request)
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
    return _mandat_page(request, values, creator=creator, groups=view.groups, structure=structure)


@post(
    "/demandes/nouvelle/mandat",
    opt=policy(can_create_application),
    status_code=200,
    request_max_body_size=max_body(),
)
async def new_application_mandat(request: Request) -> Template:
    """The mandat pre-filled from the creation form as typed so far (a POST: the usager's
    name never goes into a URL); nothing is stored."""
    viewer = current_viewer(request)
    draft = await forms.mandat_from_form(await request.form(), viewer)
    creator = await demande_actions.acting_user(viewer)
    return _mandat_page(request, draft.pop("values"), creator=creator, **draft)
