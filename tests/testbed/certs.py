"""Throwaway TLS material for the test bed: a CA, a localhost server cert, an unrelated CA;
and flawed server certs (for the wrong host name, expired) under a CA of their own."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class CertFiles:
    """PEM file paths written by `make_certs`."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    other_ca_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(
    builder: x509.CertificateBuilder, *, expired: bool = False
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    if expired:  # valid for a month that ended yesterday
        return builder.not_valid_before(now - dt.timedelta(days=31)).not_valid_after(
            now - dt.timedelta(days=1)
        )
    return builder.not_valid_before(now - dt.timedelta(days=1)).not_valid_after(
        now + dt.timedelta(days=30)
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _make_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return key, _validity(builder).sign(key, hashes.SHA256())


def _make_server_cert(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    *,
    names: Sequence[str] = ("localhost", "127.0.0.1"),
    expired: bool = False,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([_general_name(name) for name in names])
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(san, critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    return key, _validity(builder, expired=expired).sign(ca_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def make_certs(directory: Path) -> CertFiles:
    """Write ca.pem, server.pem, server.key and other-ca.pem into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _make_ca("decliner test CA")
    server_key, server_cert = _make_server_cert(ca_key, ca_cert)
    _, other_ca_cert = _make_ca("decliner unrelated CA")
    files = CertFiles(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
        other_ca_file=directory / "other-ca.pem",
    )
    files.ca_file.write_bytes(_pem(ca_cert))
    files.cert_file.write_bytes(_pem(server_cert))
    _write_key(files.key_file, server_key)
    files.other_ca_file.write_bytes(_pem(other_ca_cert))
    return files


Flaw = Literal["wrong-host", "expired"]


@dataclass(frozen=True)
class FlawedCertFiles:
    """PEM file paths written by `make_flawed_certs`: trust `ca_file`, serve the rest."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_flawed_certs(directory: Path, flaw: Flaw) -> FlawedCertFiles:
    """A fresh CA and a server cert it signs that fails verification for one reason only:
    "wrong-host" names mail.example.net (not localhost or 127.0.0.1); "expired" names
    localhost and 127.0.0.1 but ended yesterday. Written as ca.pem, server.pem, server.key."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _make_ca(f"decliner test CA ({flaw})")
    if flaw == "wrong-host":
        server_key, server_cert = _make_server_cert(ca_key, ca_cert, names=("mail.example.net",))
    else:
        server_key, server_cert = _make_server_cert(ca_key, ca_cert, expired=True)
    files = FlawedCertFiles(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
    )
    files.ca_file.write_bytes(_pem(ca_cert))
    files.cert_file.write_bytes(_pem(server_cert))
    _write_key(files.key_file, server_key)
    return files
