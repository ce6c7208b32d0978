"""tls_identity with the real openssl, as root: made once, kept, repaired, refused where it would be unsafe."""

from __future__ import annotations

import hashlib
import os
import subprocess

from logswap_testlib import run_module


def identity(directory, **extra) -> dict:
    args = {"key_path": str(directory / "key.pem"), "cert_path": str(directory / "cert.pem"), "common_name": "amy"}
    return run_module("tls_identity", {**args, **extra})


def openssl_fingerprint(cert) -> str:
    out = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha512"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "SHA512:" + out.strip().split("=", 1)[1]


def test_made_once_private_and_kept(tmp_path):
    home = tmp_path / "tls"
    made = identity(home)
    assert made["changed"] and made["fingerprint"] == openssl_fingerprint(home / "cert.pem")
    key = os.stat(home / "key.pem")
    assert (key.st_mode & 0o777, key.st_uid) == (0o600, 0)
    assert os.stat(home).st_mode & 0o777 == 0o700
    assert sorted(os.listdir(home)) == ["cert.pem", "key.pem"]  # no temporary file left behind
    again = identity(home)
    assert not again["changed"] and again["fingerprint"] == made["fingerprint"]
    # what the roles' RELP drop-ins carry, as a stat of the certificate gives it
    assert again["checksum"] == hashlib.sha256((home / "cert.pem").read_bytes()).hexdigest()


def test_a_key_readable_by_others_is_made_private_again_without_a_new_certificate(tmp_path):
    made = identity(tmp_path)
    os.chmod(tmp_path / "key.pem", 0o644)
    assert run_module(
        "tls_identity",
        {"key_path": str(tmp_path / "key.pem"), "cert_path": str(tmp_path / "cert.pem"), "common_name": "amy"},
        check_mode=True,
    )["changed"]
    assert os.stat(tmp_path / "key.pem").st_mode & 0o777 == 0o644  # check mode changed nothing
    fixed = identity(tmp_path)
    assert fixed["changed"] and fixed["reason"] == "the key was readable by others than root"
    assert os.stat(tmp_path / "key.pem").st_mode & 0o777 == 0o600
    assert fixed["fingerprint"] == made["fingerprint"]


def test_a_key_in_a_directory_others_may_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    refused = identity(shared)
    assert refused.get("failed") and "writable by root only" in refused["msg"], refused
    assert os.listdir(shared) == []


def test_one_file_for_key_and_certificate_is_refused(tmp_path):
    path = str(tmp_path / "both.pem")
    refused = run_module("tls_identity", {"key_path": path, "cert_path": path, "common_name": "amy"})
    assert refused.get("failed") and refused["msg"].startswith("cert_path: "), refused
