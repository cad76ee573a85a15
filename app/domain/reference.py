"""Static reference data: categories, départements, organisations and usager fields."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

OrganisationKind = Literal["partner", "helper"]


@dataclass(frozen=True, slots=True)
class Departement:
    """A French département (or an overseas collectivité that is handled like one)."""

    code: str
    name: str
    region: str
    collectivite: bool = False

    @property
    def label(self) -> str:
        """Label shown in select boxes, e.g. "Paris (75)"."""
        return f"{self.name} ({self.code})"


@dataclass(frozen=True, slots=True)
class Organisation:
    """An organisme: a body that answers (partner) or a structure that asks (helper)."""

    code: str
    short_name: str
    name: str
    category: str
    kind: OrganisationKind


CATEGORIES: tuple[tuple[str, str], ...] = (
    ("social", "Social / Famille"),
    ("sante", "Santé / Handicap"),
    ("emploi", "Emploi / Formation"),
    ("logement", "Logement"),
    ("retraite", "Retraite"),
    ("impots", "Impôts / Argent"),
    ("papiers", "Papiers / Titres"),
    ("autre", "Autre"),
)

_ARA = "Auvergne-Rhône-Alpes"
_BFC = "Bourgogne-Franche-Comté"
_BRE = "Bretagne"
_CVL = "Centre-Val de Loire"
_COR = "Corse"
_GES = "Grand Est"
_HDF = "Hauts-de-France"
_IDF = "Île-de-France"
_NOR = "Normandie"
_NAQ = "Nouvelle-Aquitaine"
_OCC = "Occitanie"
_PDL = "Pays de la Loire"
_PAC = "Provence-Alpes-Côte d'Azur"
_COM = "Collectivités d'outre-mer"

# Names follow the INSEE Code officiel géographique (ASCII apostrophes included) so that
# imports from official files match; regions are the post-2016 ones.
DEPARTEMENTS: tuple[Departement, ...] = (
    Departement("01", "Ain", _ARA),
    Departement("02", "Aisne", _HDF),
    Departement("03", "Allier", _ARA),
    Departement("04", "Alpes-de-Haute-Provence", _PAC),
    Departement("05", "Hautes-Alpes", _PAC),
    Departement("06", "Alpes-Maritimes", _PAC),
    Departement("07", "Ardèche", _ARA),
    Departement("08", "Ardennes", _GES),
    Departement("09", "Ariège", _OCC),
    Departement("10", "Aube", _GES),
    Departement("11", "Aude", _OCC),
    Departement("12", "Aveyron", _OCC),
    Departement("13", "Bouches-du-Rhône", _PAC),
    Departement("14", "Calvados", _NOR),
    Departement("15", "Cantal", _ARA),
    Departement("16", "Charente", _NAQ),
    Departement("17", "Charente-Maritime", _NAQ),
    Departement("18", "Cher", _CVL),
    Departement("19", "Corrèze", _NAQ),
    Departement("2A", "Corse-du-Sud", _COR),
    Departement("2B", "Haute-Corse", _COR),
    Departement("21", "Côte-d'Or", _BFC),
    Departement("22", "Côtes-d'Armor", _BRE),
    Departement("23", "Creuse", _NAQ),
    Departement("24", "Dordogne", _NAQ),
    Departement("25", "Doubs", _BFC),
    Departement("26", "Drôme", _ARA),
    Departement("27", "Eure", _NOR),
    Departement("28", "Eure-et-Loir", _CVL),
    Departement("29", "Finistère", _BRE),
    Departement("30", "Gard", _OCC),
    Departement("31", "Haute-Garonne", _OCC),
    Departement("32", "Gers", _OCC),
    Departement("33", "Gironde", _NAQ),
    Departement("34", "Hérault", _OCC),
    Departement("35", "Ille-et-Vilaine", _BRE),
    Departement("36", "Indre", _CVL),
    Departement("37", "Indre-et-Loire", _CVL),
    Departement("38", "Isère", _ARA),
    Departement("39", "Jura", _BFC),
    Departement("40", "Landes", _NAQ),
    Departement("41", "Loir-et-Cher", _CVL),
    Departement("42", "Loire", _ARA),
    Departement("43", "Haute-Loire", _ARA),
    Departement("44", "Loire-Atlantique", _PDL),
    Departement("45", "Loiret", _CVL),
    Departement("46", "Lot", _OCC),
    Departement("47", "Lot-et-Garonne", _NAQ),
    Departement("48", "Lozère", _OCC),
    Departement("49", "Maine-et-Loire", _PDL),
    Departement("50", "Manche", _NOR),
    Departement("51", "Marne", _GES),
    Departement("52", "Haute-Marne", _GES),
    Departement("53", "Mayenne", _PDL),
    Departement("54", "Meurthe-et-Moselle", _GES),
    Departement("55", "Meuse", _GES),
    Departement("56", "Morbihan", _BRE),
    Departement("57", "Moselle", _GES),
    Departement("58", "Nièvre", _BFC),
    Departement("59", "Nord", _HDF),
    Departement("60", "Oise", _HDF),
    Departement("61", "Orne", _NOR),
    Departement("62", "Pas-de-Calais", _HDF),
    Departement("63", "Puy-de-Dôme", _ARA),
    Departement("64", "Pyrénées-Atlantiques", _NAQ),
    Departement("65", "Hautes-Pyrénées", _OCC),
    Departement("66", "Pyrénées-Orientales", _OCC),
    Departement("67", "Bas-Rhin", _GES),
    Departement("68", "Haut-Rhin", _GES),
    Departement("69", "Rhône", _ARA),
    Departement("70", "Haute-Saône", _BFC),
    Departement("71", "Saône-et-Loire", _BFC),
    Departement("72", "Sarthe", _PDL),
    Departement("73", "Savoie", _ARA),
    Departement("74", "Haute-Savoie", _ARA),
    Departement("75", "Paris", _IDF),
    Departement("76", "Seine-Maritime", _NOR),
    Departement("77", "Seine-et-Marne", _IDF),
    Departement("78", "Yvelines", _IDF),
    Departement("79", "Deux-Sèvres", _NAQ),
    Departement("80", "Somme", _HDF),
    Departement("81", "Tarn", _OCC),
    Departement("82", "Tarn-et-Garonne", _OCC),
    Departement("83", "Var", _PAC),
    Departement("84", "Vaucluse", _PAC),
    Departement("85", "Vendée", _PDL),
    Departement("86", "Vienne", _NAQ),
    Departement("87", "Haute-Vienne", _NAQ),
    Departement("88", "Vosges", _GES),
    Departement("89", "Yonne", _BFC),
    Departement("90", "Territoire de Belfort", _BFC),
    Departement("91", "Essonne", _IDF),
    Departement("92", "Hauts-de-Seine", _IDF),
    Departement("93", "Seine-Saint-Denis", _IDF),
    Departement("94", "Val-de-Marne", _IDF),
    Departement("95", "Val-d'Oise", _IDF),
    # Single-département overseas regions carry their own name as region.
    Departement("971", "Guadeloupe", "Guadeloupe"),
    Departement("972", "Martinique", "Martinique"),
    Departement("973", "Guyane", "Guyane"),
    Departement("974", "La Réunion", "La Réunion"),
    # Not départements, but France Services and social-security bodies work there, so
    # aidants must be able to address them.
    Departement("975", "Saint-Pierre-et-Miquelon", _COM, collectivite=True),
    Departement("976", "Mayotte", "Mayotte"),
    Departement("977", "Saint-Barthélemy", _COM, collectivite=True),
    Departement("978", "Saint-Martin", _COM, collectivite=True),
)

ORGANISATIONS: tuple[Organisation, ...] = (
    # Partners: bodies whose instructeurs answer demandes.
    Organisation("caf", "CAF", "Caisse d'allocations familiales", "social", "partner"),
    Organisation("msa", "MSA", "Mutualité sociale agricole", "social", "partner"),
    Organisation("departement", "Département", "Conseil départemental", "social", "partner"),
    Organisation("cpam", "CPAM", "Caisse primaire d'assurance maladie", "sante", "partner"),
    # CGSS replace CPAM and CARSAT in Guadeloupe, Martinique, Guyane and La Réunion.
    Organisation("cgss", "CGSS", "Caisse générale de sécurité sociale", "sante", "partner"),
    Organisation(
        "mdph", "MDPH", "Maison départementale des personnes handicapées", "sante", "partner"
    ),
    Organisation("france-travail", "France Travail", "France Travail", "emploi", "partner"),
    Organisation(
        "bailleur-social", "Bailleur social", "Bailleur social (HLM)", "logement", "partner"
    ),
    Organisation(
        "adil",
        "ADIL",
        "Agence départementale d'information sur le logement",
        "logement",
        "partner",
    ),
    Organisation("anah", "ANAH", "Agence nationale de l'habitat", "logement", "partner"),
    Organisation(
        "cnav",
        "CNAV",
        "Caisse nationale d'assurance vieillesse (Assurance retraite)",
        "retraite",
        "partner",
    ),
    Organisation(
        "carsat",
        "CARSAT",
        "Caisse d'assurance retraite et de la santé au travail",
        "retraite",
        "partner",
    ),
    Organisation(
        "dgfip", "DGFIP", "Direction générale des finances publiques", "impots", "partner"
    ),
    Organisation(
        "ddfip",
        "DDFIP",
        "Direction départementale des finances publiques",
        "impots",
        "partner",
    ),
    # Aidants reach URSSAF about contributions owed, hence "money" rather than "work".
    Organisation(
        "urssaf",
        "URSSAF",
        "Union de recouvrement des cotisations de sécurité sociale et d'allocations familiales",
        "impots",
        "partner",
    ),
    Organisation(
        "banque-de-france",
        "Banque de France",
        "Banque de France (surendettement)",
        "impots",
        "partner",
    ),
    Organisation("prefecture", "Préfecture", "Préfecture", "papiers", "partner"),
    Organisation("sous-prefecture", "Sous-préfecture", "Sous-préfecture", "papiers", "partner"),
    Organisation(
        "ants",
        "ANTS",
        "Agence nationale des titres sécurisés (France Titres)",
        "papiers",
        "partner",
    ),
    Organisation(
        "ofpra",
        "OFPRA",
        "Office français de protection des réfugiés et apatrides",
        "papiers",
        "partner",
    ),
    # Helpers: structures whose aidants open demandes on behalf of usagers.
    Organisation("france-services", "France Services", "France Services", "autre", "helper"),
    Organisation("mairie", "Mairie", "Mairie", "autre", "helper"),
    Organisation("ccas", "CCAS", "Centre communal d'action sociale", "social", "helper"),
    Organisation("centre-social", "Centre social", "Centre social", "social", "helper"),
    Organisation(
        "defenseur-des-droits",
        "Défenseur des droits",
        "Délégué du Défenseur des droits",
        "autre",
        "helper",
    ),
    Organisation("hopital", "Hôpital", "Hôpital (service social)", "sante", "helper"),
    Organisation("mission-locale", "Mission locale", "Mission locale", "emploi", "helper"),
    Organisation("association", "Association", "Association", "autre", "helper"),
    # A catch-all that can be addressed, so it is a partner; aidants of unlisted
    # structures still work because roles come from accounts, not from the organisation.
    Organisation("autre", "Autre", "Autre organisme", "autre", "partner"),
)

USAGER_OPTIONAL_FIELDS: tuple[tuple[str, str], ...] = (
    ("nir", "Numéro de sécurité sociale (NIR)"),
    ("caf_id", "Identifiant CAF (numéro d'allocataire)"),
    ("numero_fiscal", "Numéro fiscal"),
    ("adresse", "Adresse"),
    ("telephone", "Téléphone"),
    ("numero_dossier", "Numéro de dossier"),
    ("nom_naissance", "Nom de naissance"),
    ("autre", "Autre information"),
)

# Spec §4.1. CGSS and DDFIP are the overseas / departmental faces of CPAM-CARSAT and
# DGFIP, so instructeurs there need the same identifiers to find the file.
REQUIRED_USAGER_FIELDS_BY_ORGANISATION: dict[str, tuple[str, ...]] = {
    "caf": ("caf_id", "nir"),
    "cpam": ("nir",),
    "msa": ("nir",),
    "cnav": ("nir",),
    "carsat": ("nir",),
    "cgss": ("nir",),
    "dgfip": ("numero_fiscal",),
    "ddfip": ("numero_fiscal",),
}

_CATEGORY_LABELS = dict(CATEGORIES)
_DEPARTEMENTS_BY_CODE = {d.code: d for d in DEPARTEMENTS}
_ORGANISATIONS_BY_CODE = {o.code: o for o in ORGANISATIONS}
_FIELD_ORDER = {code: index for index, (code, _label) in enumerate(USAGER_OPTIONAL_FIELDS)}

PARTNER_ORGANISATIONS: tuple[Organisation, ...] = tuple(
    o for o in ORGANISATIONS if o.kind == "partner"
)
HELPER_ORGANISATIONS: tuple[Organisation, ...] = tuple(
    o for o in ORGANISATIONS if o.kind == "helper"
)


def departement(code: str) -> Departement:
    """Return the département (or collectivité) with this code, e.g. "75" or "2a"."""
    try:
        return _DEPARTEMENTS_BY_CODE[code.strip().upper()]
    except KeyError:
        raise KeyError(f"Unknown département code: {code!r}") from None


def organisation(code: str) -> Organisation:
    """Return the organisation with this code, e.g. "caf"."""
    try:
        return _ORGANISATIONS_BY_CODE[code]
    except KeyError:
        raise KeyError(f"Unknown organisation code: {code!r}") from None


def category_label(code: str) -> str:
    """Return the French label of a category code."""
    try:
        return _CATEGORY_LABELS[code]
    except KeyError:
        raise KeyError(f"Unknown category code: {code!r}") from None


def usager_field_label(code: str) -> str:
    """Return the French label of an optional usager field."""
    for field_code, label in USAGER_OPTIONAL_FIELDS:
        if field_code == code:
            return label
    raise KeyError(f"Unknown usager field code: {code!r}")


def required_usager_fields(organisation_codes: Iterable[str]) -> list[str]:
    """Usager fields made mandatory by addressing these organisations, in form order."""
    required: set[str] = set()
    for code in organisation_codes:
        # An unknown code is a programming error, not something to silently ignore.
        organisation(code)
        required.update(REQUIRED_USAGER_FIELDS_BY_ORGANISATION.get(code, ()))
    return sorted(required, key=_FIELD_ORDER.__getitem__)
