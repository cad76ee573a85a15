"""Downloading a demande's file (decrypted on the fly, never cached)."""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from app import formatting
from app.domain import demande_actions, files
from app.policies import can_open_application, policy
from app.routes.applications.page import DEMANDE, facts_of
from app.routes.common import address, current_viewer
from app.settings import get_settings
from app.templating import render


def _deleted(request: Request, application_id: UUID, attachment: dict) -> Response:
    """The file's name and date stay on the thread once retention erased its bytes: 410."""
    context = {
        "title": "Fichier supprimé",
        "app_id": application_id,
        "attachment": attachment,
        "fmt": formatting,
        "retention_days": get_settings().files_retention_days,
    }
    return render(request, "applications/file_deleted.html", context, status_code=410)


@get(
    "/demandes/{application_id:uuid}/fichiers/{file_id:uuid}",
    opt=policy(can_open_application, application=DEMANDE),
)
async def download_file(
    request: Request, application_id: FromPath[UUID], file_id: FromPath[UUID]
) -> Response:
    viewer, facts = current_viewer(request), facts_of(request)
    attachment = await demande_actions.downloadable_file(
        viewer, facts, file_id, client_address=address(request)
    )
    if attachment is None:
        raise NotFoundException()
    if attachment["deleted_at"] is not None:
        return _deleted(request, facts.id, attachment)
    content = await demande_actions.download(
        viewer, facts, attachment, client_address=address(request)
    )
    return Response(
        content,
        media_type=attachment["content_type"],
        headers={
            "Content-Disposition": files.content_disposition(attachment["filename"]),
            "Cache-Control": "no-store",
        },
    )
