"""Files: the allow-list reads the content, not the name; encryption at rest with key ids."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.domain import files
from app.domain.validators import ValidationError
from app.settings import get_settings


def office_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = office_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
XLSX = office_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<x/>"})
DOCM = office_zip(
    {
        "[Content_Types].xml": b"application/vnd.ms-word.document.macroEnabled.main+xml",
        "word/document.xml": b"<w/>",
        "word/vbaProject.bin": b"\x00",
    }
)
ODT = office_zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b""})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
        (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (ODT, "application/vnd.oasis.opendocument.text"),
        ("Nom;Montant\nDupont;12,50 €\n".encode(), "text/plain"),
        ("Relevé".encode("cp1252"), "text/plain"),
        (DOCM, None),
        (office_zip({"a.txt": b"x"}), None),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),
        (b"\x7fELF\x02\x01", None),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", None),
        (b"text with a \x00 nul", None),
    ],
)
def test_sniff_reads_the_content(data, expected):
    assert files.sniff(data) == expected


def test_name_does_not_decide_and_gets_a_fitting_extension():
    checked = files.check_file("../../etc/photo.exe", b"\x89PNG\r\n\x1a\n")
    assert checked.content_type == "image/png"
    assert checked.filename == "photo.exe.png"
    assert files.check_file("Relevé.PDF", b"%PDF-1.4").filename == "Relevé.pdf"
    assert files.check_file("page.html", b"<script>alert(1)</script>").filename == ("page.html.txt")
    with pytest.raises(ValidationError, match="n'est pas accepté"):
        files.check_file("facture.pdf", b"MZ\x90\x00")
    with pytest.raises(ValidationError, match="vide"):
        files.check_file("vide.txt", b"")


def test_size_limit():
    limit = get_settings().max_file_bytes
    with pytest.raises(ValidationError, match="dépasse la taille autorisée"):
        files.check_file("gros.pdf", b"%PDF-" + b"0" * limit)


def test_content_disposition_is_an_attachment_with_a_safe_name():
    header = files.content_disposition('Relevé "CAF"\r\n.pdf')
    assert header.startswith('attachment; filename="Releve _CAF___.pdf"')
    assert "filename*=UTF-8''Relev%C3%A9%20%22CAF%22%0D%0A.pdf" in header


async def test_stored_encrypted_and_read_back(db):
    from factories import make_application, make_group, make_user

    group = await make_group("caf")
    aidant = await make_user(helper_in=[group])
    application = await make_application(by=aidant, to=[group])
    secret = b"%PDF-1.4 donnees tres personnelles de l'usager"
    attachment = await files.store(
        files.check_file("avis.pdf", secret), application_id=application.id, uploader_id=aidant.id
    )
    raw = (get_settings().files_dir / str(attachment.id)).read_bytes()
    assert b"personnelles" not in raw
    assert attachment.key_id == get_settings().file_keys[0][0]
    assert files.read(attachment.id, attachment.key_id) == secret
    # A ciphertext moved under another row's name does not decrypt.
    other = get_settings().files_dir / "00000000-0000-0000-0000-000000000001"
    other.write_bytes(raw)
    from uuid import UUID

    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        files.read(UUID(other.name), attachment.key_id)
