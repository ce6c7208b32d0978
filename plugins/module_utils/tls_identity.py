# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's own TLS identity for the RELP channel: a self-signed certificate, pinned by fingerprint.

Pure logic (no files, no processes): the fingerprint in the form librelp compares, when a certificate is due
for renewal, and the checks of the RELP settings that reach rsyslog's configuration.

librelp (GnuTLS driver) computes the peer's fingerprint with the digest named before the first ``:`` of each
permitted peer and compares it as text: ``<GnuTLS digest name>:<upper-case hex bytes joined by :>``.
SHA512 is the strongest digest Debian 12's librelp 1.11 compares (its buffers hold 64-byte digests).
librelp's OpenSSL driver compares SHA1 only, so the role pins GnuTLS explicitly (``tls.tlslib="gnutls"``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime, timedelta, timezone

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError, as_int, as_list

DIGEST = "SHA512"
_FINGERPRINT = re.compile(r"SHA512(?::[0-9A-F]{2}){64}")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.S)
# What `openssl x509 -enddate -noout` prints: notAfter=Nov 30 05:00:00 2027 GMT
_ENDDATE = re.compile(r"notAfter=([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# An absolute path rsyslog can take inside a quoted string: no quotes, backslashes, spaces or control characters.
_PATH = re.compile(r"/[A-Za-z0-9._/+@-]*")
# A common name for the subject: letters, digits and the characters of host names.
_CN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def pem_to_der(pem: str) -> bytes:
    """The DER bytes of the first certificate in a PEM text."""
    match = _PEM.search(pem)
    if not match:
        raise ValueError("no PEM certificate found")
    try:
        return base64.b64decode("".join(match.group(1).split()), validate=True)
    except binascii.Error as err:
        raise ValueError(f"the PEM certificate is not valid base64: {err}") from err


def fingerprint(der: bytes) -> str:
    """The fingerprint librelp computes for a certificate, e.g. ``SHA512:AB:01:...``."""
    digest = hashlib.sha512(der).hexdigest().upper()
    return DIGEST + "".join(":" + digest[i : i + 2] for i in range(0, len(digest), 2))


def not_after(enddate: str) -> datetime:
    """Parse ``openssl x509 -enddate -noout`` output (UTC)."""
    match = _ENDDATE.search(enddate)
    if not match or match.group(1) not in _MONTHS:
        raise ValueError(f"cannot read the certificate's end date from {enddate.strip()!r}")
    month = _MONTHS.index(match.group(1)) + 1
    day, hour, minute, second, year = (int(match.group(i)) for i in (2, 3, 4, 5, 6))
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)  # noqa: UP017 - modules run on Python 3.9 (RHEL 9)


def renewal_reason(expires: datetime, now: datetime, renew_days: int) -> str | None:
    """Why the certificate must be made again now, or None while it has more than renew_days left."""
    if expires <= now:
        return f"the certificate expired on {expires:%Y-%m-%d}"
    if expires - now <= timedelta(days=renew_days):
        return f"the certificate expires on {expires:%Y-%m-%d}, within {renew_days} days"
    return None


def check_fingerprint(value: object, variable: str) -> str:
    """A pinned fingerprint exactly as librelp compares it (upper-case hex; lower case is accepted and raised)."""
    text = value.strip().upper() if isinstance(value, str) and "\n" not in value else None
    if text is None or not _FINGERPRINT.fullmatch(text):
        raise NetconsoleError(
            f"{variable}: {value!r} is not a SHA512 certificate fingerprint; give it as SHA512:XX:XX:... "
            "(64 bytes in hex), as logswap.netconsole.tls_identity returns it"
        )
    return text


def check_fingerprints(value: object, variable: str) -> list[str]:
    """A list of fingerprints, each checked, duplicates dropped, order kept."""
    seen: list[str] = []
    for index, item in enumerate(as_list(value, variable)):
        checked = check_fingerprint(item, f"{variable}[{index}]")
        if checked not in seen:
            seen.append(checked)
    return seen


def check_path(value: object, variable: str) -> str:
    """An absolute path that can go into rsyslog's configuration as it is."""
    if not isinstance(value, str) or not _PATH.fullmatch(value) or "/../" in value + "/" or value.endswith("/"):
        raise NetconsoleError(
            f"{variable}: {value!r} is not a usable absolute path; give one like /etc/logswap/relp.pem "
            "(letters, digits, . _ - + @ and /, no trailing /, no ..)"
        )
    return value


def check_common_name(value: object, variable: str) -> str:
    if not isinstance(value, str) or not _CN.fullmatch(value):
        raise NetconsoleError(
            f"{variable}: {value!r} is not a usable certificate name; give a host name (letters, digits, . _ -)"
        )
    return value


def check_size(value: object, variable: str) -> int:
    """A disk size in bytes, or with a k/m/g suffix (binary), at least 1 MiB."""
    text = str(value) if not isinstance(value, bool) else ""
    match = re.fullmatch(r"([0-9]+)([kKmMgG]?)", text)
    if not match:
        raise NetconsoleError(f"{variable}: {value!r} is not a size; give bytes or a number with k, m or g (1g)")
    number = int(match.group(1)) * 1024 ** " kmg".index(match.group(2).lower() or " ")
    if number < 1024 * 1024:
        raise NetconsoleError(f"{variable}: {value!r} is too small; give at least 1m")
    return number


def check_days(value: object, variable: str, minimum: int, maximum: int) -> int:
    return as_int(value, variable, minimum, maximum)
