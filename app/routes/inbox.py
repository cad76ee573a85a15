"""`/demandes`: the inbox page (tabs, group filter, search, keyset pages) and its CSV export."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.params import FromQuery
from litestar.response import Stream, Template
from litestar.utils.scope.state import ScopeState

from app import clock, formatting
from app.domain import inbox, search_tokens
from app.domain.inbox_export import export_csv
from app.domain.validators import uuids
from app.policies import is_authenticated, policy
from app.templating import FLASH_COOKIE, redirect, render, wants_fragment


class InboxLinks:
    """Builds the inbox URLs of a page, keeping the filters the viewer chose."""

    def __init__(self, page: inbox.InboxPage, search_token: str = ""):
        self.page = page
        self.search_token = search_token

    def url(self, *, tab: str | None = None, after: str = "", before: str = "") -> str:
        params: list[tuple[str, str]] = [("onglet", tab or self.page.tab.key)]
        params += [("groupe", str(g.id)) for g in self.page.groups if g.selected]
        if self.page.query and self.search_token:
            params.append(("recherche", self.search_token))
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


def _minute() -> str:
    return clock.now().strftime("%Y%m%d%H%M")


def _etag(request: Request) -> str:
    """What the page is made of, before reading it: the viewer's inbox version (moved by any
    change to what the inbox shows, app/domain/inbox_counts.py), the user and their facts
    (header, tabs, groups), the URL (tab, page, search, filters), page or fragment, the flash
    message and CSRF token the page embeds, and the minute (ages, lateness)."""
    state = request.scope["state"]
    user = {k: v for k, v in state["user"].items() if k != "last_seen_at"}
    parts = (
        repr(user),
        repr(state["viewer"]),
        request.scope["path"],
        request.scope["query_string"].decode("latin-1"),
        request.headers.get("hx-request", ""),
        request.headers.get("hx-history-restore-request", ""),
        request.cookies.get(FLASH_COOKIE, ""),
        ScopeState.from_scope(request.scope).csrf_token or "",
        _minute(),
    )
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


@get("/demandes", opt=policy(is_authenticated))
async def inbox_page(
    request: Request,
    onglet: FromQuery[str | None] = None,
    groupe: FromQuery[list[str] | None] = None,
    recherche: FromQuery[str] = "",
    apres: FromQuery[str | None] = None,
    avant: FromQuery[str | None] = None,
) -> Response | Template:
    viewer = request.scope["state"]["viewer"]
    etag = _etag(request)
    if etag in request.headers.get("if-none-match", ""):
        return Response(None, status_code=304, headers={"ETag": etag})
    query, search_expired = _opened_search(recherche, viewer.id)
    response = await _render_inbox(
        request,
        tab_key=onglet,
        group_ids=uuids(groupe),
        query=query,
        search_token=recherche if query else "",
        search_expired=search_expired,
        after=inbox.Cursor.decode(apres),
        before=inbox.Cursor.decode(avant),
    )
    response.headers["ETag"] = etag
    return response


def _version(request: Request) -> int:
    """The viewer's inbox version, read with the session (app/domain/inbox_counts.py)."""
    return request.scope["state"]["user"]["inbox_version"]


def _opened_search(token: str, viewer_id: UUID) -> tuple[str, bool]:
    """The words a sealed search token holds, and whether it expired (then no words)."""
    if not token:
        return "", False
    opened = search_tokens.open_token(token, viewer_id)
    return (opened or "").strip(), opened is None


def _search_url(tab: str, group_ids: list[UUID], token: str) -> str:
    params: list[tuple[str, str]] = [("onglet", tab)]
    params += [("groupe", str(g)) for g in group_ids]
    if token:
        params.append(("recherche", token))
    return "/demandes?" + urlencode(params)


@post("/demandes/recherche", opt=policy(is_authenticated))
async def inbox_search(request: Request) -> Response:
    """The search form posts its terms, so they never appear in clear in a URL."""
    viewer = request.scope["state"]["viewer"]
    form = await request.form()
    query = str(form.get("recherche", "")).strip()[: search_tokens.MAX_TERMS]
    token = search_tokens.seal(query, viewer.id) if query else ""
    group_ids = uuids(form.getall("groupe", []))
    tab_key = str(form.get("onglet") or "nouvelles")
    # A search covers every tab: when the current one holds no match, the first that does opens.
    if not wants_fragment(request):
        tab = await inbox.search_tab(
            viewer, tab_key=tab_key, group_ids=group_ids, query=query, version=_version(request)
        )
        return redirect(_search_url(tab, group_ids, token))
    response = await _render_inbox(
        request,
        tab_key=tab_key,
        group_ids=group_ids,
        query=query,
        search_token=token,
        open_first_match=True,
    )
    response.headers["HX-Push-Url"] = _search_url(
        response.context["page"].tab.key, group_ids, token
    )
    return response


async def _render_inbox(
    request: Request,
    *,
    tab_key: str | None,
    group_ids: list[UUID],
    query: str,
    search_token: str,
    search_expired: bool = False,
    after: inbox.Cursor | None = None,
    before: inbox.Cursor | None = None,
    open_first_match: bool = False,
) -> Template:
    viewer = request.scope["state"]["viewer"]
    page = await inbox.load_page(
        viewer,
        tab_key=tab_key,
        group_ids=group_ids,
        query=query,
        after=after,
        before=before,
        open_first_match=open_first_match,
        version=_version(request),
    )
    context = {
        "title": "Mes demandes",
        "page": page,
        "links": InboxLinks(page, search_token),
        "search_expired": search_expired,
        "date_fr": formatting.date_fr,
        "instructor_view": inbox.works_as_instructor(viewer),
    }
    return render(request, "inbox/page.html", context, fragment="inbox/_list.html")


@get("/demandes/export.csv", opt=policy(is_authenticated))
async def inbox_export(request: Request) -> Stream:
    """Metadata of my demandes (no personal data); UTF-8 with BOM so spreadsheets read accents."""
    viewer = request.scope["state"]["viewer"]

    async def body():
        yield "\ufeff".encode()
        async for chunk in export_csv(viewer):
            yield chunk

    return Stream(
        body(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="mes-demandes.csv"'},
    )


router = Router(path="", route_handlers=[inbox_page, inbox_search, inbox_export])
