"""Idempotent demo data: départements 75, 93 and 974, a France Services, partner groups,
one account of each role, and demandes in every status."""

from __future__ import annotations

from datetime import date, timedelta

from app import clock
from app.domain import applications, statistics, users
from app.settings import get_settings
from app.tables import Application, Group, ManagerScope, Membership, User

DEMO_DOMAIN = "demo.aplus.localhost"

GROUPS = [
    # (key, name, organisation, areas, description)
    ("fs", "France Services Paris 18e", "france-services", ["75"], "Accueil de proximité"),
    ("caf", "CAF de Paris", "caf", ["75"], "Prestations familiales, RSA, aides au logement"),
    ("cpam", "CPAM de Paris", "cpam", ["75"], "Assurance maladie, carte Vitale, CSS"),
    ("dgfip", "DDFiP de Paris", "dgfip", ["75"], "Impôts des particuliers"),
    ("ft", "France Travail Paris", "france-travail", ["75"], "Inscription, indemnisation"),
    ("caf93", "CAF de la Seine-Saint-Denis", "caf", ["93"], "Prestations familiales"),
    ("cgss974", "CGSS de La Réunion", "cgss", ["974"], "Sécurité sociale à La Réunion"),
]

ACCOUNTS = [
    # (local part, first, last, qualité, roles, groups, managed)
    ("aidant", "Alice", "Martin", "Conseillère France Services", {"helper"}, ["fs"], ["fs"]),
    ("aidant2", "Bruno", "Petit", "Conseiller France Services", {"helper"}, ["fs"], []),
    ("instructeur.caf", "Chloé", "Bernard", "Référente CAF", {"instructor"}, ["caf"], ["caf"]),
    ("instructeur.cpam", "David", "Robert", "Référent CPAM", {"instructor"}, ["cpam"], []),
    ("instructeur.dgfip", "Emma", "Richard", "Inspectrice", {"instructor"}, ["dgfip"], []),
    ("instructeur.ft", "Farid", "Durand", "Conseiller", {"instructor"}, ["ft"], []),
    ("instructeur.caf93", "Gaëlle", "Leroy", "Référente", {"instructor"}, ["caf93"], []),
    ("responsable.caf", "Hugo", "Moreau", "Responsable", {"instructor"}, ["caf"], ["caf"]),
    ("territoire", "Inès", "Simon", "Responsable de territoire", set(), [], []),
    ("observateur", "Jules", "Laurent", "Pilote national", set(), [], []),
    ("expert", "Karima", "Lefebvre", "Équipe Administration+", {"expert"}, [], []),
    ("admin", "Louis", "Michel", "Équipe Administration+", {"admin"}, [], []),
]

ROLE_LABELS = {
    "helper": "aidant",
    "instructor": "instructeur",
    "manager": "responsable",
    "area_manager": "responsable de territoire",
    "observer": "observateur",
    "expert": "expert",
    "admin": "administrateur",
}


def demo_email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


async def _group(key: str) -> Group:
    name = next(g[1] for g in GROUPS if g[0] == key)
    return await Group.objects().where(Group.name == name).first()


async def seed_demo() -> None:
    """Create what is missing; running it twice changes nothing."""
    cgu = get_settings().cgu_version
    for key, name, organisation, areas, description in GROUPS:
        if not await Group.exists().where(Group.name == name):
            await users.create_group(
                name,
                organisation=organisation,
                areas=areas,
                short_description=description,
                public_note="Joindre le numéro d'allocataire si possible." if key == "caf" else "",
                bal_email=demo_email(f"bal.{key}"),
            )
    for local, first, last, qualite, roles, groups, managed in ACCOUNTS:
        if await User.exists().where(User.email == demo_email(local)):
            continue
        group_ids = [(await _group(k)).id for k in groups]
        managed_ids = [(await _group(k)).id for k in managed]
        user = await users.create_user(
            demo_email(local),
            first_name=first,
            last_name=last,
            qualite=qualite,
            phone="01 23 45 67 89",
            helper="helper" in roles,
            instructor="instructor" in roles,
            expert="expert" in roles,
            admin="admin" in roles,
            admin_areas=["75", "93", "974"] if "admin" in roles else [],
            groups=group_ids,
            managed_groups=managed_ids,
            cgu_version=cgu,
        )
        if local == "territoire":
            await ManagerScope(
                user=user.id, role="area_manager", organisation="caf", area="75"
            ).save()
        if local == "observateur":
            await ManagerScope(user=user.id, role="observer", organisation=None, area=None).save()
    await _seed_applications()
    # The demo's statistics pages show figures at once, not after the first scheduled refresh.
    await statistics.refresh()


