"""Mes groupes: members, inline edits, account creation, the group's texts and exports."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app import clock, exports, policies
from app.auth import loaded
from app.domain import audit, groups, reference
from app.domain.users import DomainError
from app.domain.validators import ValidationError, local_redirect_target, page_number
from app.emails import PARIS
from app.policies import (
    GroupById,
    MemberOf,
    can_add_member,
    can_create_accounts,
    can_edit_group_texts,
    can_edit_member_row,
    can_exit_member,
    can_list_my_groups,
    can_reactivate_member,
    can_see_group_members,
    can_see_member,
    policy,
)
from app.routes import canned_replies
from app.security import client_address
from app.tables import Group
from app.templating import htmx_notice, redirect, render, wants_fragment

POLICY = policy(can_list_my_groups)
GROUP = GroupById()
MEMBER = MemberOf()


def _group(request: Request) -> Group:
    return loaded(request, "group")


def _member(request: Request) -> policies.AccountFacts:
    return loaded(request, "member")


async def _refused(request: Request, **ids: Any) -> PermissionDeniedException:
    await audit.record(
        audit.Event.ACCESS_DENIED,
        actor_id=_viewer(request).id,
        client_address=_address(request),
        **ids,
    )
    return PermissionDeniedException()


# --- helpers -----------------------------------------------------------------------------------


def _viewer(request: Request) -> policies.Viewer:
    return request.scope["state"]["viewer"]


def _address(request: Request) -> str:
    return client_address(request.scope)


def _error_status(request: Request) -> int:
    # htmx only swaps 2xx answers; a plain form post gets a real error status.
    return 200 if wants_fragment(request) else 422


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: form.get(key) for key in form}


def _organisation_label(code: str | None) -> str:
    if not code:
        return ""
    try:
        return reference.organisation(code).short_name
    except KeyError:
        return code


def _area_labels(codes: list[str]) -> str:
    labels = []
    for code in codes or []:
        try:
            labels.append(reference.departement(code).label)
        except KeyError:
            labels.append(code)
    return ", ".join(labels)


def _decorate(member: dict[str, Any]) -> dict[str, Any]:
    seen = member["last_seen_at"]
    member["last_seen_label"] = (
        seen.astimezone(PARIS).strftime("%d/%m/%Y") if seen else "jamais connecté"
    )
    member["display_name"] = (
        " ".join(p for p in (member["first_name"], member["last_name"]) if p) or member["email"]
    )
    return member


def _back(request: Request, data: dict[str, str], group: Group) -> str:
    target = local_redirect_target(data.get("retour"))
    if target and target.startswith("/groupes"):
        return target
    return f"/groupes/{group.id}"


async def _blocks(
    groups_: list[Group],
    *,
    show_disabled: set[UUID] | bool = False,
    pages: dict[UUID, int] | None = None,
    around: UUID | None = None,
) -> list[dict[str, Any]]:
    """Everything one group's block shows: one page of members, for all groups at once."""
    members = await groups.group_members_pages(
        {g.id: (pages or {}).get(g.id, 1) for g in groups_}, around=around
    )
    accounts = await policies.account_facts(
        list({m["id"] for p in members.values() for m in p.active + p.disabled})
    )
    for page in members.values():
        for member in page.active + page.disabled:
            # What the rules need about each member, for the buttons the row offers.
            member["account"] = accounts[member["id"]]
            _decorate(member)
    blocks = []
    for group in groups_:
        page = members[group.id]
        shown = show_disabled is True or (
            isinstance(show_disabled, set) and group.id in show_disabled
        )
        blocks.append(
            {
                "group": group,
                "organisation": _organisation_label(group.organisation),
                "areas": _area_labels(group.areas),
                "active": page.active,
                "disabled": page.disabled,
                "members": page,
                "show_disabled": shown,
                "editing": None,
                "add": {"email": "", "error": None, "confirm_count": None},
                "notice": None,
                "notice_level": "success",
                "focus_user": None,
            }
        )
    return blocks


async def _block(
    group: Group,
    *,
    show_disabled: bool = False,
    page: int = 1,
    around: UUID | None = None,
    **changes: Any,
) -> dict:
    # The row being edited or just changed is on the page shown, whatever its rank.
    around = around or changes.get("focus_user") or (changes.get("editing") or {}).get("id")
    block = (
        await _blocks([group], show_disabled=show_disabled, pages={group.id: page}, around=around)
    )[0]
    block.update(changes)
    return block


