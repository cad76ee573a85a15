"""The members of the viewer's groups as CSV or XLSX."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from app import clock, exports
from app.domain import groups, member_exports
from app.routes.common import address, current_viewer, refused
from app.routes.groups.blocks import POLICY


async def _export(request: Request) -> list[list[Any]]:
    rows = await member_exports.rows_for(current_viewer(request), client_address=address(request))
    if rows is None:
        raise await refused(request)
    return rows


def _download(content: Any, media_type: str, ext: str) -> Response:
    filename = f"utilisateurs-{clock.now().strftime('%Y-%m-%d')}.{ext}"
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@get("/groupes/export.csv", opt=POLICY)
async def export_csv(request: Request) -> Response:
    content = exports.csv_text(groups.EXPORT_HEADER, await _export(request))
    return _download(content, "text/csv", "csv")


@get("/groupes/export.xlsx", opt=POLICY)
async def export_xlsx(request: Request) -> Response:
    content = exports.xlsx_bytes("Utilisateurs", groups.EXPORT_HEADER, await _export(request))
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(content, media_type, "xlsx")
