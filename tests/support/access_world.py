"""The world of the access-matrix tests: foreign objects in Seine-Saint-Denis (93) carrying
marker strings, and one persona per kind of account, none of whom may touch them.

Markers are plain letters (no accents, no spaces) so that HTML escaping, URL encoding or
case folding cannot hide one in a response: the walk looks for them case-insensitively in
every body and header.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from factories import make_application, make_group, make_user

from app import clock
from app.domain import admin, applications, canned_replies, files
from app.domain.canned_replies import CannedReply
from app.tables import Application, Attachment, Group, ManagerScope, User

FOREIGN_AREA = "93"
PDF = b"%PDF-1.4 piece jointe"
# A word present in every text of the foreign demande but not itself a marker: a search by it
# must not bring the foreign demande (its subject marker would then show).
SEARCH_WORD = "rutabaga"


def marker(tag: str) -> str:
    return f"Zqxm{tag}"


@dataclass
class AccessWorld:
    # Foreign objects (93).
    demande: Application
    file: Attachment
    private_file: Attachment
    group: Group
    creator_group: Group
    user: User  # an instructeur of the foreign group
    creator: User  # the aidant who wrote the foreign demande
    admin: User  # admin of 93, in no group
    expert: User  # expert invited on the foreign demande, in no group
    area_manager: User  # area manager of CAF 93, in no group
    scope: ManagerScope  # the foreign area manager's scope
    canned_reply: CannedReply  # a réponse type of the foreign group
    markers: list[str]
    # Personas, by name; None is the anonymous visitor.
    personas: dict[str, User | None] = field(default_factory=dict)
    # The personas' own objects (for the "own container, foreign object" pairs).
    home_groups: dict[str, list[Group]] = field(default_factory=dict)
    home_demande: Application | None = None
    home_participants: set[str] = field(default_factory=set)
    # Personas for whom the foreign side is partly their own: only the demande's routes are
    # walked, against the content markers (see `CONTENT_ONLY`).
    content_only: set[str] = field(default_factory=set)
    content_markers: list[str] = field(default_factory=list)

    def markers_for(self, persona: str) -> list[str]:
        return self.content_markers if persona in self.content_only else self.markers

    def users(self) -> dict[str, User]:
        return {
            "user": self.user,
            "creator": self.creator,
            "admin": self.admin,
            "expert": self.expert,
            "area_manager": self.area_manager,
        }


async def _foreign_user(tag: str, **kw) -> User:
    return await make_user(
        email=f"{marker(tag)}@{marker(tag + 'dom')}.fr",
        first_name=marker(tag + "prenom"),
        last_name=marker(tag + "nom"),
        **kw,
    )


async def build_access_world() -> AccessWorld:
    """Foreign objects in 93 and the personas (home in 75 and 13), in a few dozen inserts."""
    # --- the foreign side (93) ---
    caf93 = await make_group("caf", areas=[FOREIGN_AREA], name="CAF de Seine-Saint-Denis")
    fs93 = await make_group("france-services", areas=[FOREIGN_AREA], name="France Services 93")
    creator = await _foreign_user("createur", helper_in=[fs93])
    instructeur = await _foreign_user("instructeur", instructor_in=[caf93])
    # A former instructeur of the foreign group, invited on the demande, then disabled.
    disabled = await make_user(instructor_in=[caf93], email="desactive@matrice.fr")
    foreign_admin = await _foreign_user("admin", admin=True, admin_areas=[FOREIGN_AREA])
    expert = await _foreign_user("expert", expert=True)
    area_manager = await _foreign_user("territoire")
    scope = await admin.grant_scope(area_manager.id, "area_manager", "caf", FOREIGN_AREA)
    text = f"{SEARCH_WORD} "
    demande = await make_application(
        by=creator,
        to=[caf93],
        from_group=fs93,
        area=FOREIGN_AREA,
        subject=marker("sujet"),
        usager=(marker("usagerprenom"), marker("usagernom")),
        description=text + marker("description"),
    )
    await applications.add_users(demande.id, [expert.id], invited_by=instructeur.id)
    public = await applications.post_answer(
        demande.id, instructeur, body=text + marker("reponsepublique")
    )
    private = await applications.post_answer(
        demande.id, instructeur, body=text + marker("reponseprivee"), visibility="instructors"
    )
    public_file = await files.store(
        files.check_file(marker("fichierpublic") + ".pdf", PDF),
        application_id=demande.id,
        uploader_id=instructeur.id,
        answer_id=public.id,
    )
    private_file = await files.store(
        files.check_file(marker("fichierprive") + ".pdf", PDF),
        application_id=demande.id,
        uploader_id=instructeur.id,
        answer_id=private.id,
    )
    await User.update({User.disabled_at: clock.now()}).where(User.id == disabled.id)
    await canned_replies.create(
        caf93.id,
        {"title": marker("reponsetypetitre"), "text": marker("reponsetypetexte")},
        actor_id=instructeur.id,
    )
    (canned_reply,) = await canned_replies.of_group(caf93.id)

    # --- the personas' side (75, and 13 for the other admin) ---
    fs75 = await make_group("france-services", name="France Services Paris")
    caf75 = await make_group("caf", name="CAF de Paris")
    msa93 = await make_group("msa", areas=[FOREIGN_AREA], name="MSA 93")
    caf13 = await make_group("caf", areas=["13"], name="CAF des Bouches-du-Rhône")
    aidant = await make_user(helper_in=[fs75], email="aidant@matrice.fr")
    instructeur75 = await make_user(instructor_in=[caf75], email="instructeur@matrice.fr")
    responsable = await make_user(manager_of=[caf75], email="responsable@matrice.fr")
    territoire = await make_user(email="territoire@matrice.fr")
    # Close misses: another organisation in 93, the same organisation in another département.
    await admin.grant_scope(territoire.id, "area_manager", "cpam", FOREIGN_AREA)
    observer = await make_user(email="observateur@matrice.fr")
    await admin.grant_scope(observer.id, "observer", "caf", "13")
    expert75 = await make_user(expert=True, email="expert@matrice.fr")
    admin75 = await make_user(admin=True, admin_areas=["75"], email="admin@matrice.fr")
    unrelated = await make_user(helper_in=[msa93], email="voisin@matrice.fr")
    multirole = await make_user(
        helper_in=[fs75], instructor_in=[caf75], email="multirole@matrice.fr"
    )
    admin13 = await make_user(
        admin=True, admin_areas=["13"], manager_of=[caf13], email="admin13@matrice.fr"
    )
    home = await make_application(by=aidant, to=[caf75], from_group=fs75, subject="Dossier")
    await applications.add_users(home.id, [expert75.id], invited_by=instructeur75.id)

    content_markers = [
        marker(tag)
        for tag in (
            "sujet",
            "usagerprenom",
            "usagernom",
            "description",
            "reponsepublique",
            "reponseprivee",
            "fichierpublic",
            "fichierprive",
        )
    ]
    markers = list(content_markers)
    markers += [marker("reponsetypetitre"), marker("reponsetypetexte")]
    for tag in ("createur", "instructeur", "admin", "expert", "territoire"):
        markers += [marker(tag), marker(tag + "dom"), marker(tag + "prenom"), marker(tag + "nom")]
    return AccessWorld(
        demande=demande,
        file=public_file,
        private_file=private_file,
        group=caf93,
        creator_group=fs93,
        user=instructeur,
        creator=creator,
        admin=foreign_admin,
        expert=expert,
        area_manager=area_manager,
        scope=scope,
        canned_reply=canned_reply,
        markers=markers,
        personas={
            "aidant": aidant,
            "instructeur": instructeur75,
            "responsable": responsable,
            "territoire": territoire,
            "observateur": observer,
            "expert": expert75,
            "admin": admin75,
            "membre_autre_groupe": unrelated,
            "desactive": disabled,
            "anonyme": None,
            "aidant_instructeur": multirole,
            "admin_autre_departement": admin13,
            # The admin of 93 administers the foreign accounts and groups and may archive the
            # demande; it reads the demande only anonymised: no usager, texts, messages, files.
            "admin_du_departement": foreign_admin,
        },
        home_groups={
            "aidant": [fs75],
            "instructeur": [caf75],
            "responsable": [caf75],
            "membre_autre_groupe": [msa93],
            "aidant_instructeur": [fs75, caf75],
            "admin_autre_departement": [caf13],
        },
        home_demande=home,
        home_participants={"aidant", "instructeur", "aidant_instructeur", "expert"},
        content_only={"admin_du_departement"},
        content_markers=content_markers,
    )
