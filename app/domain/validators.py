"""Pure validation and normalisation of form inputs, with French error messages."""

import re
from collections.abc import Iterable
from urllib.parse import urlsplit
from uuid import UUID


class ValidationError(ValueError):
    """An input is invalid; the message is shown to the user next to the field."""


# Users paste from PDFs and e-mails: non-breaking and narrow spaces are common.
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def _without_spaces(value: str | None) -> str:
    return _SPACES.sub("", value or "")


def _has_control_chars(value: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in value)


_EMAIL_MAX_LENGTH = 254
_EMAIL_INVALID = "L'adresse e-mail n'est pas valide (exemple : prenom.nom@caf.fr)."
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# Addresses end up in e-mail headers: characters with a meaning there are refused.
_LOCAL_FORBIDDEN = frozenset('<>()[]\\,;:"')


def normalize_email(value: str | None) -> str:
    """Return the e-mail address stripped and lowercased."""
    email = (value or "").strip().lower()
    if not email:
        raise ValidationError("L'adresse e-mail est obligatoire.")
    if len(email) > _EMAIL_MAX_LENGTH:
        raise ValidationError("L'adresse e-mail est trop longue (254 caractères au maximum).")
    if _SPACES.search(email) or _has_control_chars(email) or email.count("@") != 1:
        raise ValidationError(_EMAIL_INVALID)
    local, domain = email.split("@")
    labels = domain.split(".")
    if not local or _LOCAL_FORBIDDEN.intersection(local) or local.startswith("."):
        raise ValidationError(_EMAIL_INVALID)
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ValidationError(_EMAIL_INVALID)
    return email


_PHONE_INVALID = "Le numéro de téléphone n'est pas valide (exemple : 06 12 34 56 78)."
_PHONE_SEPARATORS = re.compile(r"[\s\u00a0\u202f.\-/()]+")
# Overseas departments share the French national plan (0262…, 0590…, 0692…), so their
# international prefix maps back to a 10-digit national number. Mayotte moved from +269
# (now the Comoros) to +262 in 2007.
_OVERSEAS_PREFIXES = ("262", "590", "594", "596")
# Saint-Pierre-et-Miquelon has its own 6-digit plan with no national "0" form.
_SPM_PREFIX = "508"


def _format_national(digits: str) -> str:
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def normalize_french_phone(value: str | None) -> str:
    """Return a French phone number as "06 12 34 56 78" (or "+508 41 23 45" for SPM)."""
    raw = (value or "").strip()
    # "+33 (0)6 12…" is a common way to write an international number.
    raw = raw.replace("(0)", "")
    compact = _PHONE_SEPARATORS.sub("", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]

    if compact.startswith("+"):
        international = compact[1:]
        if not international.isdigit():
            raise ValidationError(_PHONE_INVALID)
        if international.startswith(_SPM_PREFIX) and len(international) == 9:
            local = international[3:]
            return f"+{_SPM_PREFIX} {local[0:2]} {local[2:4]} {local[4:6]}"
        for prefix in ("33", *_OVERSEAS_PREFIXES):
            subscriber = international[len(prefix) :]
            if international.startswith(prefix) and len(subscriber) == 9 and subscriber[0] != "0":
                return _format_national("0" + subscriber)
        raise ValidationError(_PHONE_INVALID)

    if len(compact) == 10 and compact.isdigit() and compact[0] == "0" and compact[1] != "0":
        return _format_national(compact)
    raise ValidationError(_PHONE_INVALID)


_NIR_PATTERN = re.compile(r"^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}$")
_NIR_FIRST_DIGITS = frozenset("123478")
_NIR_KEY_MISMATCH = "La clé du numéro de sécurité sociale ne correspond pas : vérifiez le numéro."


def _nir_month_is_valid(month: int) -> bool:
    # INSEE uses 20 and 30-42 for unknown or partial birth months and 50+ for some
    # numbers assigned to people born abroad; 13-19 and 43-49 are never issued.
    return 1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99


def nir_key(first_13: str) -> int:
    """Return the 2-digit control key of the first 13 characters of a NIR."""
    # Corsica kept the old "20" in the key computation: 2A counts as 19, 2B as 18.
    numeric = first_13.upper().replace("2A", "19").replace("2B", "18")
    return 97 - int(numeric) % 97


