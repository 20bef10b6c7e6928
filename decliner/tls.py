"""The one TLS policy for IMAP and SMTP: verify against the system store plus `ca_file`."""

from __future__ import annotations

import ssl
from pathlib import Path

from decliner.errors import TLSFailure


def client_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """A verifying client context; certificates and host names are always checked."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise TLSFailure(f"ca_file {ca_file}: cannot load certificates: {exc}") from None
    return context


def describe(exc: ssl.SSLError) -> str:
    """A short, human reason for a TLS failure (e.g. `certificate verify failed: ...`)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verification failed: {exc.verify_message}"
    return exc.reason or str(exc)
