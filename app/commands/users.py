"""`aplus user`: create, update and give scopes to accounts (the only way for admins)."""

from __future__ import annotations

import click

from app.commands.support import fail, run_db


@click.group(help="Gestion des comptes.")
def user() -> None:
    pass


ROLES = ("aidant", "instructeur", "expert", "admin")


@user.command("create", help="Crée un compte (par exemple le premier administrateur).")
@click.option("--email", required=True)
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(ROLES),
    help="Répétable : --role aidant --role instructeur",
)
@click.option("--group", "groups", multiple=True, help="Nom exact d'un groupe (répétable).")
@click.option("--manager", is_flag=True, help="Responsable des groupes donnés.")
@click.option("--admin-area", "admin_areas", multiple=True, help="Département administré.")
def user_create(email, first_name, last_name, roles, groups, manager, admin_areas) -> None:
    from app.domain import users
    from app.domain.validators import ValidationError
    from app.tables import Area, Group

    async def go():
        group_ids = []
        for name in groups:
            group = await Group.objects().where(Group.name == name).first()
            if group is None:
                fail(f"Groupe inconnu : {name!r}")
            group_ids.append(group.id)
        for code in admin_areas:
            if not await Area.exists().where(Area.code == code):
                fail(f"Département inconnu : {code!r}")
        try:
            created = await users.create_user(
                email,
                first_name=first_name,
                last_name=last_name,
                helper="aidant" in roles,
                instructor="instructeur" in roles,
                expert="expert" in roles,
                admin="admin" in roles,
                admin_areas=admin_areas,
                groups=group_ids,
                managed_groups=group_ids if manager else [],
            )
        except (users.DomainError, ValidationError) as exc:
            fail(str(exc))
        return created

    created = run_db(go)
    click.echo(f"Compte créé : {created.email}")


@user.command(
    "update",
    help="Change l'adresse e-mail ou l'activation d'un compte. Seule voie pour les comptes "
    "administrateurs et experts, et pour ceux sans groupe ni périmètre (jamais l'interface).",
)
@click.option("--email", required=True, help="Adresse actuelle du compte.")
@click.option("--new-email", default=None, help="Nouvelle adresse (ferme ses sessions).")
@click.option("--disable/--enable", "disable", default=None, help="Désactive ou réactive.")
def user_update(email, new_email, disable) -> None:
    from types import SimpleNamespace

    from app.domain import admin
    from app.domain.validators import ValidationError, normalize_email
    from app.tables import User

    async def go():
        found = await User.objects().where(User.email == email.strip().lower()).first()
        if found is None:
            fail(f"Aucun compte avec l'adresse {email!r}")
        values = {name: getattr(found, name) for name in admin.USER_FIELDS}
        try:
            values["email"] = normalize_email(new_email) if new_email else found.email
        except ValidationError as exc:
            fail(str(exc))
        values["disabled"] = (found.disabled_at is not None) if disable is None else disable
        # No viewer: the audit events carry no actor, as for `aplus user scope`.
        errors = await admin.save_user(SimpleNamespace(id=None), found, values)
        if errors:
            fail(" ".join(errors.values()))
        return values

    values = run_db(go)
    state = "désactivé" if values["disabled"] else "actif"
    click.echo(f"Compte {values['email']} enregistré ({state}).")


SCOPE_ROLES = {"territoire": "area_manager", "observateur": "observer"}


@user.command(
    "scope",
    help="Donne un périmètre de responsable de territoire ou d'observateur. Sans --area : "
    "tous les départements (seulement ici, jamais depuis l'interface) ; sans --organisation : "
    "tous les organismes.",
)
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(tuple(SCOPE_ROLES)))
@click.option("--organisation", default=None, help="Code d'organisme, par exemple caf.")
@click.option("--area", default=None, help="Code de département, par exemple 75.")
def user_scope(email, role, organisation, area) -> None:
    from app.domain import admin, audit, reference
    from app.tables import User

    async def go():
        found = await User.objects().where(User.email == email.strip().lower()).first()
        if found is None:
            fail(f"Aucun compte avec l'adresse {email!r}")
        if organisation is not None:
            try:
                reference.organisation(organisation)
            except KeyError:
                fail(f"Organisme inconnu : {organisation!r}")
        code = area
        if area is not None:
            try:
                code = reference.departement(area).code
            except KeyError:
                fail(f"Département inconnu : {area!r}")
        granted = await admin.grant_scope(found.id, SCOPE_ROLES[role], organisation, code)
        if granted:
            await audit.record(
                audit.Event.SCOPE_GRANTED, user_id=found.id, changed_fields=["scopes"]
            )
        return granted

    granted = run_db(go)
    click.echo("Périmètre ajouté." if granted else "Ce compte a déjà ce périmètre.")
