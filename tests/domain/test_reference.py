"""Pure tests of the static reference data."""

import pytest

from app.domain import reference
from app.domain.reference import (
    CATEGORIES,
    DEPARTEMENTS,
    HELPER_ORGANISATIONS,
    ORGANISATIONS,
    PARTNER_ORGANISATIONS,
    REQUIRED_USAGER_FIELDS_BY_ORGANISATION,
    USAGER_OPTIONAL_FIELDS,
    category_label,
    departement,
    organisation,
    required_usager_fields,
)

CATEGORY_CODES = {code for code, _label in CATEGORIES}
FIELD_CODES = {code for code, _label in USAGER_OPTIONAL_FIELDS}


def test_categories_in_spec_order():
    assert [code for code, _ in CATEGORIES] == [
        "social",
        "sante",
        "emploi",
        "logement",
        "retraite",
        "impots",
        "papiers",
        "autre",
    ]
    assert category_label("impots") == "Impôts / Argent"


def test_101_departements_plus_3_collectivites():
    departements = [d for d in DEPARTEMENTS if not d.collectivite]
    collectivites = [d for d in DEPARTEMENTS if d.collectivite]
    assert len(departements) == 101
    assert {d.code for d in collectivites} == {"975", "977", "978"}


def test_departement_codes_are_exactly_the_expected_ones():
    metropole = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
    overseas = ["971", "972", "973", "974", "976"]
    codes = [d.code for d in DEPARTEMENTS if not d.collectivite]
    assert sorted(codes) == sorted(metropole + overseas)
    assert "20" not in codes


def test_departement_codes_and_names_are_unique():
    assert len({d.code for d in DEPARTEMENTS}) == len(DEPARTEMENTS)
    assert len({d.name for d in DEPARTEMENTS}) == len(DEPARTEMENTS)


@pytest.mark.parametrize(
    ("code", "name", "region"),
    [
        ("01", "Ain", "Auvergne-Rhône-Alpes"),
        ("2A", "Corse-du-Sud", "Corse"),
        ("2b", "Haute-Corse", "Corse"),
        ("21", "Côte-d'Or", "Bourgogne-Franche-Comté"),
        ("75", "Paris", "Île-de-France"),
        ("90", "Territoire de Belfort", "Bourgogne-Franche-Comté"),
        ("95", "Val-d'Oise", "Île-de-France"),
        ("974", "La Réunion", "La Réunion"),
        ("976", "Mayotte", "Mayotte"),
        ("975", "Saint-Pierre-et-Miquelon", "Collectivités d'outre-mer"),
    ],
)
def test_departement_lookup(code, name, region):
    found = departement(code)
    assert (found.name, found.region) == (name, region)


def test_departement_label():
    assert departement("75").label == "Paris (75)"


@pytest.mark.parametrize(
    ("lookup", "code"),
    [(departement, "20"), (organisation, "pole-emploi"), (category_label, "famille")],
)
def test_unknown_codes_raise_a_clear_key_error(lookup, code):
    with pytest.raises(KeyError, match=repr(code)):
        lookup(code)


def test_organisation_codes_are_unique_slugs():
    codes = [o.code for o in ORGANISATIONS]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert code == code.lower() and " " not in code


@pytest.mark.parametrize("org", ORGANISATIONS, ids=lambda o: o.code)
def test_every_organisation_has_a_known_category_and_kind(org):
    assert org.category in CATEGORY_CODES
    assert org.kind in ("partner", "helper")
    assert org.short_name and org.name


@pytest.mark.parametrize(
    ("code", "category", "kind"),
    [
        ("caf", "social", "partner"),
        ("cpam", "sante", "partner"),
        ("msa", "social", "partner"),
        ("cnav", "retraite", "partner"),
        ("carsat", "retraite", "partner"),
        ("dgfip", "impots", "partner"),
        ("france-travail", "emploi", "partner"),
        ("mdph", "sante", "partner"),
        ("prefecture", "papiers", "partner"),
        ("ants", "papiers", "partner"),
        ("france-services", "autre", "helper"),
        ("mairie", "autre", "helper"),
        ("autre", "autre", "partner"),
    ],
)
def test_main_organisations(code, category, kind):
    org = organisation(code)
    assert (org.category, org.kind) == (category, kind)


def test_partner_and_helper_lists_partition_organisations():
    assert set(PARTNER_ORGANISATIONS) | set(HELPER_ORGANISATIONS) == set(ORGANISATIONS)
    assert not set(PARTNER_ORGANISATIONS) & set(HELPER_ORGANISATIONS)


def test_every_category_has_a_partner_to_address():
    used = {o.category for o in PARTNER_ORGANISATIONS}
    assert used == CATEGORY_CODES


def test_usager_optional_fields_order():
    assert [code for code, _ in USAGER_OPTIONAL_FIELDS] == [
        "nir",
        "caf_id",
        "numero_fiscal",
        "adresse",
        "telephone",
        "numero_dossier",
        "nom_naissance",
        "autre",
    ]
    assert reference.usager_field_label("nir") == "Numéro de sécurité sociale (NIR)"


def test_required_field_rules_reference_known_codes():
    for org_code, fields in REQUIRED_USAGER_FIELDS_BY_ORGANISATION.items():
        assert organisation(org_code).kind == "partner"
        assert set(fields) <= FIELD_CODES


@pytest.mark.parametrize(
    ("organisations", "expected"),
    [
        ([], []),
        (["caf"], ["nir", "caf_id"]),
        (["cpam"], ["nir"]),
        (["msa"], ["nir"]),
        (["cnav"], ["nir"]),
        (["carsat"], ["nir"]),
        (["dgfip"], ["numero_fiscal"]),
        (["france-travail", "prefecture", "mdph"], []),
        (["dgfip", "cpam", "caf"], ["nir", "caf_id", "numero_fiscal"]),
        (("cpam", "msa", "cpam"), ["nir"]),
        (iter(["caf"]), ["nir", "caf_id"]),
    ],
)
def test_required_usager_fields(organisations, expected):
    assert required_usager_fields(organisations) == expected


def test_required_usager_fields_rejects_unknown_organisation():
    with pytest.raises(KeyError):
        required_usager_fields(["caf", "nope"])