def _show(request: Request, block: dict, *, status_code: int = 200) -> Template:
    """The group page, or only its block for htmx (titled as the page it lands in)."""
    current = urlsplit(request.headers.get("hx-current-url", "")).path
    return render(
        request,
        "groups/show.html",
        {
            "block": block,
            "title": block["group"].name,
            "members_only": not (wants_fragment(request) and current == "/groupes"),
        },
        fragment="groups/_block.html",
        status_code=status_code,
    )


# --- Mes groupes ---------------------------------------------------------------------------------


@get("/groupes", opt=POLICY)
async def index(
    request: Request,
    desactives: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    viewer = _viewer(request)
    number = page_number(page)
    query = " ".join((q or "").split())
    mine, total = await groups.my_groups_page(viewer, query, number)
    blocks = await _blocks(mine, show_disabled=bool(desactives))
    return render(
        request,
        "groups/index.html",
        {
            "blocks": blocks,
            "title": "Mes groupes",
            "q": query,
            "page": number,
            "total": total,
            "has_next": number * groups.MY_GROUPS_PAGE_SIZE < total,
            # The search only shows when there is more than one page to search through.
            "searchable": bool(query) or total > groups.MY_GROUPS_PAGE_SIZE,
        },
    )


@get("/groupes/{group_id:uuid}", opt=policy(can_see_group_members, group=GROUP))
async def show(
    request: Request,
    group_id: FromPath[UUID],
    desactives: FromQuery[str | None] = None,
    membres: FromQuery[str | None] = None,
    membre: FromQuery[UUID | None] = None,
) -> Template:
    group = _group(request)
    # ``membre``: open the page holding this member (where a no-JS edit lands back).
    block = await _block(
        group, show_disabled=bool(desactives), page=page_number(membres), around=membre
    )
    block["canned"] = await canned_replies.section_context(_viewer(request), group)
    return _show(request, block)


@post("/groupes/{group_id:uuid}/membres", opt=policy(can_add_member, group=GROUP))
async def add_member(request: Request, group_id: FromPath[UUID]) -> Response:
    group = _group(request)
    data = await _form(request)
    email = data.get("email", "")
    try:
        user, confirm_count = await groups.add_existing_member(
            group,
            email,
            actor_id=_viewer(request).id,
            confirmed=data.get("confirm_instructor") == "1",
            client_address=_address(request),
        )
    except ValidationError as error:
        block = await _block(
            group, add={"email": email, "error": str(error), "confirm_count": None}
        )
        return _show(request, block, status_code=_error_status(request))
    if confirm_count:
        block = await _block(
            group, add={"email": user.email, "error": None, "confirm_count": confirm_count}
        )
        return _show(request, block)
    message = f"{user.email} a été ajouté(e) au groupe."
    if wants_fragment(request):
        return _show(request, await _block(group, notice=message, focus_user=user.id))
    return redirect(_back(request, data, group), message)


@post(
    "/groupes/{group_id:uuid}/membres/{user_id:uuid}/desactivation",
    opt=policy(can_exit_member, group=GROUP, member=MEMBER),
)
async def deactivate(
    request: Request, group_id: FromPath[UUID], user_id: FromPath[UUID]
) -> Response:
    group, account = _group(request), _member(request)
    way_out = policies.member_exit(_viewer(request), group, account)
    data = await _form(request)
    try:
        outcome = await groups.deactivate_member(
            group,
            account,
            way_out,
            actor_id=_viewer(request).id,
            client_address=_address(request),
        )
    except DomainError as error:
        if wants_fragment(request):
            return _show(request, await _block(group, notice=str(error), notice_level="error"))
        return redirect(_back(request, data, group), str(error), level="error")
    message = (
        "La personne a été retirée du groupe (elle reste dans ses autres groupes)."
        if outcome == "removed"
        else "Le compte a été désactivé."
    )
    if wants_fragment(request):
        return _show(request, await _block(group, notice=message))
    return redirect(_back(request, data, group), message)


@post(
    "/groupes/{group_id:uuid}/membres/{user_id:uuid}/reactivation",
    opt=policy(can_reactivate_member, group=GROUP, member=MEMBER),
)
async def reactivate(
    request: Request, group_id: FromPath[UUID], user_id: FromPath[UUID]
) -> Response:
    group = _group(request)
    data = await _form(request)
    try:
        await groups.reactivate_member(
            group, _member(request), actor_id=_viewer(request).id, client_address=_address(request)
        )
    except DomainError as error:
        if wants_fragment(request):
            return _show(
                request,
                await _block(group, show_disabled=True, notice=str(error), notice_level="error"),
            )
        return redirect(_back(request, data, group), str(error), level="error")
    message = "Le compte a été réactivé."
    if wants_fragment(request):
        return _show(request, await _block(group, show_disabled=True, notice=message))
    return redirect(_back(request, data, group), message)


# --- inline edit of a member's row -------------------------------------------------------------


async def _member_or_404(group: Group, user_id: UUID) -> dict[str, Any]:
    member = await groups.member_row(group.id, user_id)
    if member is None:
        raise NotFoundException()
    member["account"] = (await policies.account_facts([user_id]))[user_id]
    return _decorate(member)


def _row(
    request: Request,
    block: dict,
    member: dict,
    *,
    status_code: int = 200,
    template: str = "groups/_member_row.html",
) -> Template:
    """One member row for htmx; the whole group page otherwise."""
    if wants_fragment(request):
        return render(request, template, {"block": block, "m": member}, status_code=status_code)
    return _show(request, block, status_code=status_code)


@get(
    "/groupes/{group_id:uuid}/membres/{user_id:uuid}",
    opt=policy(can_see_member, group=GROUP, member=MEMBER),
)
async def member(request: Request, group_id: FromPath[UUID], user_id: FromPath[UUID]) -> Response:
    group = _group(request)
    found = await _member_or_404(group, user_id)
    if not wants_fragment(request):
        return redirect(f"/groupes/{group.id}?membre={user_id}#membre-{group.id}-{user_id}")
    return _row(request, await _block(group, focus_user=user_id), found)


EDIT_ROW = policy(can_edit_member_row, group=GROUP, member=MEMBER)


@get("/groupes/{group_id:uuid}/membres/{user_id:uuid}/edition", opt=EDIT_ROW)
async def edit_member(
    request: Request, group_id: FromPath[UUID], user_id: FromPath[UUID]
) -> Template:
    group = _group(request)
    found = await _member_or_404(group, user_id)
    form = groups.MemberForm(values=dict(found))
    block = await _block(group, editing={"id": user_id, "form": form})
    return _row(request, block, found, template="groups/_member_row_form.html")


@post("/groupes/{group_id:uuid}/membres/{user_id:uuid}", opt=EDIT_ROW)
async def save_member(
    request: Request, group_id: FromPath[UUID], user_id: FromPath[UUID]
) -> Response:
    group, account = _group(request), _member(request)
    fields = policies.editable_member_fields(_viewer(request), group, account)
    data = await _form(request)
    if set(data) & (policies.MEMBER_ROW_FIELDS - fields):
        # A field the form never offered this viewer: a forged post, refused whole.
        raise await _refused(request, group_id=group.id, user_id=account.id)
    found = await _member_or_404(group, user_id)
    form = await groups.update_member(
        group,
        account,
        data,
        fields=fields,
        actor_id=_viewer(request).id,
        client_address=_address(request),
    )
    if form.errors or form.confirm_count:
        block = await _block(group, editing={"id": user_id, "form": form})
        status = _error_status(request) if form.errors else 200
        return _row(
            request, block, found, status_code=status, template="groups/_member_row_form.html"
        )
    if not wants_fragment(request):
        return redirect(
            f"/groupes/{group.id}?membre={user_id}#membre-{group.id}-{user_id}",
            "Les modifications ont été enregistrées.",
        )
    saved = await _member_or_404(group, user_id)
    # The same confirmation as the redirect's flash, in the live region (app.js).
    row = _row(request, await _block(group, focus_user=user_id), saved)
    return htmx_notice(row, "Les modifications ont été enregistrées.")


# --- creating accounts -------------------------------------------------------------------------


def _row_count(value: Any, default: int = 3) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        return default
    return max(1, min(groups.MAX_NEW_ROWS, count))


def _accounts(
    request: Request,
    group: Group,
    form: groups.NewAccountsForm,
    *,
    status_code: int = 200,
    focus: str | None = None,
) -> Template:
    return render(
        request,
        "groups/new_accounts.html",
        {
            "group": group,
            "form": form,
            "title": f"Créer des comptes — {group.name}",
            "focus": focus,
        },
        fragment="groups/_new_accounts_form.html",
        status_code=status_code,
    )


@get("/groupes/{group_id:uuid}/comptes/nouveaux", opt=policy(can_create_accounts, group=GROUP))
async def new_accounts(
    request: Request, group_id: FromPath[UUID], lignes: FromQuery[str | None] = None
) -> Template:
    group = _group(request)
    count = _row_count(lignes)
    rows = groups.read_new_account_rows({}, count)
    return _accounts(
        request,
        group,
        groups.NewAccountsForm(rows=rows, errors=[{}] * count),
        focus="l0-first_name",
    )


@post("/groupes/{group_id:uuid}/comptes", opt=policy(can_create_accounts, group=GROUP))
async def create_accounts(request: Request, group_id: FromPath[UUID]) -> Response:
    group = _group(request)
    data = await _form(request)
    count = _row_count(data.get("lignes"))
    rows = groups.read_new_account_rows(data, count)
    if data.get("operation") == "ajouter_ligne" and count < groups.MAX_NEW_ROWS:
        rows.append(groups.read_new_account_rows({}, 1)[0])
        form = groups.NewAccountsForm(rows=rows, errors=[{} for _ in rows])
        return _accounts(request, group, form, focus=f"l{len(rows) - 1}-first_name")
    form = await groups.create_accounts(
        group,
        rows,
        actor_id=_viewer(request).id,
        confirmed=data.get("confirm_instructor") == "1",
        client_address=_address(request),
    )
    if form.has_errors:
        first = next(f"l{i}-{name}" for i, errors in enumerate(form.errors) for name in errors)
        return _accounts(request, group, form, status_code=_error_status(request), focus=first)
    if form.confirm_count:
        return _accounts(request, group, form, focus="confirm_instructor")
    n = len(form.created)
    message = (
        f"{n} compte créé ; un e-mail de bienvenue a été envoyé."
        if n == 1
        else f"{n} comptes créés ; chacun a reçu un e-mail de bienvenue."
    )
    if wants_fragment(request):
        # The form sat inside the group's block: the refreshed block replaces both.
        response = _show(request, await _block(group, notice=message))
        response.headers["HX-Retarget"] = f"#groupe-{group.id}"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return redirect(f"/groupes/{group.id}", message)


# --- the group's texts -------------------------------------------------------------------------


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
            "organisation": _organisation_label(group.organisation),
        },
        status_code=status_code,
    )


