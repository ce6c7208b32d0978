"""Fixtures for integration tests that need root: network namespaces and module runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"
MODULES = ROOT / "plugins" / "modules"


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: creates network namespaces, mounts and services")


def run_module(name: str, args: dict, netns: str | None = None, check_mode: bool = False) -> dict:
    """Run one of the collection's modules the way Ansible does (args file), in a namespace."""
    module_args = dict(args, _ansible_check_mode=check_mode)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": module_args}, handle)
    prefix = ["ip", "netns", "exec", netns] if netns else []
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    proc = subprocess.run(
        [*prefix, sys.executable, str(MODULES / f"{name}.py"), handle.name],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    os.unlink(handle.name)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"module {name} printed no JSON: {proc.stdout}\n{proc.stderr}") from None


@contextmanager
def loop_filesystem(tmp_path: Path, mkfs: list[str], options: str, size: str = "128M") -> Iterator[tuple[Path, Path]]:
    """A filesystem made by ``mkfs`` in an image file, loop-mounted with ``options``: (image, mount point)."""
    need_root()
    image, mnt = tmp_path / "fs.img", tmp_path / "mnt"
    mnt.mkdir()
    sh("truncate", "-s", size, str(image))
    sh(*mkfs, str(image))
    try:
        sh("mount", "-o", f"loop,{options}", str(image), str(mnt))
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"loop mounts unavailable here: {exc.stderr.strip()}")
    try:
        yield image, mnt
    finally:
        sh("umount", str(mnt), check=False)
