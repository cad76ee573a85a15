"""Peak RSS of the upload type check on zip bombs disguised as .docx (issue 10, item 1).

Each measurement runs in a fresh Python process that imports the app, reads the bomb from a
file, runs one check and prints its peak resident set size (ru_maxrss) before and after.

    .venv/bin/python bench/upload_memory.py

"before" replays the former check (zipfile.read of the type manifest, whole); "after" is
app.domain.files.check_file. The 4 MB bomb (4 GB inflated, the most a plain zip entry
declares) is only given to "after": the former check would try to inflate all of it.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024

CHILD = r"""
import io, json, resource, sys, zipfile
def rss(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
from app.domain import files
from app.domain.validators import ValidationError
data = open(sys.argv[2], "rb").read()
before = rss()
if sys.argv[1] == "before":
    archive = zipfile.ZipFile(io.BytesIO(data))
    outcome = "inflated %d MB" % (len(archive.read("[Content_Types].xml")) // 2**20)
else:
    try:
        files.check_file("contrat.docx", data)
        outcome = "accepted"
    except ValidationError as exc:
        outcome = str(exc)
print(json.dumps({"rss_before_mb": before, "rss_peak_mb": rss(), "outcome": outcome}))
"""


def bomb(inflated_mib: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("[Content_Types].xml", "w", force_zip64=False) as entry:
            chunk = b"\0" * MIB
            for _ in range(inflated_mib):
                entry.write(chunk)
        archive.writestr("word/document.xml", b"<w/>")
    return buffer.getvalue()


def measure(mode: str, path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APLUS_ENV": "test", "APLUS_VAR_DIR": "/tmp"}
    env.setdefault("FILE_KEYS", "bench:" + "A" * 43 + "=")
    env.setdefault("SECRET_KEY", "bench")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        cases = [("512 MB", 512, ("before", "after")), ("2 GB", 2000, ("after",))]
        for label, inflated, modes in cases:
            path = Path(folder) / f"bomb-{inflated}.docx"
            path.write_bytes(bomb(inflated))
            size_kb = path.stat().st_size // 1024
            for mode in modes:
                result = measure(mode, path)
                print(
                    f"{mode:6} bomb {size_kb:>6} kB -> {label:>6}: RSS {result['rss_before_mb']}"
                    f" -> {result['rss_peak_mb']} MB peak; {result['outcome']}"
                )


if __name__ == "__main__":
    main()
