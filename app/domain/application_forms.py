"""Reading and checking the demande creation form: values kept for re-display, French errors
per field, the files checked one by one (the forms of an open demande: answer_forms.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from app import formatting
from app.domain import applications, files, reference, validators
from app.domain.files import CheckedFile
from app.domain.validators import ValidationError
from app.formatting import today
from app.policies import Viewer

DESCRIPTION_MAX = 10_000
MESSAGE_MAX = 10_000
FREE_FIELD_MAX = 300
MANDAT_KINDS = (
    ("paper", "Mandat papier signé par l'usager"),
    ("sms", "Accord de l'usager par SMS"),
    ("phone", "Accord de l'usager par téléphone"),
)
USEFULNESS = (
    ("oui", "Oui", "😊"),
    ("ne_sait_pas", "Je ne sais pas", "😐"),
    ("non", "Non", "☹"),
)
_FIELD_VALIDATORS = {
    "nir": validators.validate_nir,
    "caf_id": validators.validate_caf_id,
    "numero_fiscal": validators.validate_numero_fiscal,
    "telephone": validators.normalize_french_phone,
}
# The hint of every signature field (applications/_macros.html: signature).
SHARED_ACCOUNT_SIGNATURE = (
    "Ce compte est partagé : signez avec vos prénom, nom et service."
    " La signature est reprise pour vos prochains messages."
)
_DATE_FR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getall(self, key: str, default: Any = ...) -> list[Any]: ...


@dataclass
class Checked:
    """What a form said: raw values to show again, errors per field, cleaned values."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    cleaned: dict[str, Any] = field(default_factory=dict)
    # Files that passed check_file, saved with the change.
    files: list[CheckedFile] = field(default_factory=list)
    # The form used an option it never offers this viewer: refused whole (403), not shown again.
    forged: bool = False

    @property
    def form(self) -> dict[str, Any]:
        """Values and errors, as the page's form shows them again."""
        return {"values": self.values, "errors": self.errors}

    @property
    def ok(self) -> bool:
        return not self.errors


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def uuids(form: FormData, name: str) -> list[UUID]:
    """Ticked ids; anything that is not a UUID is dropped (it cannot match a real row)."""
    return list(dict.fromkeys(validators.uuids(form.getall(name, []))))


def parse_date(raw: str, *, label: str) -> date:
    """ISO dates from date inputs; "jj/mm/aaaa" from browsers without a date picker."""
    match = _DATE_FR.match(raw)
    try:
        if match:
            day, month, year = (int(x) for x in match.groups())
            return date(year, month, day)
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{label} n'est pas une date valide (format jj/mm/aaaa).") from None


def check_usager_field(code: str, raw: str) -> str:
    validate = _FIELD_VALIDATORS.get(code)
    if validate is not None:
        return validate(raw)
    value = " ".join(raw.split())
    if len(value) > FREE_FIELD_MAX:
        raise ValidationError(f"Ce champ ne doit pas dépasser {FREE_FIELD_MAX} caractères.")
    return value


def signature_error(signature: str, *, is_collective: bool) -> str | None:
    """Shared accounts sign each message; the signature is checked before anything is saved
    (it is remembered for the session after the commit)."""
    if is_collective and not signature:
        return "Indiquez votre signature."
    try:
        validators.check_signature(signature)
    except ValidationError as exc:
        return str(exc)
    return None


