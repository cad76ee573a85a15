"""Answering a demande: a message, a quick reply, usager fields, files."""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Response, post
from litestar.params import FromPath

from app.domain import answer_forms, applications, demande_actions
from app.policies import can_answer, policy
from app.routes.applications.page import (
    DEMANDE,
    answer_page,
    facts_of,
    form_errors_page,
    max_body,
    wiped_page,
)
from app.routes.common import address, current_viewer, refused, remember_signature
from app.settings import get_settings


@post(
    "/demandes/{application_id:uuid}/reponses",
    opt=policy(can_answer, application=DEMANDE),
    request_max_body_size=max_body(),
)
async def post_answer(request: Request, application_id: FromPath[UUID]) -> Response:
    viewer, facts = current_viewer(request), facts_of(request)
    checked = await answer_forms.check_answer(
        await request.form(), viewer, facts, max_file_bytes=get_settings().max_file_bytes
    )
    if checked.forged:
        raise await refused(request, application_id=facts.id)
    if not checked.ok:
        return await form_errors_page(request, facts, answer_form=checked.form)
    try:
        await demande_actions.answer(
            viewer, facts, checked.cleaned, checked.files, client_address=address(request)
        )
    except applications.WipedError as wiped:
        return await wiped_page(request, facts, wiped.wiped_at)
    await remember_signature(request, checked.cleaned["signature"])
    return await answer_page(request, facts.id, "Votre message a été envoyé.")
