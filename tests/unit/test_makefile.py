"""make help lists every target of the Makefile, so a developer finds each one there."""

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
