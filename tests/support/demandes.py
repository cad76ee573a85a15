"""A small world for demande tests: a France Services, a CAF and a CPAM in Paris, a CAF in 13."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from factories import make_group, make_user

from app.tables import Group, User


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
