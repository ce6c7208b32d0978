from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.tls_identity import (
    check_fingerprint,
    check_fingerprints,
    check_path,
    check_size,
    fingerprint,
    not_after,
    pem_to_der,
    renewal_reason,
)

NOW = datetime(2026, 11, 30, 5, 0, 0, tzinfo=UTC)


def test_fingerprint_is_what_openssl_prints_for_the_certificate(tmp_path):
    # openssl's own SHA512 fingerprint has the same form GnuTLS/librelp print (upper-case hex, colons).
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=t"],
        check=True, capture_output=True,
    )  # fmt: skip
    out = subprocess.run(
        ["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha512"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert fingerprint(pem_to_der(cert.read_text())) == "SHA512:" + out.strip().split("=", 1)[1]


def test_fingerprint_form():
    fp = fingerprint(b"x")
    assert fp.startswith("SHA512:" + hashlib.sha512(b"x").hexdigest()[:2].upper() + ":")
    assert len(fp.split(":")) == 65


def test_pem_without_certificate_is_refused():
    with pytest.raises(ValueError, match="no PEM"):
        pem_to_der("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_not_after_reads_openssl_output():
    assert not_after("notAfter=Mar  4 05:06:07 2029 GMT\n") == datetime(2029, 3, 4, 5, 6, 7, tzinfo=UTC)
    with pytest.raises(ValueError, match="end date"):
        not_after("notAfter=garbage")


@pytest.mark.parametrize(
    ("left", "renew"),
    [(timedelta(days=61), False), (timedelta(days=60), True), (timedelta(days=1), True), (timedelta(days=-1), True)],
)
def test_renewal_before_expiry(left, renew):
    assert (renewal_reason(NOW + left, NOW, 60) is not None) is renew


def test_fingerprints_checked_and_named():
    fp = fingerprint(b"a")
    assert check_fingerprints([fp.lower(), fp], "receiver_relp_peers") == [fp]
    with pytest.raises(NetconsoleError, match=r"receiver_relp_peers\[1\]: .*SHA512"):
        check_fingerprints([fp, "SHA1:AA:BB"], "receiver_relp_peers")
    with pytest.raises(NetconsoleError, match="x"):
        check_fingerprint(fp + '"\ninput(type="imtcp")', "x")


@pytest.mark.parametrize("bad", ["relative/path", "/etc/a b", '/etc/a"', "/etc/x/", "/etc/../shadow", "/a\n", 5])
def test_bad_paths_are_named(bad):
    with pytest.raises(NetconsoleError, match=r"^sender_relp_cert: "):
        check_path(bad, "sender_relp_cert")


def test_good_path():
    assert check_path("/etc/logswap/relp-cert.pem", "v") == "/etc/logswap/relp-cert.pem"


@pytest.mark.parametrize(
    ("value", "size"), [("1g", 1 << 30), ("512m", 512 << 20), (1048576, 1 << 20), ("2048k", 2 << 20)]
)
def test_sizes(value, size):
    assert check_size(value, "v") == size


@pytest.mark.parametrize("bad", ["1t", "-1g", "1.5g", "100k", True, "1g\n1", "1g\n", " 1g"])
def test_bad_sizes_are_named(bad):
    with pytest.raises(NetconsoleError, match=r"^sender_relp_queue_max_disk: "):
        check_size(bad, "sender_relp_queue_max_disk")