def check_new_application(
    form: FormData,
    *,
    picker_groups: list[dict],
    creator_group_ids: list[UUID],
    colleague_ids: set[UUID],
    is_collective: bool,
) -> Checked:
    """Spec §4.1, every field; errors are keyed by the field's name."""
    c = Checked()
    v, errors, cleaned = c.values, c.errors, c.cleaned

    v["area"] = text(form, "area")
    try:
        cleaned["area"] = reference.departement(v["area"]).code
    except KeyError:
        errors["area"] = "Choisissez le territoire de l'usager."

    v["creator_group"] = text(form, "creator_group")
    cleaned["creator_group"] = None
    if creator_group_ids:
        chosen = next((g for g in creator_group_ids if str(g) == v["creator_group"]), None)
        if chosen is None and len(creator_group_ids) == 1:
            chosen = creator_group_ids[0]
        if chosen is None:
            errors["creator_group"] = "Choisissez votre structure."
        cleaned["creator_group"] = chosen

    v["category"] = text(form, "category")
    v["groups"] = [str(g) for g in uuids(form, "groups")]
    addressable = {g["id"]: g for g in picker_groups}
    ticked = [addressable[g] for g in uuids(form, "groups") if g in addressable]
    cleaned["groups"] = [g["id"] for g in ticked]
    if not ticked:
        errors["groups"] = "Cochez au moins un organisme de ce territoire."

    v["subject"] = form.get("subject") or ""
    try:
        cleaned["subject"] = validators.validate_subject(v["subject"])
    except ValidationError as exc:
        errors["subject"] = str(exc)

    for name, label in (
        ("usager_first_name", "Le prénom de l'usager"),
        ("usager_last_name", "Le nom de l'usager"),
    ):
        v[name] = text(form, name)
        cleaned[name] = " ".join(v[name].split())
        if not cleaned[name]:
            errors[name] = f"{label} est obligatoire."
        elif len(cleaned[name]) > 100:
            errors[name] = f"{label} ne doit pas dépasser 100 caractères."

    v["usager_birth_date"] = text(form, "usager_birth_date")
    if not v["usager_birth_date"]:
        errors["usager_birth_date"] = "La date de naissance de l'usager est obligatoire."
    else:
        try:
            birth = parse_date(v["usager_birth_date"], label="La date de naissance")
            if birth > today() or birth.year < 1900:
                raise ValidationError("La date de naissance n'est pas plausible.")
            cleaned["usager_birth_date"] = birth
        except ValidationError as exc:
            errors["usager_birth_date"] = str(exc)

    # Which ticked organisations demand each field, to say why it is required.
    required_by: dict[str, set[str]] = {}
    for group in ticked:
        for code in reference.required_usager_fields(
            [group["organisation"]] if group["organisation"] else []
        ):
            required_by.setdefault(code, set()).add(group["organisation_name"])
    cleaned["usager_fields"] = []
    for code, label in reference.USAGER_OPTIONAL_FIELDS:
        name = f"field_{code}"
        v[name] = text(form, name)
        if not v[name]:
            if code in required_by:
                organisations = ", ".join(sorted(required_by[code]))
                errors[name] = f"{label} : obligatoire pour {organisations}."
            continue
        try:
            value = check_usager_field(code, v[name])
            cleaned["usager_fields"].append({"code": code, "value": value})
        except ValidationError as exc:
            errors[name] = str(exc)

    v["mandat_kind"] = text(form, "mandat_kind")
    if v["mandat_kind"] not in dict(MANDAT_KINDS):
        errors["mandat_kind"] = "Indiquez comment l'usager a donné son autorisation."
    cleaned["mandat_kind"] = v["mandat_kind"]
    v["mandat_date"] = text(form, "mandat_date")
    try:
        obtained = parse_date(v["mandat_date"], label="La date de l'autorisation")
        if obtained > today():
            raise ValidationError("La date de l'autorisation ne peut pas être dans le futur.")
        cleaned["mandat_date"] = obtained
    except ValidationError as exc:
        errors["mandat_date"] = str(exc)

    v["description"] = form.get("description") or ""
    cleaned["description"] = v["description"].strip()
    if not cleaned["description"]:
        errors["description"] = "Décrivez la situation de l'usager."
    elif len(cleaned["description"]) > DESCRIPTION_MAX:
        errors["description"] = f"La description ne doit pas dépasser {DESCRIPTION_MAX} caractères."

    v["colleagues"] = [str(u) for u in uuids(form, "colleagues")]
    cleaned["colleagues"] = [u for u in uuids(form, "colleagues") if u in colleague_ids]

    v["signature"] = text(form, "signature")
    cleaned["signature"] = v["signature"]
    if error := signature_error(v["signature"], is_collective=is_collective):
        errors["signature"] = error

    v["attestation"] = bool(form.get("attestation"))
    if not v["attestation"]:
        errors["attestation"] = "Cochez cette case pour attester avoir recueilli l'autorisation."

    v["creation_key"] = text(form, "creation_key")[:64]
    cleaned["creation_key"] = v["creation_key"] or None
    return c


