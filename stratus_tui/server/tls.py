"""A private certificate authority for HTTPS on loopback (the demo identity provider).

msal refuses authorities that are not https, so the local identity provider serves TLS on
127.0.0.1 with a certificate of its own small CA; clients trust that CA by its file. A CA
and a leaf rather than one self-signed certificate: OpenSSL refuses a self-signed leaf
(``CA:FALSE``) as a trust anchor in some versions.

The CA's private key is never written: once the leaf is signed nothing else can be, and a
certificate that no longer passes ``_still_valid`` is replaced by a new CA and leaf.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
LIFETIME = dt.timedelta(days=3650)
RENEW_BEFORE = dt.timedelta(days=30)  # replaced when it would expire within this
LOOPBACK_IP = ipaddress.IPv4Address("127.0.0.1")
LOOPBACK_NAME = "localhost"


def private_folder(folder: Path) -> Path:
    """Create ``folder`` (and parents) if needed; the folder itself ends up 0700."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and folder.stat().st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as a 0600 file, atomically (a reader never sees half)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def loopback_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """``(ca_cert, server_cert, server_key)`` in ``folder``, made once and then reused.

    The server certificate is for ``127.0.0.1`` and ``localhost``, valid ten years; files
    are 0600 in a 0700 folder. New files are made when any is missing, unreadable, about to
    expire or not signed by the CA next to it.
    """
    private_folder(folder)
    paths = (folder / CA_FILE, folder / CERT_FILE, folder / KEY_FILE)
    if not _still_valid(*paths):
        ca_pem, cert_pem, key_pem = _generate()
        # The key first and the CA last: a crash in between leaves a set _still_valid refuses.
        write_private(paths[2], key_pem)
        write_private(paths[1], cert_pem)
        write_private(paths[0], ca_pem)
    return paths


def _still_valid(ca_path: Path, cert_path: Path, key_path: Path) -> bool:
    try:
        ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    now = dt.datetime.now(dt.UTC)
    for certificate in (ca, cert):
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            return False
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return False
    try:
        cert.verify_directly_issued_by(ca)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    if LOOPBACK_IP not in names.get_values_for_type(x509.IPAddress):
        return False
    if LOOPBACK_NAME not in names.get_values_for_type(x509.DNSName):
        return False
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    return bool(
        key.public_key().public_bytes(encoding, public)
        == cert.public_key().public_bytes(encoding, public)
    )


def _generate() -> tuple[bytes, bytes, bytes]:
    """A new CA certificate, and a server certificate and key signed by it (EC P-256)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = now - dt.timedelta(days=1), now + LIFETIME  # a day back: clock skew
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "stratus-tui"),
            x509.NameAttribute(NameOID.COMMON_NAME, "stratus-tui loopback CA"),
        ]
    )
    ca_identifier = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_identifier, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK_NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(LOOPBACK_IP), x509.DNSName(LOOPBACK_NAME)]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_identifier),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(pem), cert.public_bytes(pem), key_pem