TEXTS = policy(can_edit_group_texts, group=GROUP)


@get("/groupes/{group_id:uuid}/presentation", opt=TEXTS)
async def texts(request: Request, group_id: FromPath[UUID]) -> Template:
    group = _group(request)
    values = {name: getattr(group, name) or "" for name in groups.GROUP_TEXT_FIELDS}
    return _texts(request, group, values, {})


@post("/groupes/{group_id:uuid}/presentation", opt=TEXTS)
async def save_texts(request: Request, group_id: FromPath[UUID]) -> Response:
    group = _group(request)
    data = await _form(request)
    if data.get("operation") == "apercu":
        # Preview without saving: the page again, its preview showing what was typed.
        values, errors = groups.clean_group_texts(data)
        return _texts(request, group, values, errors, status_code=422 if errors else 200)
    values, errors = await groups.update_group_texts(
        group, data, actor_id=_viewer(request).id, client_address=_address(request)
    )
    if errors:
        return _texts(request, group, values, errors, status_code=422)
    return redirect(f"/groupes/{group.id}", "La présentation du groupe a été enregistrée.")


# --- exports -----------------------------------------------------------------------------------


async def _export(request: Request) -> list[list[Any]]:
    viewer = _viewer(request)
    mine = [g for g in await groups.my_groups(viewer) if policies.can_export_group_users(viewer, g)]
    if not mine:
        await audit.record(
            audit.Event.ACCESS_DENIED, actor_id=viewer.id, client_address=_address(request)
        )
        raise PermissionDeniedException()
    for group in mine:
        await audit.record(
            audit.Event.USERS_EXPORTED,
            actor_id=viewer.id,
            group_id=group.id,
            client_address=_address(request),
        )
    return await groups.export_rows(mine)


def _filename(ext: str) -> str:
    return f"utilisateurs-{clock.now().strftime('%Y-%m-%d')}.{ext}"


@get("/groupes/export.csv", opt=POLICY)
async def export_csv(request: Request) -> Response:
    content = exports.csv_text(groups.EXPORT_HEADER, await _export(request))
    return Response(
        content=content,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename("csv")}"',
            "Cache-Control": "no-store",
        },
    )


@get("/groupes/export.xlsx", opt=POLICY)
async def export_xlsx(request: Request) -> Response:
    content = exports.xlsx_bytes("Utilisateurs", groups.EXPORT_HEADER, await _export(request))
    return Response(
        content=content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename("xlsx")}"',
            "Cache-Control": "no-store",
        },
    )


router = Router(
    path="",
    route_handlers=[
        index,
        show,
        add_member,
        deactivate,
        reactivate,
        member,
        edit_member,
        save_member,
        new_accounts,
        create_accounts,
        texts,
        save_texts,
        export_csv,
        export_xlsx,
    ],
)