async def _seed_applications() -> None:
    aidant = await User.objects().where(User.email == demo_email("aidant")).first()
    if await Application.exists().where(Application.creator == aidant.id):
        return
    fs, caf, cpam, dgfip = [await _group(k) for k in ("fs", "caf", "cpam", "dgfip")]
    instructor = await User.objects().where(User.email == demo_email("instructeur.caf")).first()
    now = clock.now()

    async def make(subject, groups, days_ago, first_name, last_name):
        return await applications.create_application(
            creator=aidant,
            creator_group=fs.id,
            area="75",
            subject=subject,
            usager_first_name=first_name,
            usager_last_name=last_name,
            usager_birth_date=date(1980, 5, 17),
            description="Situation décrite par l'aidant (données de démonstration).",
            groups=[g.id for g in groups],
            created_at=now - timedelta(days=days_ago),
            usager_fields=[{"code": "caf_id", "value": "1234567"}] if caf in groups else [],
        )

    await make("Aide au logement suspendue depuis deux mois", [caf], 0, "Élodie", "Dupont")
    late = await make("Remboursements bloqués après déménagement", [cpam], 9, "Marc", "Nguyen")
    assert late.id
    ongoing = await make("RSA non versé malgré un dossier complet", [caf], 3, "Sofia", "Haddad")
    await applications.post_answer(
        ongoing.id,
        instructor,
        kind="take_charge",
        body="Je m'en occupe.",
        author_group=caf.id,
        created_at=now - timedelta(days=2),
    )
    processed = await make("Prime d'activité recalculée à tort", [caf], 6, "Paul", "Girard")
    await applications.post_answer(
        processed.id,
        instructor,
        body="Le droit est rétabli.",
        marks_processed=True,
        author_group=caf.id,
        created_at=now - timedelta(days=1),
    )
    archived = await make("Avis d'imposition introuvable", [dgfip], 20, "Nadia", "Benali")
    await applications.post_answer(
        archived.id,
        instructor,
        body="Document renvoyé.",
        marks_processed=True,
        created_at=now - timedelta(days=15),
    )
    await applications.archive(archived.id, aidant, "oui")


async def demo_accounts() -> list[dict]:
    """The demo accounts, as `aplus seed demo --json` prints them."""
    result = []
    for local, *_rest in ACCOUNTS:
        user = await User.objects().where(User.email == demo_email(local)).first()
        if user is None:
            continue
        memberships = await Membership.select(Membership.group.name, Membership.is_manager).where(
            Membership.user == user.id
        )
        scopes = await ManagerScope.select(ManagerScope.role).where(ManagerScope.user == user.id)
        roles = [
            label
            for flag, label in (
                (user.is_helper, "helper"),
                (user.is_instructor, "instructor"),
                (any(m["is_manager"] for m in memberships), "manager"),
                (any(s["role"] == "area_manager" for s in scopes), "area_manager"),
                (any(s["role"] == "observer" for s in scopes), "observer"),
                (user.is_expert, "expert"),
                (user.is_admin, "admin"),
            )
            if flag
        ]
        result.append(
            {"email": user.email, "roles": roles, "groups": [m["group.name"] for m in memberships]}
        )
    return result
