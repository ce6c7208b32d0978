"""What a developer reads first holds: make help lists every target, the README links what exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_help_lists_every_target() -> None:
    targets = re.findall(r"^([a-z0-9][a-z0-9.-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE)
    shown = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    listed = re.findall(r"^make (\S+)", shown, re.MULTILINE)
    assert "check" in targets
    assert sorted(set(targets) - set(listed)) == []


def test_the_readme_links_every_doc_and_only_what_exists() -> None:
    links = re.findall(r"\]\(([^)#]+)\)", (ROOT / "README.md").read_text())
    assert [link for link in links if not link.startswith("http") and not (ROOT / link).exists()] == []
    docs = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")}
    assert sorted(docs - set(links)) == []


def test_changelog_fragments_are_named_by_topic() -> None:
    numbered = [path.name for path in (ROOT / "changelogs" / "fragments").iterdir() if path.name[0].isdigit()]
    assert numbered == []
