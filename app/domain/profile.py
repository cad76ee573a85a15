"""A person's own account: the identity they give at first login (with the CGU) and later in
their profile, and how often they hear of their demandes."""

from __future__ import annotations

from typing import Any

from app import clock
from app.domain import audit
from app.domain.application_forms import FormData
from app.domain.validators import ValidationError, normalize_french_phone
from app.piccolo_conf import DB
from app.settings import get_settings
from app.tables import User

# How often a person hears of their demandes (the digest is sent by app/jobs/reminders.py).
FREQUENCIES = (
    (
        "each",
        "À chaque événement",
        "Un e-mail pour chaque nouvelle demande, message ou invitation.",
    ),
    (
        "daily",
        "Un récapitulatif quotidien",
        "Un seul e-mail chaque matin avec les liens des demandes où il s'est passé quelque"
        " chose, et aucun si rien ne s'est passé.",
    ),
)
PROFILE_FIELDS = ("first_name", "last_name", "qualite", "phone", "notification_frequency")


def check_identity(form: FormData, collective: bool) -> tuple[dict, dict]:
    """Validated identity fields (names, qualité, phone) and the French errors."""
    values = {
        k: str(form.get(k, "")).strip() for k in ("first_name", "last_name", "qualite", "phone")
    }
    errors = {}
    for name, label in (("first_name", "votre prénom"), ("last_name", "votre nom")):
        if not values[name]:
            errors[name] = f"Indiquez {label}."
        elif len(values[name]) > 100:
            errors[name] = "100 caractères au maximum."
    if not values["qualite"]:
        errors["qualite"] = "Indiquez votre qualité (par exemple : conseillère France Services)."
    elif len(values["qualite"]) > 150:
        errors["qualite"] = "150 caractères au maximum."
    if collective:
        values["phone"] = ""
    elif not values["phone"]:
        errors["phone"] = "Indiquez un numéro de téléphone professionnel."
    else:
        try:
            values["phone"] = normalize_french_phone(values["phone"])
        except ValidationError as exc:
            errors["phone"] = str(exc)
    return values, errors


def check_cgu(form: FormData, user: dict[str, Any]) -> tuple[dict, dict]:
    values, errors = check_identity(form, user["is_collective"])
    if form.get("accepte") != "oui":
        errors["accepte"] = "Vous devez accepter les conditions générales d'utilisation."
    return values, errors


def check_profile(form: FormData, user: dict[str, Any]) -> tuple[dict, dict]:
    values, errors = check_identity(form, user["is_collective"])
    # One radio is always checked; a form without it (an older page) keeps the setting.
    values["notification_frequency"] = str(
        form.get("notification_frequency") or user["notification_frequency"]
    )
    if values["notification_frequency"] not in {value for value, _, _ in FREQUENCIES}:
        errors["notification_frequency"] = "Choisissez quand recevoir les e-mails sur vos demandes."
    return values, errors


async def accept_cgu(user: dict[str, Any], values: dict, *, client_address: str) -> None:
    """The identity given and the current CGU accepted, recorded."""
    async with DB.transaction():
        await User.update(
            {
                User.first_name: values["first_name"],
                User.last_name: values["last_name"],
                User.qualite: values["qualite"],
                User.phone: values["phone"],
                User.cgu_version: get_settings().cgu_version,
                User.cgu_accepted_at: clock.now(),
            }
        ).where(User.id == user["id"])
        await audit.record(
            audit.Event.CGU_ACCEPTED, actor_id=user["id"], client_address=client_address
        )


async def save_profile(user: dict[str, Any], values: dict, *, client_address: str) -> None:
    """The changed fields saved; the audit line names them (never their values)."""
    changed = [name for name in PROFILE_FIELDS if values[name] != user[name]]
    async with DB.transaction():
        if changed:
            await User.update({getattr(User, name): values[name] for name in changed}).where(
                User.id == user["id"]
            )
        await audit.record(
            audit.Event.PROFILE_UPDATED,
            actor_id=user["id"],
            user_id=user["id"],
            client_address=client_address,
            changed_fields=changed,
        )
