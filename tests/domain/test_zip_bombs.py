"""Hostile zips: judged from the central directory, inflating at most INFLATE_BUDGET bytes.

The memory checks measure what the code path allocates (tracemalloc), not how long it takes.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import pytest

from app.domain import files
from app.domain.validators import ValidationError

MANIFEST = b'<?xml version="1.0"?><Types><Default Extension="xml" ContentType="text/xml"/></Types>'
MIB = 1024 * 1024
# What a check may allocate beyond the upload itself: the inflate budget and parser overhead.
MEMORY_BUDGET = files.INFLATE_BUDGET + 2 * MIB


def deflated_zip(entries: dict[str, tuple[int, bytes]]) -> bytes:
    """Each entry is (size, byte): written chunk by chunk, never whole in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, (size, content) in entries.items():
            if size == 0:
                archive.writestr(name, content)
                continue
            chunk = content * MIB
            with archive.open(name, "w", force_zip64=False) as entry:
                for _ in range(size // MIB):
                    entry.write(chunk)
    return buffer.getvalue()


def peak_memory_of(call) -> tuple[object, int]:
    tracemalloc.start()
    try:
        try:
            result = call()
        except ValidationError as exc:
            result = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize(
    "entries",
    [
        # The type manifest itself is the bomb: the entry the type check reads.
        {"[Content_Types].xml": (64 * MIB, b" "), "word/document.xml": (0, b"<w/>")},
        # The document is: left for the recipient's Office to inflate.
        {"[Content_Types].xml": (0, MANIFEST), "word/document.xml": (64 * MIB, b"\0")},
    ],
    ids=["manifest", "document"],
)
def test_a_zip_bomb_disguised_as_docx_is_refused_without_inflating_it(entries):
    bomb = deflated_zip(entries)
    assert len(bomb) < MIB  # 64 MB once inflated

    error, peak = peak_memory_of(lambda: files.check_file("contrat.docx", bomb))

    assert isinstance(error, ValidationError)
    assert str(error) == (
        "Le fichier « contrat.docx » n'est pas accepté : archive anormale "
        "(taux de compression anormal)."
    )
    assert peak < MEMORY_BUDGET


def test_the_manifest_is_inflated_within_the_budget_only():
    # Under the ratio floor, so only the inflate budget stops it.
    manifest = MANIFEST + b" " * (files.ZIP_RATIO_FLOOR_BYTES - len(MANIFEST))
    archive = deflated_zip(
        {"[Content_Types].xml": (0, manifest), "word/document.xml": (0, b"<w/>")}
    )

    error, peak = peak_memory_of(lambda: files.check_file("lettre.docx", archive))

    assert "fichier de description trop gros" in str(error)
    assert peak < MEMORY_BUDGET


def test_a_size_lying_in_the_central_directory_inflates_no_more_than_declared():
    archive = bytearray(
        deflated_zip({"[Content_Types].xml": (64 * MIB, b" "), "word/document.xml": (0, b"<w/>")})
    )
    # Claim 100 bytes for the 64 MB manifest in the central directory (what zipfile reads).
    end_record = archive.rfind(b"PK\x05\x06")
    (central,) = struct.unpack("<I", archive[end_record + 16 : end_record + 20])
    assert archive[central + 46 : central + 65] == b"[Content_Types].xml"
    archive[central + 24 : central + 28] = struct.pack("<I", 100)

    result, peak = peak_memory_of(lambda: files.sniff(bytes(archive)))

    assert result is None  # the checksum of 100 inflated bytes fails: not a document
    assert peak < MEMORY_BUDGET


def test_too_many_entries_are_refused_from_the_end_record():
    archive = deflated_zip({f"x/{n}.xml": (0, b"") for n in range(files.ZIP_MAX_ENTRIES + 1)})
    with pytest.raises(ValidationError, match="trop de fichiers dans l'archive"):
        files.check_file("tableau.xlsx", archive)


def test_a_total_declared_size_over_the_cap_is_refused():
    count = files.ZIP_MAX_TOTAL_BYTES // MIB + 1
    entries = {"[Content_Types].xml": (0, MANIFEST)}
    entries.update({f"xl/worksheets/sheet{n}.xml": (0, b"<x/>") for n in range(count)})
    archive = bytearray(deflated_zip(entries))
    # Each sheet declares 1 MB in the central directory: at the ratio floor, not above it.
    end_record = archive.rfind(b"PK\x05\x06")
    (at,) = struct.unpack("<I", archive[end_record + 16 : end_record + 20])
    while archive[at : at + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack(
            "<HHH", archive[at + 28 : at + 34]
        )
        if archive[at + 46 : at + 46 + name_length].startswith(b"xl/"):
            archive[at + 24 : at + 28] = struct.pack("<I", MIB)
        at += 46 + name_length + extra_length + comment_length
    with pytest.raises(ValidationError, match="taille décompressée excessive"):
        files.check_file("tableau.xlsx", bytes(archive))


def test_ordinary_compressed_office_files_still_pass():
    docx = deflated_zip(
        {
            "[Content_Types].xml": (0, MANIFEST),
            "word/document.xml": (0, b"<w:document>" + b"<w:p>Bonjour</w:p>" * 5000 + b"</w>"),
        }
    )
    assert files.check_file("lettre.docx", docx).content_type == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