# --- what the creation form needs beyond its fields -------------------------------------------


async def read_uploads(form: FormData, limit: int) -> list[tuple[str, bytes]]:
    """The posted files: at most one byte past the limit is read from each spooled upload,
    enough for check_file to refuse it as too big."""
    result = []
    for item in form.getall("files", []):
        if getattr(item, "filename", None) and hasattr(item, "read"):
            result.append((item.filename, await item.read(limit + 1)))
    return result


def check_files(uploads: list[tuple[str, bytes]], checked: Checked) -> None:
    """Each file checked on its own; the first refusal is the form's error."""
    for filename, data in uploads:
        try:
            checked.files.append(files.check_file(filename, data))
        except ValidationError as exc:
            checked.errors.setdefault("files", str(exc))


async def check_creation(form: FormData, viewer: Viewer, *, max_file_bytes: int) -> Checked:
    """The creation form against what the viewer may address: their groups, their colleagues,
    the organismes of the chosen territoire; then its files."""
    my_groups = await applications.groups_by_ids(viewer.group_ids)
    colleagues = await applications.colleagues_of(viewer.id, viewer.group_ids, helpers_only=True)
    picker = await applications.addressable_groups(text(form, "area"))
    checked = check_new_application(
        form,
        picker_groups=picker,
        creator_group_ids=[g["id"] for g in my_groups],
        colleague_ids={c["id"] for c in colleagues},
        is_collective=viewer.is_collective,
    )
    check_files(await read_uploads(form, max_file_bytes), checked)
    return checked


def raw_values(form: FormData) -> dict:
    """The typed values, to show the creation form again as it was."""
    values: dict[str, Any] = {}
    for name in form.keys():
        if name in ("groups", "colleagues"):
            values[name] = [str(v) for v in form.getall(name)]
        elif name not in ("files", "_csrf_token", "action"):
            value = form.get(name)
            values[name] = value if isinstance(value, str) else ""
    values["attestation"] = bool(form.get("attestation"))
    return values


def _lenient_date(raw: str) -> date | None:
    try:
        return formatting.parse_date(raw)
    except ValueError:
        return None


async def mandat_from_form(form: FormData, viewer: Viewer) -> dict:
    """What the printable mandat shows from the creation form as typed so far: nothing is
    checked (a draft), nothing is stored."""
    my_groups = await applications.groups_by_ids(viewer.group_ids)
    chosen = text(form, "creator_group")
    structure = next((g["name"] for g in my_groups if str(g["id"]) == chosen), "")
    if not structure and my_groups:
        structure = my_groups[0]["name"]
    picker = await applications.addressable_groups(text(form, "area"))
    ticked = {str(g) for g in uuids(form, "groups")}
    values = {
        "usager_first_name": text(form, "usager_first_name")[:100],
        "usager_last_name": text(form, "usager_last_name")[:100],
        "usager_birth_date": _lenient_date(text(form, "usager_birth_date")),
        "mandat_date": _lenient_date(text(form, "mandat_date")) or today(),
        "app_id": None,
    }
    return {
        "values": values,
        "groups": [g for g in picker if str(g["id"]) in ticked],
        "structure": structure,
    }
