#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tls_identity
short_description: Make this host's TLS key and self-signed certificate, renew it, return its fingerprint
version_added: 0.2.0
description:
  - Makes a private key and a self-signed certificate on the host with C(openssl) where none is, where the
    certificate expires within O(renew_days), or where the key and the certificate do not belong together.
    The private key never leaves the host; only the certificate's fingerprint is returned.
  - The fingerprint is the one librelp's GnuTLS driver compares in C(tls.authMode="fingerprint"),
    C(SHA512:XX:XX:...), so friends can pin exactly this certificate without a certificate authority.
  - In check mode nothing is written; RV(fingerprint) is that of the certificate in place (empty if none).
author:
  - logswap.netconsole maintainers (@logswap)
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  key_path:
    description: Private key file (PEM, mode 0600, owned by root).
    type: path
    required: true
  cert_path:
    description: Certificate file (PEM, mode 0644).
    type: path
    required: true
  common_name:
    description: Subject common name of a new certificate (informative; peers pin the fingerprint, not the name).
    type: str
    required: true
  valid_days:
    description: Validity of a new certificate in days.
    type: int
    default: 825
  renew_days:
    description: Make a new certificate when the one in place has this many days or fewer left.
    type: int
    default: 60
requirements:
  - openssl (the command)
"""

EXAMPLES = r"""
- name: Make this host's RELP identity
  logswap.netconsole.tls_identity:
    key_path: /etc/logswap/relp-key.pem
    cert_path: /etc/logswap/relp-cert.pem
    common_name: "{{ inventory_hostname }}"
  register: identity

- name: Show what friends pin
  ansible.builtin.debug:
    msg: "{{ identity.fingerprint }}"
"""

RETURN = r"""
fingerprint:
  description: The certificate's fingerprint as librelp compares it; empty in check mode without a certificate.
  returned: always
  type: str
  sample: "SHA512:3A:..."
checksum:
  description:
    - The SHA-256 of the certificate file (what C(ansible.builtin.stat) gives as its checksum); empty without one.
    - rsyslog loads the certificate at start only, so the roles write it into their RELP drop-ins and a renewal
      restarts rsyslog.
  returned: always
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
not_after:
  description: End of the certificate's validity (UTC, ISO 8601); empty when unknown.
  returned: always
  type: str
  sample: "2029-03-04T05:06:07+00:00"
reason:
  description: Why a new key and certificate were (or in check mode would be) made; empty when none was needed.
  returned: always
  type: str
  sample: "the certificate expires on 2027-01-05, within 60 days"
"""

import hashlib
import os
import tempfile
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.tls_identity import (
    check_common_name,
    check_days,
    check_path,
    fingerprint,
    not_after,
    pem_to_der,
    renewal_reason,
)


def _run(module: AnsibleModule, args: list[str]) -> str:
    rc, out, err = module.run_command(args)
    if rc != 0:
        module.fail_json(msg=f"{' '.join(args[:3])} failed: {err.strip() or out.strip()}")
    return out


def _inspect(module: AnsibleModule, openssl: str, key: str, cert: str, renew_days: int) -> tuple[str | None, str]:
    """(reason to make a new identity or None, not_after) for what is in place."""
    if not os.path.exists(key) or not os.path.exists(cert):
        return "there is no key or certificate yet", ""
    rc, out, err = module.run_command([openssl, "x509", "-in", cert, "-noout", "-enddate"])
    if rc != 0:
        return f"the certificate cannot be read: {err.strip()}", ""
    try:
        expires = not_after(out)
    except ValueError as exc:
        return str(exc), ""
    cert_key = module.run_command([openssl, "x509", "-in", cert, "-noout", "-pubkey"])
    own_key = module.run_command([openssl, "pkey", "-in", key, "-pubout"])
    if cert_key[0] != 0 or own_key[0] != 0 or cert_key[1].strip() != own_key[1].strip():
        return "the key and the certificate do not belong together", expires.isoformat()
    return renewal_reason(expires, datetime.now(timezone.utc), renew_days), expires.isoformat()  # noqa: UP017


def _safe_directory(module: AnsibleModule, path: str) -> None:
    """The key's directory: made 0700 if missing; refused if someone but root could swap files in it."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    info = os.stat(directory)
    if info.st_uid != 0 or info.st_mode & 0o022:
        module.fail_json(
            msg=f"{directory}: the key's directory must belong to root and be writable by root only "
            f"(owner uid {info.st_uid}, mode {info.st_mode & 0o777:o}); choose another key_path or fix it"
        )


