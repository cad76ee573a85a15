"""Inviting colleagues, groups or the experts onto a demande."""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from app.domain import answer_forms, demande_actions
from app.policies import can_invite, policy
from app.routes.applications.page import (
    DEMANDE,
    answer_page,
    facts_of,
    form_errors_page,
    invite_context,
)
from app.routes.common import address, current_viewer, refused, remember_signature
from app.templating import render

INVITE = policy(can_invite, application=DEMANDE)


@get("/demandes/{application_id:uuid}/invitations/groupes", opt=INVITE)
async def invite_group_picker(request: Request, application_id: FromPath[UUID]) -> Template:
    """The groups of a département that can be invited (htmx partial of the invite form)."""
    context = await invite_context(request, facts_of(request), None)
    return render(request, "applications/_invite_groups.html", context)


@post("/demandes/{application_id:uuid}/invitations", opt=INVITE)
async def post_invitation(request: Request, application_id: FromPath[UUID]) -> Response:
    viewer, facts = current_viewer(request), facts_of(request)
    checked = await answer_forms.check_invitation(await request.form(), viewer, facts)
    if checked.forged:
        raise await refused(request, application_id=facts.id)
    if not checked.ok:
        return await form_errors_page(request, facts, invite_form=checked.form)
    await demande_actions.invite(viewer, facts, checked.cleaned, client_address=address(request))
    await remember_signature(request, checked.cleaned["signature"])
    return await answer_page(request, facts.id, "Les invitations ont été envoyées.")