def validate_nir(value: str | None) -> str:
    """Return the NIR as 15 characters without spaces, checking format and key."""
    nir = _without_spaces(value).upper()
    if not nir:
        raise ValidationError("Le numéro de sécurité sociale est obligatoire.")
    if len(nir) != 15:
        raise ValidationError(
            "Le numéro de sécurité sociale doit comporter 15 caractères "
            f"(13 chiffres et une clé de 2 chiffres) ; vous en avez saisi {len(nir)}."
        )
    if not _NIR_PATTERN.match(nir):
        raise ValidationError(
            "Le numéro de sécurité sociale ne doit contenir que des chiffres "
            "(ou 2A / 2B pour un usager né en Corse)."
        )
    if nir[0] not in _NIR_FIRST_DIGITS:
        raise ValidationError(
            "Le numéro de sécurité sociale doit commencer par 1 ou 2 "
            "(ou 3, 4, 7, 8 pour un numéro provisoire)."
        )
    if not _nir_month_is_valid(int(nir[3:5])):
        raise ValidationError(
            "Le mois de naissance (4e et 5e chiffres) du numéro de sécurité sociale "
            "n'est pas valide."
        )
    if nir_key(nir[:13]) != int(nir[13:]):
        raise ValidationError(_NIR_KEY_MISMATCH)
    return nir


def validate_numero_fiscal(value: str | None) -> str:
    """Return the 13-digit numéro fiscal without spaces."""
    numero = _without_spaces(value)
    if not numero:
        raise ValidationError("Le numéro fiscal est obligatoire.")
    if len(numero) != 13 or not numero.isdigit():
        raise ValidationError(
            "Le numéro fiscal doit comporter 13 chiffres (il figure en haut de l'avis d'impôt)."
        )
    if numero[0] not in "0123":
        raise ValidationError("Le numéro fiscal doit commencer par 0, 1, 2 ou 3.")
    return numero


def validate_caf_id(value: str | None) -> str:
    """Return the CAF allocataire number (7 or 8 digits) without spaces."""
    caf_id = _without_spaces(value)
    if not caf_id:
        raise ValidationError("L'identifiant CAF est obligatoire.")
    # Leading zeros are significant on CAF letters, so the digits are kept as typed.
    if not caf_id.isdigit() or len(caf_id) not in (7, 8):
        raise ValidationError(
            "L'identifiant CAF (numéro d'allocataire) doit comporter 7 ou 8 chiffres."
        )
    return caf_id


SUBJECT_MAX_LENGTH = 150


def validate_subject(value: str | None) -> str:
    """Return the subject on one line, stripped, at most 150 characters."""
    # The subject is shown in inbox rows and e-mail subjects, where newlines break layout.
    subject = " ".join((value or "").split())
    if not subject:
        raise ValidationError("Le sujet est obligatoire.")
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise ValidationError(
            f"Le sujet ne doit pas dépasser {SUBJECT_MAX_LENGTH} caractères "
            f"(actuellement {len(subject)})."
        )
    return subject


_REDIRECT_MAX_LENGTH = 2000


def local_redirect_target(value: str | None) -> str | None:
    """Return value if it is a safe same-site path to redirect to, else None."""
    if not value or len(value) > _REDIRECT_MAX_LENGTH:
        return None
    # Browsers drop tabs/newlines and read "\" as "/", so "/\t/evil.com" or "/\evil.com"
    # would become the protocol-relative "//evil.com": an open redirect.
    if _has_control_chars(value) or "\\" in value:
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


# Far beyond any real list, and (page - 1) * page size stays well inside PostgreSQL's bigint.
MAX_PAGE = 100_000


def page_number(raw: object) -> int:
    """A `page` query parameter: 1 when missing or not a number, at most MAX_PAGE (an empty
    page), never an OFFSET the database refuses."""
    try:
        number = int(str(raw or 1).strip())
    except ValueError:
        return 1
    return max(1, min(MAX_PAGE, number))


SIGNATURE_MAX = 300


def check_signature(value: str) -> str:
    """The signature of a shared account's message, as typed (the column holds 300)."""
    if len(value) > SIGNATURE_MAX:
        raise ValidationError(f"La signature ne doit pas dépasser {SIGNATURE_MAX} caractères.")
    return value


def uuids(raw: Iterable[object] | None) -> list[UUID]:
    """Ids from a form or a query string; anything malformed is dropped, not an error page
    (it cannot match a real row)."""
    result = []
    for value in raw or []:
        try:
            result.append(UUID(str(value)))
        except ValueError:
            continue
    return result