def _make(module: AnsibleModule, openssl: str, key: str, cert: str, name: str, days: int) -> None:
    """A new EC P-256 key and certificate, written to fresh files beside the old ones and renamed into place."""
    for path in (key, cert):
        _safe_directory(module, path)
    # mkstemp: a file nobody else made or can open, created 0600
    key_fd, new_key = tempfile.mkstemp(prefix=".relp-key-", dir=os.path.dirname(key))
    cert_fd, new_cert = tempfile.mkstemp(prefix=".relp-cert-", dir=os.path.dirname(cert))
    os.close(key_fd)
    os.close(cert_fd)
    try:
        _run(module, [openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", new_key])
        _run(module, [openssl, "req", "-new", "-x509", "-key", new_key, "-out", new_cert, "-days", str(days),
                      "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:FALSE",
                      "-addext", "extendedKeyUsage=serverAuth,clientAuth"])  # fmt: skip
        os.chmod(new_key, 0o600)
        os.chmod(new_cert, 0o644)
        os.replace(new_key, key)
        os.replace(new_cert, cert)
    finally:
        for leftover in (new_key, new_cert):
            if os.path.exists(leftover):
                os.unlink(leftover)


def _key_is_private(key: str) -> bool:
    info = os.stat(key)
    return info.st_uid == 0 and info.st_mode & 0o777 == 0o600


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "key_path": {"type": "path", "required": True},
            "cert_path": {"type": "path", "required": True},
            "common_name": {"type": "str", "required": True},
            "valid_days": {"type": "int", "default": 825},
            "renew_days": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )
    p = module.params
    try:
        key = check_path(p["key_path"], "key_path")
        cert = check_path(p["cert_path"], "cert_path")
        name = check_common_name(p["common_name"], "common_name")
        valid = check_days(p["valid_days"], "valid_days", 2, 3650)
        renew = check_days(p["renew_days"], "renew_days", 1, valid - 1)
        if key == cert:
            raise NetconsoleError(f"cert_path: {cert!r} is key_path too; give the certificate its own file")
    except NetconsoleError as exc:
        module.fail_json(msg=str(exc))
    openssl = module.get_bin_path("openssl", required=not module.check_mode)
    if openssl is None:  # check mode on a host the same run would install openssl on
        module.exit_json(changed=True, fingerprint="", checksum="", not_after="", reason="openssl is not installed yet")

    reason, expires = _inspect(module, openssl, key, cert, renew)
    if not reason and not _key_is_private(key):
        reason = "the key was readable by others than root"
        if not module.check_mode:
            os.chown(key, 0, 0)
            os.chmod(key, 0o600)
    elif reason and not module.check_mode:
        _make(module, openssl, key, cert, name, valid)
        expires = not_after(_run(module, [openssl, "x509", "-in", cert, "-noout", "-enddate"])).isoformat()
    current, checksum = "", ""
    if os.path.exists(cert):
        with open(cert, "rb") as handle:
            data = handle.read()
        checksum = hashlib.sha256(data).hexdigest()
        try:
            current = fingerprint(pem_to_der(data.decode("ascii")))
        except ValueError:
            current = ""
    module.exit_json(
        changed=bool(reason), fingerprint=current, checksum=checksum, not_after=expires, reason=reason or ""
    )


if __name__ == "__main__":
    main()
