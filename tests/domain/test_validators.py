"""Table-driven tests of the pure form validators."""

import pytest

from app.domain.validators import (
    ValidationError,
    local_redirect_target,
    nir_key,
    normalize_email,
    normalize_french_phone,
    validate_caf_id,
    validate_nir,
    validate_numero_fiscal,
    validate_subject,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("agent@caf.fr", "agent@caf.fr"),
        ("  Prenom.NOM@CAF.fr ", "prenom.nom@caf.fr"),
        ("france.services+test@mairie-argenteuil.fr", "france.services+test@mairie-argenteuil.fr"),
        ("a@b.gouv.fr", "a@b.gouv.fr"),
    ],
)
def test_normalize_email_valid(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        "agent",
        "agent@caf",
        "agent@@caf.fr",
        "a@b@caf.fr",
        "@caf.fr",
        "agent@.fr",
        "agent@caf..fr",
        "agent@-caf.fr",
        "pre nom@caf.fr",
        "agent@caf.fr\nBcc: x@evil.com",
        '"agent"@caf.fr',
        "a<b@caf.fr",
        "a" * 250 + "@caf.fr",
    ],
)
def test_normalize_email_invalid(raw):
    with pytest.raises(ValidationError):
        normalize_email(raw)


def test_validation_error_is_a_value_error_with_french_message():
    with pytest.raises(ValueError, match="adresse e-mail n'est pas valide"):
        normalize_email("agent@caf")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("0612345678", "06 12 34 56 78"),
        ("+33 6 12 34 56 78", "06 12 34 56 78"),
        ("+33612345678", "06 12 34 56 78"),
        ("06.12.34.56.78", "06 12 34 56 78"),
        ("06-12-34-56-78", "06 12 34 56 78"),
        ("0033 1 23 45 67 89", "01 23 45 67 89"),
        ("+33 (0)1 23 45 67 89", "01 23 45 67 89"),
        ("01\u00a023\u00a045\u00a067\u00a089", "01 23 45 67 89"),
        ("0262 12 34 56", "02 62 12 34 56"),
        ("+262 262 12 34 56", "02 62 12 34 56"),
        ("+262 692 12 34 56", "06 92 12 34 56"),
        ("+262 639 12 34 56", "06 39 12 34 56"),
        ("+590 690 12 34 56", "06 90 12 34 56"),
        ("+594 594 12 34 56", "05 94 12 34 56"),
        ("+596 696 12 34 56", "06 96 12 34 56"),
        ("+508 41 23 45", "+508 41 23 45"),
    ],
)
def test_normalize_french_phone_valid(raw, expected):
    assert normalize_french_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        "06 12 34 56",
        "06 12 34 56 78 9",
        "00 12 34 56 78",
        "6 12 34 56 78",
        "+33 06 12 34 56 78",
        "+44 20 7946 0958",
        "+269 321 23 45",
        "06 12 34 56 7a",
        "+33 6 12 34 56 7a",
    ],
)
def test_normalize_french_phone_invalid(raw):
    with pytest.raises(ValidationError, match=r"exemple : 06 12 34 56 78"):
        normalize_french_phone(raw)


def test_nir_key_examples():
    # Computed by hand: 97 - (1850578006084 mod 97) = 97 - 6.
    assert nir_key("1850578006084") == 91
    # Corsica: 2A counts as 19 and 2B as 18 in the computation.
    assert nir_key("176022A004012") == 97 - 1760219004012 % 97 == 75
    assert nir_key("289122B123456") == 97 - 2891218123456 % 97 == 23


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("185057800608491", "185057800608491"),
        ("1 85 05 78 006 084 91", "185057800608491"),
        ("  2 69 02 99 341 732 85 ", "269029934173285"),
        ("1 76 02 2A 004 012 75", "176022A00401275"),
        ("1 76 02 2a 004 012 75", "176022A00401275"),
        ("2 89 12 2B 123 456 23", "289122B12345623"),
        ("7 85 01 20 123 456 30", "785012012345630"),
        ("2 55 30 99 341 732 55", "255309934173255"),
    ],
)
def test_validate_nir_valid(raw, expected):
    assert validate_nir(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "obligatoire"),
        ("1 85 05 78 006 084", "15 caractères"),
        ("1 85 05 78 006 084 911", "15 caractères"),
        ("1 85 05 78 006 084 90", "La clé du numéro de sécurité sociale ne correspond pas"),
        ("1 85 05 78 006 085 91", "La clé du numéro de sécurité sociale ne correspond pas"),
        # Same digits as the valid Corsican NIR but without the 2A substitution's key.
        ("1 76 02 2B 004 012 75", "La clé du numéro de sécurité sociale ne correspond pas"),
        ("1 85 05 78 0O6 084 91", "que des chiffres"),
        ("1 85 05 2C 006 084 91", "que des chiffres"),
        ("5 85 05 78 006 084 91", "doit commencer par 1 ou 2"),
        ("1 85 00 78 006 084 91", "mois de naissance"),
        ("1 85 13 78 006 084 91", "mois de naissance"),
        ("1 85 45 78 006 084 91", "mois de naissance"),
    ],
)
def test_validate_nir_invalid(raw, message):
    with pytest.raises(ValidationError, match=message):
        validate_nir(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234567890123", "1234567890123"),
        ("01 23 456 789 012", "0123456789012"),
        ("3 000 000 000 000", "3000000000000"),
    ],
)
def test_validate_numero_fiscal_valid(raw, expected):
    assert validate_numero_fiscal(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "obligatoire"),
        ("123456789012", "13 chiffres"),
        ("12345678901234", "13 chiffres"),
        ("12345678901a3", "13 chiffres"),
        ("4234567890123", "0, 1, 2 ou 3"),
        ("9234567890123", "0, 1, 2 ou 3"),
    ],
)
def test_validate_numero_fiscal_invalid(raw, message):
    with pytest.raises(ValidationError, match=message):
        validate_numero_fiscal(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234567", "1234567"),
        ("0123456", "0123456"),
        ("12 345 678", "12345678"),
        ("00123456", "00123456"),
    ],
)
def test_validate_caf_id_valid(raw, expected):
    assert validate_caf_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "123456", "123456789", "12345a7", "1234-567"])
def test_validate_caf_id_invalid(raw):
    with pytest.raises(ValidationError):
        validate_caf_id(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  RSA suspendu depuis mars ", "RSA suspendu depuis mars"),
        ("Dossier\nperdu  entre deux caisses", "Dossier perdu entre deux caisses"),
        ("x" * 150, "x" * 150),
    ],
)
def test_validate_subject_valid(raw, expected):
    assert validate_subject(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [("", "obligatoire"), ("   \n ", "obligatoire"), (None, "obligatoire"), ("x" * 151, "150")],
)
def test_validate_subject_invalid(raw, message):
    with pytest.raises(ValidationError, match=message):
        validate_subject(raw)


@pytest.mark.parametrize(
    "target",
    ["/", "/demandes", "/demandes?x=1", "/demandes/42#reponse", "/groupes/3/membres?page=2"],
)
def test_local_redirect_target_accepts_local_paths(target):
    assert local_redirect_target(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.com",
        "///evil.com",
        "https://evil.com",
        "http:/evil.com",
        "/\\evil.com",
        "/demandes\\..\\evil",
        "\\\\evil.com",
        "javascript:alert(1)",
        "demandes",
        "/\t/evil.com",
        "/demandes\r\nSet-Cookie: x=1",
        "/" + "a" * 3000,
    ],
)
def test_local_redirect_target_refuses_unsafe_targets(target):
    assert local_redirect_target(target) is None
