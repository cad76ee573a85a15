"""Admin screens, pre-registration of aidants pasted as a list of e-mails."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app import emails
from app.domain import audit
from app.domain.admin.journal import logged
from app.domain.admin.users import add_user_to_group
from app.domain.users import create_user
from app.domain.validators import ValidationError, normalize_email
from app.piccolo_conf import DB
from app.policies import (
    Viewer,
)
from app.tables import (
    Group,
    Membership,
    User,
)


@dataclass
class PreregistrationLine:
    raw: str
    email: str = ""
    status: str = ""  # new | existing | member | invalid | duplicate
    error: str = ""


def review_preregistration(text: str, existing: dict[str, UUID], members: set[UUID]) -> list:
    lines: list[PreregistrationLine] = []
    seen: set[str] = set()
    for raw in text.replace(",", "\n").replace(";", "\n").splitlines():
        if not raw.strip():
            continue
        line = PreregistrationLine(raw=raw.strip())
        try:
            line.email = normalize_email(raw)
        except ValidationError as e:
            line.status, line.error = "invalid", str(e)
        else:
            if line.email in seen:
                line.status = "duplicate"
            elif line.email in existing:
                line.status = "member" if existing[line.email] in members else "existing"
            else:
                line.status = "new"
            seen.add(line.email)
        lines.append(line)
    return lines


async def preregistration(text: str, group: Group) -> list[PreregistrationLine]:
    """The dry run: what confirming would do for each pasted line."""
    candidates = []
    for raw in text.replace(",", "\n").replace(";", "\n").splitlines():
        try:
            candidates.append(normalize_email(raw))
        except ValidationError:
            pass
    existing = (
        {
            r["email"]: r["id"]
            for r in await User.select(User.email, User.id).where(User.email.is_in(candidates))
        }
        if candidates
        else {}
    )
    members = {
        r["user"]
        for r in await Membership.select(Membership.user).where(Membership.group == group.id)
    }
    return review_preregistration(text, existing, members)


async def apply_preregistration(
    viewer: Viewer, text: str, group: Group, *, client_address: str = ""
) -> tuple[int, int]:
    """Create the new aidants and add existing accounts; (created, added)."""
    lines = await preregistration(text, group)
    created = added = 0
    async with DB.transaction():
        for line in lines:
            if line.status == "new":
                user = await create_user(line.email, helper=True, groups=[group.id])
                await logged(
                    audit.Event.USER_PREREGISTERED,
                    viewer,
                    client_address,
                    user_id=user.id,
                    group_id=group.id,
                )
                await emails.welcome(user.email, group.name)
                created += 1
            elif line.status == "existing":
                user = await User.objects().get(User.email == line.email)
                await add_user_to_group(
                    viewer,
                    user,
                    group,
                    manager=False,
                    governs=False,
                    client_address=client_address,
                )
                added += 1
    return created, added
