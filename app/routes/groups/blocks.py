"""A group's block, as Mes groupes and the group page show it (one page of members, the
buttons each row offers), and the answers every member action gives: the refreshed block for
htmx, a 303 back where the form was with a flash otherwise."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.response import Template

from app import policies
from app.auth import loaded
from app.domain import groups, reference
from app.domain.validators import local_redirect_target
from app.emails import PARIS
from app.policies import GroupById, MemberOf, can_list_my_groups, policy
from app.tables import Group
from app.templating import redirect, render, wants_fragment

POLICY = policy(can_list_my_groups)
GROUP = GroupById()
MEMBER = MemberOf()


def group_of(request: Request) -> Group:
    return loaded(request, "group")


def member_of(request: Request) -> policies.AccountFacts:
    return loaded(request, "member")


def organisation_label(code: str | None) -> str:
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


async def blocks_of(
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
                "organisation": organisation_label(group.organisation),
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


async def block_of(
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
        await blocks_of([group], show_disabled=show_disabled, pages={group.id: page}, around=around)
    )[0]
    block.update(changes)
    return block


def show_block(request: Request, block: dict, *, status_code: int = 200) -> Template:
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


async def done(
    request: Request,
    group: Group,
    data: dict,
    message: str,
    *,
    error: bool = False,
    **changes: Any,
) -> Response:
    """After a member action: the refreshed block with the message for htmx, else a 303 back
    where the form was, with the message as a flash."""
    level = "error" if error else "success"
    if wants_fragment(request):
        return show_block(
            request, await block_of(group, notice=message, notice_level=level, **changes)
        )
    return redirect(_back(request, data, group), message, level=level)


async def member_or_404(group: Group, user_id: UUID) -> dict[str, Any]:
    member = await groups.member_row(group.id, user_id)
    if member is None:
        raise NotFoundException()
    member["account"] = (await policies.account_facts([user_id]))[user_id]
    return _decorate(member)
