"""Attached files: checked on their content, encrypted at rest, read back for download.

Each file is stored as `FILES_DIR/<attachment id>`: a 12-byte nonce followed by the AES-GCM
ciphertext. The attachment id and key id are the associated data, so a file copied onto
another row's name fails to decrypt instead of being served under the wrong demande.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app import clock
from app.domain.validators import ValidationError
from app.settings import get_settings
from app.tables import Attachment

NONCE_BYTES = 12

# content type -> (extensions, the first being the one added when the name has none of them).
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/heic": (".heic", ".heif"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "text/plain": (".txt", ".csv"),
}
ACCEPTED_LABEL = (
    "PDF, images (JPEG, PNG, GIF, WEBP, HEIC), documents Word, Excel ou LibreOffice "
    "(DOCX, XLSX, ODT, ODS) et texte (TXT, CSV)"
)
# For the file input's `accept` attribute: a hint for the picker, never trusted.
ACCEPT_ATTRIBUTE = ",".join(ext for exts in ALLOWED_TYPES.values() for ext in exts)

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text",
    b"application/vnd.oasis.opendocument.spreadsheet",
}
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


# Office files are zips. They are judged from their central directory (names and declared
# sizes) without inflating them: a 500 kB zip can inflate to gigabytes. Only the few-kB type
# manifest is ever inflated, within INFLATE_BUDGET bytes; entries, compression ratio and total
# declared size are capped so no later reader (openpyxl, the recipient's Office) meets a bomb.
ZIP_MAX_ENTRIES = 2_000
ZIP_MAX_TOTAL_BYTES = 256 * 1024 * 1024
ZIP_MAX_RATIO = 200
# Below this size an entry's ratio says nothing (a kB of spaces compresses 500 times).
ZIP_RATIO_FLOOR_BYTES = 1024 * 1024
INFLATE_BUDGET = 256 * 1024
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP_COMMENT_MAX = 0xFFFF


class ArchiveRefused(ValueError):
    """A zip the service will not take, whatever it claims to be (the reason is French)."""


def _declared_entry_count(data: bytes) -> int:
    """Entries declared by the end-of-central-directory record, before parsing any of them:
    the parser's memory grows with the entry count."""
    tail_start = max(0, len(data) - _EOCD_SIZE - _ZIP_COMMENT_MAX)
    at = data.rfind(_EOCD, tail_start)
    if at < 0 or at + _EOCD_SIZE > len(data):
        raise zipfile.BadZipFile
    total = int.from_bytes(data[at + 10 : at + 12], "little")
    if total == 0xFFFF:
        # ZIP64: no office document of a few megabytes needs it.
        raise ArchiveRefused("archive au format ZIP64")
    return total


