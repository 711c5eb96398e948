"""TLS material for the gateway: check a given certificate pair, or make a development one.

``ramparts up --tls-cert C --tls-key K`` serves HTTPS with the operator's
certificate; ``--tls self-signed`` makes (once, then reuses) an ECDSA P-256
certificate for localhost and the bind address under ``DATA_DIR/tls/``, with
the key file at mode 0600.  A self-signed certificate is for development:
clients must be told to trust it explicitly.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ramparts.config import Settings
from ramparts.errors import ConfigError
from ramparts.files import tighten, write_private

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_VALIDITY = dt.timedelta(days=90)
_RENEW_BEFORE = dt.timedelta(days=7)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_tls(host: str, *, tls: bool, insecure_http: bool = False) -> None:
    """Refuse a gateway on a non-loopback address without TLS, unless explicitly allowed."""
    if tls or insecure_http or is_loopback(host):
        return
    raise ConfigError(
        f"refusing to serve plain HTTP on non-loopback address {host}: use --tls-cert and "
        "--tls-key, --tls self-signed, or (not recommended) --insecure-http"
    )


def control_tls(settings: Settings) -> tuple[Path, Path] | None:
    """The certificate pair the control API serves with: none on loopback, else required.

    The control API takes the admin token, a bearer credential for everything
    the node does: off loopback it is served over HTTPS with the gateway's
    certificate, and never over plain HTTP (``--insecure-http`` does not lift
    this: it is for the gateway only).
    """
    if is_loopback(settings.admin_host):
        return None
    if settings.tls_cert is None or settings.tls_key is None:
        raise ConfigError(
            "refusing to serve the control API over plain HTTP on non-loopback address "
            f"{settings.admin_host}: keep --admin-host on loopback, or give --tls-cert and "
            "--tls-key or --tls self-signed (the control API then uses HTTPS too)"
        )
    return settings.tls_cert, settings.tls_key


def check_pair(cert: Path, key: Path) -> None:
    """Fail at start-up, with a clear message, on a missing or mismatched pair."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except FileNotFoundError as exc:
        raise ConfigError(f"TLS file not found: {exc.filename}") from None
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"cannot use {cert.name} / {key.name} as a TLS certificate and key: "
            f"{getattr(exc, 'reason', None) or exc.__class__.__name__}"
        ) from None


def _names(hosts: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for host in dict.fromkeys(["localhost", "127.0.0.1", "::1", *hosts]):
        if host in ("0.0.0.0", "::"):  # noqa: S104 - names, not a bind
            continue
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            out.append(x509.DNSName(host))
    return out


def _usable(cert_path: Path, hosts: list[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    if cert.not_valid_after_utc - dt.datetime.now(dt.UTC) < _RENEW_BEFORE:
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return all(name in san for name in _names(hosts))


def self_signed(data_dir: Path, hosts: list[str]) -> tuple[Path, Path]:
    """A development certificate for ``hosts`` (plus localhost), made or reused."""
    tls_dir = data_dir / "tls"
    tls_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert_path, key_path = tls_dir / "self-signed.crt", tls_dir / "self-signed.key"
    if cert_path.exists() and key_path.exists() and _usable(cert_path, hosts):
        tighten(cert_path)  # older versions wrote the certificate with the umask's mode
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ramparts development")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
