"""`/demandes`: the inbox page (tabs, group filter, search, keyset pages) and its CSV export."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Router, get
from litestar.params import FromQuery
from litestar.response import Stream, Template

from app.domain import inbox
from app.policies import is_authenticated, policy
from app.templating import render


def _uuids(raw: list[str] | None) -> list[UUID]:
    """Group ids from the query string; anything malformed is ignored, not an error page."""
    ids = []
    for value in raw or []:
        try:
            ids.append(UUID(value))
        except ValueError:
            continue
    return ids


class InboxLinks:
    """Builds the inbox URLs of a page, keeping the filters the viewer chose."""

    def __init__(self, page: inbox.InboxPage):
        self.page = page

    def url(self, *, tab: str | None = None, after: str = "", before: str = "") -> str:
        params: list[tuple[str, str]] = [("onglet", tab or self.page.tab.key)]
        params += [("groupe", str(g.id)) for g in self.page.groups if g.selected]
        if self.page.query:
            params.append(("recherche", self.page.query))
        if after:
            params.append(("apres", after))
        if before:
            params.append(("avant", before))
        return "/demandes?" + urlencode(params)

    def tab(self, key: str) -> str:
        return self.url(tab=key)

    def first(self) -> str:
        return self.url()

    def next(self) -> str:
        return self.url(after=self.page.next_cursor.encode())

    def previous(self) -> str:
        return self.url(before=self.page.previous_cursor.encode())


@get("/demandes", opt=policy(is_authenticated))
async def inbox_page(
    request: Request,
    onglet: FromQuery[str | None] = None,
    groupe: FromQuery[list[str] | None] = None,
    recherche: FromQuery[str] = "",
    apres: FromQuery[str | None] = None,
    avant: FromQuery[str | None] = None,
) -> Template:
    viewer = request.scope["state"]["viewer"]
    query = recherche.strip()[:200]
    page = await inbox.load_page(
        viewer,
        tab_key=onglet,
        group_ids=_uuids(groupe),
        query=query,
        after=inbox.Cursor.decode(apres),
        before=inbox.Cursor.decode(avant),
    )
    context = {
        "title": "Mes demandes",
        "page": page,
        "links": InboxLinks(page),
        "status_label": inbox.status_label,
        "age_label": inbox.age_label,
        "instructor_view": inbox.works_as_instructor(viewer),
    }
    return render(request, "inbox/page.html", context, fragment="inbox/_list.html")


@get("/demandes/export.csv", opt=policy(is_authenticated))
async def inbox_export(request: Request) -> Stream:
    """Metadata of my demandes (no personal data); UTF-8 with BOM so spreadsheets read accents."""
    viewer = request.scope["state"]["viewer"]

    async def body():
        yield "\ufeff"
        async for chunk in inbox.export_csv(viewer):
            yield chunk

    return Stream(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="mes-demandes.csv"'},
    )


router = Router(path="", route_handlers=[inbox_page, inbox_export])
