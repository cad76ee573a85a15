"""CSV and XLSX exports: every cell is text a spreadsheet shows, never a formula it runs.

OWASP's CSV injection rule: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
return is read as a formula by Excel and LibreOffice (a user named `=HYPERLINK(…)` would become
a live link). Such cells get a leading apostrophe, which spreadsheets take as "text". The same
function serves both formats, so no export can forget it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value itself, or a text one spreadsheets never evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


def csv_writer(buffer: io.StringIO) -> Any:
    """Semicolons: what a French Excel opens correctly (the caller adds the UTF-8 BOM)."""
    return csv.writer(buffer, delimiter=";")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(safe_row(header))
    writer.writerows(safe_row(row) for row in rows)
    return "\ufeff" + buffer.getvalue()


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in (header, *rows):
        cells = safe_row(row)
        # XML cannot hold most control characters; openpyxl refuses them rather than escape.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in cells])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
