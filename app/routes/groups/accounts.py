"""Creating accounts in a group, several rows at once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app.domain import groups
from app.policies import can_create_accounts, policy
from app.routes.common import address, current_viewer, error_status, form_dict
from app.routes.groups.blocks import GROUP, block_of, group_of, show_block
from app.tables import Group
from app.templating import redirect, render, wants_fragment

CREATE = policy(can_create_accounts, group=GROUP)


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


@get("/groupes/{group_id:uuid}/comptes/nouveaux", opt=CREATE)
async def new_accounts(
    request: Request, group_id: FromPath[UUID], lignes: FromQuery[str | None] = None
) -> Template:
    count = _row_count(lignes)
    rows = groups.read_new_account_rows({}, count)
    form = groups.NewAccountsForm(rows=rows, errors=[{}] * count)
    return _accounts(request, group_of(request), form, focus="l0-first_name")


def _with_a_row(request: Request, group: Group, rows: list) -> Template:
    """ "Ajouter une ligne" without JavaScript: the rows typed so far and an empty one."""
    rows.append(groups.read_new_account_rows({}, 1)[0])
    form = groups.NewAccountsForm(rows=rows, errors=[{} for _ in rows])
    return _accounts(request, group, form, focus=f"l{len(rows) - 1}-first_name")


async def _created(request: Request, group: Group, n: int) -> Response:
    message = (
        f"{n} compte créé ; un e-mail de bienvenue a été envoyé."
        if n == 1
        else f"{n} comptes créés ; chacun a reçu un e-mail de bienvenue."
    )
    if not wants_fragment(request):
        return redirect(f"/groupes/{group.id}", message)
    # The form sat inside the group's block: the refreshed block replaces both.
    response = show_block(request, await block_of(group, notice=message))
    response.headers["HX-Retarget"] = f"#groupe-{group.id}"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


@post("/groupes/{group_id:uuid}/comptes", opt=CREATE)
async def create_accounts(request: Request, group_id: FromPath[UUID]) -> Response:
    group, data = group_of(request), await form_dict(request)
    count = _row_count(data.get("lignes"))
    rows = groups.read_new_account_rows(data, count)
    if data.get("operation") == "ajouter_ligne" and count < groups.MAX_NEW_ROWS:
        return _with_a_row(request, group, rows)
    form = await groups.create_accounts(
        group,
        rows,
        actor_id=current_viewer(request).id,
        confirmed=data.get("confirm_instructor") == "1",
        client_address=address(request),
    )
    if form.has_errors:
        first = next(f"l{i}-{name}" for i, errors in enumerate(form.errors) for name in errors)
        return _accounts(request, group, form, status_code=error_status(request), focus=first)
    if form.confirm_count:
        return _accounts(request, group, form, focus="confirm_instructor")
    return await _created(request, group, len(form.created))
