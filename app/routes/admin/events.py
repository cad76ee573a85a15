"""Admin: the events log of the admin's départements (ids and codes, never personal data)."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from app.domain import admin, audit
from app.policies import can_read_events, policy
from app.routes.common import current_viewer
from app.templating import render


@get("/admin/evenements", opt=policy(can_read_events))
async def events(request: Request) -> Template:
    filters = admin.parse_event_filters(dict(request.query_params))
    rows, has_next = ([], False)
    if not filters.errors:
        rows, has_next = await admin.list_events(current_viewer(request), filters)
    params = {k: v for k, v in request.query_params.items() if k != "page" and v}
    return render(
        request,
        "admin/events.html",
        {
            "title": "Journal des événements",
            "rows": rows,
            "has_next": has_next,
            "filters": filters,
            "params": params,
            "codes": [e.value for e in audit.Event],
            "field_labels": admin.FIELD_LABELS,
        },
        status_code=422 if filters.errors else 200,
    )
