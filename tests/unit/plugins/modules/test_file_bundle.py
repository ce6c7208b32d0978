"""file_bundle writes a set of files in one step: only what differs, atomically, truthful in check and diff mode."""

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.logswap.netconsole.plugins.modules import file_bundle


def run(capsys, args: dict, check_mode: bool = False, diff: bool = False) -> dict:
    with (
        patch_module_args({**args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}),
        pytest.raises(SystemExit),
    ):
        file_bundle.main()
    return json.loads(capsys.readouterr().out)


def test_first_run_writes_every_file_and_the_directory_second_run_changes_nothing(tmp_path, capsys):
    dest = tmp_path / "lib" / "logswap"
    files = {"a.py": "print('a')\n", "b.py": "x = 1\n"}
    predicted = run(capsys, {"dest": str(dest), "files": files}, check_mode=True)
    assert predicted["changed"] and predicted["changed_files"] == ["a.py", "b.py"]
    assert not dest.exists()  # check mode wrote nothing
    first = run(capsys, {"dest": str(dest), "files": files})
    assert first["changed"] and first["changed_files"] == ["a.py", "b.py"]
    assert (dest / "a.py").read_text() == "print('a')\n"
    assert stat.S_IMODE(os.stat(dest / "b.py").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o755
    again = run(capsys, {"dest": str(dest), "files": files}, check_mode=True)
    assert not again["changed"] and again["changed_files"] == []
    assert not run(capsys, {"dest": str(dest), "files": files})["changed"]
    assert sorted(os.listdir(dest)) == ["a.py", "b.py"]  # no temporary file left behind


def test_only_the_file_that_differs_is_written_and_diff_shows_it(tmp_path, capsys):
    (tmp_path / "a.py").write_text("old\n")
    (tmp_path / "b.py").write_text("same\n")
    (tmp_path / "mine.txt").write_text("not named: left alone\n")
    os.chmod(tmp_path / "b.py", 0o644)
    inode = os.stat(tmp_path / "b.py").st_ino
    result = run(capsys, {"dest": str(tmp_path), "files": {"a.py": "new\n", "b.py": "same\n"}}, diff=True)
    assert result["changed_files"] == ["a.py"]
    assert result["diff"] == [
        {
            "before_header": str(tmp_path / "a.py"),
            "after_header": str(tmp_path / "a.py"),
            "before": "old\n",
            "after": "new\n",
        }
    ]
    assert (tmp_path / "a.py").read_text() == "new\n"
    assert os.stat(tmp_path / "b.py").st_ino == inode
    assert (tmp_path / "mine.txt").read_text() == "not named: left alone\n"


def test_a_wrong_mode_alone_is_a_change(tmp_path, capsys):
    (tmp_path / "a.py").write_text("x\n")
    os.chmod(tmp_path / "a.py", 0o600)
    assert run(capsys, {"dest": str(tmp_path), "files": {"a.py": "x\n"}}, check_mode=True)["changed_files"] == ["a.py"]
    assert stat.S_IMODE(os.stat(tmp_path / "a.py").st_mode) == 0o600
    assert run(capsys, {"dest": str(tmp_path), "files": {"a.py": "x\n"}})["changed"]
    assert stat.S_IMODE(os.stat(tmp_path / "a.py").st_mode) == 0o644


@pytest.mark.parametrize("name", ["../evil.py", "sub/a.py", "..", ".", "", "a\nb"])
def test_a_name_that_is_not_a_plain_file_name_fails_before_anything_is_written(tmp_path, capsys, name):
    result = run(capsys, {"dest": str(tmp_path / "d"), "files": {"ok.py": "x", name: "y"}})
    assert result["failed"] and "is not a plain file name in dest" in result["msg"]
    assert not (tmp_path / "d").exists()


def test_a_bad_mode_fails_naming_the_option(tmp_path, capsys):
    result = run(capsys, {"dest": str(tmp_path), "files": {"a.py": "x"}, "mode": "u+rwx"})
    assert result["failed"] and result["msg"].startswith("mode: 'u+rwx' is not an octal mode")


def test_a_symlink_in_place_of_a_file_is_replaced_not_followed(tmp_path, capsys):
    secret = tmp_path / "secret"
    secret.write_text("do not show\n")
    os.chmod(secret, 0o600)
    dest = tmp_path / "lib"
    dest.mkdir(mode=0o755)
    (dest / "a.py").symlink_to(secret)
    result = run(capsys, {"dest": str(dest), "files": {"a.py": "x\n"}}, diff=True)
    assert result["changed_files"] == ["a.py"] and result["diff"][0]["before"] == ""
    assert not (dest / "a.py").is_symlink() and (dest / "a.py").read_text() == "x\n"
    assert secret.read_text() == "do not show\n" and stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert not run(capsys, {"dest": str(dest), "files": {"a.py": "x\n"}})["changed"]


def test_missing_parents_are_made_0755_and_a_writable_dest_is_refused(tmp_path, capsys):
    old = os.umask(0o077)
    try:
        run(capsys, {"dest": str(tmp_path / "a" / "b" / "c"), "files": {"x.py": "x\n"}})
    finally:
        os.umask(old)
    for path in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o755
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    result = run(capsys, {"dest": str(open_dir), "files": {"x.py": "x\n"}})
    assert result["failed"] and "writable by its group or others" in result["msg"]
    assert not (open_dir / "x.py").exists()
