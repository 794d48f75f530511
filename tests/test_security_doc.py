"""docs/security.md keeps its promise: every checklist item names tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "security.md"
# A row of the checklist table: | 6.3.1 | L1 | requirement | status | how | tests |
ROW = re.compile(r"^\|\s*(\d+\.\d+\.\d+)\s*\|(.*)\|\s*$")
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
STATUSES = ("Met", "Met, with a judgement")
CHECKLIST_SIZE = 33


def checklist() -> dict[str, str]:
    """Return the checklist rows of the document, by ASVS id."""
    rows: dict[str, str] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match.group(1) not in rows, f"{match.group(1)} is listed twice"
            rows[match.group(1)] = match.group(2)
    return rows


def defined_tests(path: Path) -> set[str]:
    return set(re.findall(r"^(?:async )?def (test_\w+)\(", path.read_text(), re.MULTILINE))


def test_the_checklist_has_all_its_items():
    assert len(checklist()) == CHECKLIST_SIZE


def test_every_item_has_a_status_and_names_tests_that_exist():
    for asvs_id, row in checklist().items():
        cells = [cell.strip() for cell in row.split("|")]
        assert cells[2] in STATUSES, f"{asvs_id}: status {cells[2]!r}"
        references = TEST_REFERENCE.findall(row)
        assert references, f"{asvs_id} names no test"
        for path, name in references:
            file = ROOT / path
            assert file.is_file(), f"{asvs_id}: {path} does not exist"
            assert name in defined_tests(file), f"{asvs_id}: {path} has no {name}"


def test_the_row_parser_finds_a_test_reference():
    """The check above is not one that cannot fail."""
    row = " L2 | text | Met | how | `tests/test_security_doc.py::test_missing_name` "
    ((path, name),) = TEST_REFERENCE.findall(row)
    assert name not in defined_tests(ROOT / path)
