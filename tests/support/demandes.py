"""A small world for demande tests: a France Services, a CAF and a CPAM in Paris, a CAF in 13."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup
from factories import make_group, make_user

from app.domain.validators import nir_key
from app.formatting import today
from app.tables import Group, User

NIR13 = "1850375056001"
VALID_NIR = NIR13 + f"{nir_key(NIR13):02d}"


@dataclass
class World:
    fs: Group
    caf: Group
    cpam: Group
    caf13: Group
    aidant: User
    colleague: User
    caf_agent: User
    caf_agent2: User
    cpam_agent: User
    caf13_agent: User


@pytest.fixture
async def world(db) -> World:
    fs = await make_group("france-services", name="France Services Paris 18e")
    caf = await make_group(
        "caf",
        name="CAF de Paris",
        short_description="Prestations familiales",
        public_note="Joindre le numéro d'allocataire.",
        bal_email="bal.caf@caf.fr",
    )
    cpam = await make_group("cpam", name="CPAM de Paris", bal_email="bal.cpam@cpam.fr")
    caf13 = await make_group("caf", areas=["13"], name="CAF des Bouches-du-Rhône")
    return World(
        fs=fs,
        caf=caf,
        cpam=cpam,
        caf13=caf13,
        aidant=await make_user(helper_in=[fs], email="aidant@fs.fr"),
        colleague=await make_user(helper_in=[fs], email="collegue@fs.fr"),
        caf_agent=await make_user(instructor_in=[caf], email="agent1@caf.fr"),
        caf_agent2=await make_user(instructor_in=[caf], email="agent2@caf.fr"),
        cpam_agent=await make_user(instructor_in=[cpam], email="agent@cpam.fr"),
        caf13_agent=await make_user(instructor_in=[caf13], email="agent@caf13.fr"),
    )


def creation_form(world: World, **overrides) -> dict:
    data = {
        "area": "75",
        "creator_group": str(world.fs.id),
        "groups": [str(world.caf.id)],
        "subject": "Aide au logement suspendue",
        "usager_first_name": "Élodie",
        "usager_last_name": "Dupontel",
        "usager_birth_date": "1985-03-02",
        "field_caf_id": "1234567",
        "field_nir": VALID_NIR,
        "mandat_kind": "paper",
        "mandat_date": today().isoformat(),
        "description": "Situation très particulière décrite ici.",
        "attestation": "1",
        "creation_key": uuid.uuid4().hex,
        "action": "create",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def text(response) -> str:
    """The visible text of an HTML response (entities decoded, spaces collapsed)."""
    return " ".join(BeautifulSoup(response.text, "html.parser").get_text(" ").split())