def _check_archive(archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if len(infos) > ZIP_MAX_ENTRIES:
        raise ArchiveRefused("trop de fichiers dans l'archive")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > ZIP_RATIO_FLOOR_BYTES and info.file_size > ZIP_MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise ArchiveRefused("taux de compression anormal")
    if total > ZIP_MAX_TOTAL_BYTES:
        raise ArchiveRefused("taille décompressée excessive")


def _read_small(archive: zipfile.ZipFile, name: str, budget: list[int]) -> bytes:
    """At most the remaining inflate budget of one entry; beyond it the file is refused.

    ZipExtFile inflates by bounded steps and stops at the declared size, so a lying size
    cannot make it produce more than asked.
    """
    with archive.open(name) as entry:
        data = entry.read(budget[0] + 1)
    budget[0] -= len(data)
    if budget[0] < 0:
        raise ArchiveRefused("fichier de description trop gros")
    return data


def _sniff_zip(data: bytes) -> str | None:
    """Office Open XML and OpenDocument files are zips; tell them apart by their manifest."""
    budget = [INFLATE_BUDGET]
    try:
        if _declared_entry_count(data) > ZIP_MAX_ENTRIES:
            raise ArchiveRefused("trop de fichiers dans l'archive")
        archive = zipfile.ZipFile(io.BytesIO(data))
        _check_archive(archive)
        names = set(archive.namelist())
        if "mimetype" in names:
            mimetype = _read_small(archive, "mimetype", budget).strip()
            return mimetype.decode() if mimetype in _ODF_TYPES else None
        if "[Content_Types].xml" not in names:
            return None
        # Macros run code on the reader's machine: macro-enabled documents are refused.
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            return None
        manifest = _read_small(archive, "[Content_Types].xml", budget)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, EOFError, zlib.error):
        return None
    except NotImplementedError:  # compression methods zipfile does not know
        return None
    if b"macroEnabled" in manifest:
        return None
    if "word/document.xml" in names:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if "xl/workbook.xml" in names:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def _is_text(data: bytes) -> bool:
    if _TEXT_CONTROL.search(data):
        return False
    for encoding in ("utf-8", "cp1252"):
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def sniff(data: bytes) -> str | None:
    """The allowed content type these bytes really are, or None. The name is never trusted."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if data and _is_text(data):
        return "text/plain"
    return None


def clean_filename(name: str, content_type: str) -> str:
    """A displayable name without path or control characters, with an extension that fits."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    stem, dot, ext = name.rpartition(".")
    extensions = ALLOWED_TYPES[content_type]
    if not dot or f".{ext.lower()}" not in extensions:
        stem = name
        ext = extensions[0][1:]
    stem = (stem or "fichier")[:150]
    return f"{stem}.{ext.lower()}"


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes


def check_file(filename: str, data: bytes) -> CheckedFile:
    """Size and type checks, with the French message shown next to the file field."""
    shown = clean_filename(filename, "text/plain").rsplit(".", 1)[0] if filename else "fichier"
    limit = get_settings().max_file_bytes
    if len(data) > limit:
        raise ValidationError(
            f"Le fichier « {shown} » dépasse la taille autorisée "
            f"({limit // (1024 * 1024)} Mo par fichier)."
        )
    if not data:
        raise ValidationError(f"Le fichier « {shown} » est vide.")
    try:
        content_type = sniff(data)
    except ArchiveRefused as exc:
        raise ValidationError(
            f"Le fichier « {shown} » n'est pas accepté : archive anormale ({exc})."
        ) from None
    if content_type is None:
        raise ValidationError(
            f"Le type du fichier « {shown} » n'est pas accepté. Formats acceptés : "
            f"{ACCEPTED_LABEL}."
        )
    return CheckedFile(clean_filename(filename, content_type), content_type, data)


def _path(attachment_id: UUID) -> Path:
    return get_settings().files_dir / str(attachment_id)


def _aad(attachment_id: UUID, key_id: str) -> bytes:
    return f"{attachment_id}:{key_id}".encode()


async def store(
    checked: CheckedFile,
    *,
    application_id: UUID,
    uploader_id: UUID,
    answer_id: UUID | None = None,
) -> Attachment:
    """Encrypt the file with the current key, write it, and record its row."""
    key_id, key = get_settings().file_keys[0]
    attachment_id = uuid.uuid4()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, checked.data, _aad(attachment_id, key_id))
    path = _path(attachment_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(nonce + sealed)
    attachment = Attachment(
        id=attachment_id,
        application=application_id,
        answer=answer_id,
        uploader=uploader_id,
        filename=checked.filename,
        content_type=checked.content_type,
        size=len(checked.data),
        key_id=key_id,
        created_at=clock.now(),
    )
    await attachment.save()
    return attachment


def read(attachment_id: UUID, key_id: str) -> bytes:
    """Decrypt a stored file with the key that encrypted it."""
    keys = dict(get_settings().file_keys)
    raw = _path(attachment_id).read_bytes()
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    return AESGCM(keys[key_id]).decrypt(nonce, sealed, _aad(attachment_id, key_id))


def remove(attachment_id: UUID) -> None:
    """Erase a stored file (retention); a file already gone is not an error."""
    _path(attachment_id).unlink(missing_ok=True)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    ascii_name = (
        unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode() or "fichier"
    )
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
