"""Factories with intent-revealing keywords, built on the domain functions."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime

from app.domain import applications, users
from app.settings import get_settings
from app.tables import Application, Group, User

_seq = itertools.count(1)


async def make_group(
    organisation: str = "caf", areas: Sequence[str] = ("75",), name: str | None = None, **kw
) -> Group:
    n = next(_seq)
    return await users.create_group(
        name or f"Groupe {organisation} {n}", organisation=organisation, areas=areas, **kw
    )


async def make_user(
    *,
    helper_in: Sequence[Group] = (),
    instructor_in: Sequence[Group] = (),
    manager_of: Sequence[Group] = (),
    member_of: Sequence[Group] = (),
    email: str | None = None,
    cgu: bool = True,
    **kw,
) -> User:
    n = next(_seq)
    groups = [g.id for g in (*helper_in, *instructor_in, *member_of)]
    kw.setdefault("helper", bool(helper_in))
    kw.setdefault("instructor", bool(instructor_in))
    return await users.create_user(
        email or f"agent{n}@exemple.gouv.fr",
        first_name=kw.pop("first_name", f"Prénom{n}"),
        last_name=kw.pop("last_name", f"Nom{n}"),
        groups=groups,
        managed_groups=[g.id for g in manager_of],
        cgu_version=get_settings().cgu_version if cgu else None,
        **kw,
    )


async def make_application(
    *,
    by: User,
    to: Sequence[Group],
    from_group: Group | None = None,
    area: str = "75",
    subject: str = "Prestation suspendue",
    usager: tuple[str, str] = ("Élodie", "Dupont"),
    description: str = "Description de la situation.",
    colleagues: Sequence[User] = (),
    created_at: datetime | None = None,
) -> Application:
    return await applications.create_application(
        creator=by,
        creator_group=from_group.id if from_group else None,
        area=area,
        subject=subject,
        usager_first_name=usager[0],
        usager_last_name=usager[1],
        usager_birth_date=date(1985, 3, 2),
        description=description,
        groups=[g.id for g in to],
        colleagues=[c.id for c in colleagues],
        created_at=created_at,
    )
