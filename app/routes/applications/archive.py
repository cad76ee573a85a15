"""Archiving a demande, and reopening it."""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Response, post
from litestar.params import FromPath

from app.domain import answer_forms, applications, demande_actions
from app.policies import can_archive, can_ask_to_reopen, policy
from app.routes.applications.page import (
    DEMANDE,
    answer_page,
    facts_of,
    form_errors_page,
    wiped_page,
)
from app.routes.common import address, current_viewer


@post("/demandes/{application_id:uuid}/archivage", opt=policy(can_archive, application=DEMANDE))
async def archive_application(request: Request, application_id: FromPath[UUID]) -> Response:
    viewer, facts = current_viewer(request), facts_of(request)
    checked = answer_forms.check_archive(await request.form(), viewer, facts)
    if not checked.ok:
        return await form_errors_page(request, facts, archive_form=checked.form)
    await demande_actions.archive(
        viewer, facts, checked.cleaned["usefulness"], client_address=address(request)
    )
    return await answer_page(request, facts.id, "La demande est archivée.")


# Who may reopen, wiped or not: a wiped demande gets the reason rather than a bare 403.
@post(
    "/demandes/{application_id:uuid}/reouverture",
    opt=policy(can_ask_to_reopen, application=DEMANDE),
)
async def reopen_application(request: Request, application_id: FromPath[UUID]) -> Response:
    viewer, facts = current_viewer(request), facts_of(request)
    if facts.is_wiped:
        return await wiped_page(request, facts, facts.personal_data_wiped_at)
    try:
        await demande_actions.reopen(viewer, facts, client_address=address(request))
    except applications.WipedError as wiped:
        return await wiped_page(request, facts, wiped.wiped_at)
    return await answer_page(request, facts.id, "La demande est rouverte.")
