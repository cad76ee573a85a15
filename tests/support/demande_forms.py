"""Helpers for demande tests: a valid creation form, the visible text of a page."""

from __future__ import annotations

import uuid

from bs4 import BeautifulSoup

from app.domain.validators import nir_key
from app.formatting import today

NIR13 = "1850375056001"
VALID_NIR = NIR13 + f"{nir_key(NIR13):02d}"


def creation_form(world, **overrides) -> dict:
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
