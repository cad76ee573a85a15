"""The README and docs/architecture.md list every scheduled job with its true schedule."""

from support.testenv import ROOT

from app.jobs.worker import CRON_JOBS


def test_every_job_and_its_schedule_is_documented():
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for job in CRON_JOBS:
        name = job.function.__qualname__
        assert f"| `{name}` |" in readme, name
        row = next(line for line in architecture.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"`{job.cron}`" in row, (name, job.cron)
