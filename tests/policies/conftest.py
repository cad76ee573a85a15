"""The access matrix reports its size at the end of every run, not only with `-s`."""

from __future__ import annotations

from support.access_matrix import SUMMARY


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.write_sep("-", "access matrix")
        for line in SUMMARY:
            terminalreporter.write_line(line)
