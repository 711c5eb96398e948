"""What a worker needs so that ``boto3.client("s3")`` works with no configuration.

Each new execution environment (a zygote and the workers it forks) gets:

- ``AWS_ENDPOINT_URL``: the node's gateway as seen from inside the sandbox
  (``http://127.0.0.1:PORT``; the sandbox's node forwarder relays it, see
  docs/runtime-protection.md), ``https://`` when the gateway serves TLS;
- ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` = ``<endpoint>/_ramparts/aws/credentials``
  and ``AWS_CONTAINER_AUTHORIZATION_TOKEN`` = a fresh ``rpct_`` token of this
  version (sent to the zygote like a secret variable, never on a command line);
- ``AWS_CONFIG_FILE``: a read-only file that makes S3 clients sign SigV4 and
  use path-style addressing, so unchanged presign code builds URLs the node serves;
- ``AWS_EC2_METADATA_DISABLED=true``: no instance-metadata probes.

**Credentials are never in the environment.**  botocore prefers
``AWS_ACCESS_KEY_ID`` over the container provider and would keep using an
expired key silently; with only the container provider set, botocore holds
refreshable credentials and fetches new ones before they expire (1 hour
lifetime, ``RAMPARTS_AWS_CREDENTIALS_TTL``), however long the worker lives.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from cryptography import x509

from ramparts.aws.credentials import CredentialAuthority
from ramparts.aws.endpoint import CREDENTIALS_PATH
from ramparts.tls import is_loopback

SANDBOX_DIR = "/var/runtime/aws"
SANDBOX_SDK = "/var/runtime/sdk"
# boto3 and what it imports: the node's own copies, shown read-only to handlers as
# Lambda's runtime ships them (after the function's own deps: a pinned copy wins)
SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
CONFIG = "[default]\ns3 =\n    signature_version = s3v4\n    addressing_style = path\n"


class AwsRuntime:
    """Builds each new zygote's AWS variables; writes the shared config file once."""

    def __init__(self, settings: Any, authority: CredentialAuthority, sandbox: Any) -> None:
        self._authority = authority
        tls = bool(settings.tls_cert)
        host = (
            "127.0.0.1"
            if sandbox is not None or _wildcard_or_loopback(settings.host)
            else (settings.host)
        )
        self.endpoint = f"{'https' if tls else 'http'}://{_bracket(host)}:{settings.port}"
        # A read-only code tree like artifacts/ (0755 dirs, 0444 files): sandboxed workers
        # read it under their own uids; the 0700 data dir keeps everyone else out.
        top = Path(settings.data_dir) / "aws-runtime"
        top.mkdir(mode=0o700, exist_ok=True)
        directory = top / "shared"  # what is bound at /var/runtime/aws
        directory.mkdir(mode=0o755, exist_ok=True)
        directory.chmod(0o755)
        _write_read_only(directory / "config", CONFIG.encode())
        ca = directory / "ca.pem"
        self._ca = ""
        if tls and _self_signed(Path(settings.tls_cert)):
            # A development certificate is trusted by nobody: hand it to the SDK.
            _write_read_only(ca, Path(settings.tls_cert).read_bytes())
            self._ca = "ca.pem"
        elif ca.exists():
            ca.unlink()
        sources = _sdk_sources()
        if sandbox is not None:
            sandbox.shared_ro.append((str(directory), SANDBOX_DIR))
            for name, source in sources.items():
                sandbox.shared_ro.append((source, f"{SANDBOX_SDK}/{name}"))
            self._dir = SANDBOX_DIR
            self._sdk = SANDBOX_SDK
        else:
            self._dir = str(directory)
            self._sdk = str(_sdk_links(directory / "sdk", sources))

    def environment(self, spec: Any) -> tuple[dict[str, str], dict[str, str]]:
        """(plain variables, secret variables) of one new execution environment of ``spec``."""
        plain = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.endpoint + CREDENTIALS_PATH,
            "AWS_CONFIG_FILE": f"{self._dir}/config",
            "AWS_EC2_METADATA_DISABLED": "true",
            "RAMPARTS_SDK_PATH": self._sdk,  # the zygote puts it on sys.path, last
        }
        if self._ca:
            plain["AWS_CA_BUNDLE"] = f"{self._dir}/{self._ca}"
        token = self._authority.container_token(spec.app, spec.function, spec.version)
        return plain, {"AWS_CONTAINER_AUTHORIZATION_TOKEN": token}


def _wildcard_or_loopback(host: str) -> bool:
    return host in ("", "0.0.0.0", "::", "localhost") or is_loopback(host)  # noqa: S104


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _self_signed(path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.issuer == cert.subject


def _sdk_sources() -> dict[str, str]:
    """``{"boto3": "/.../site-packages/boto3", "six.py": ".../six.py", ...}`` as installed."""
    out: dict[str, str] = {}
    for name in SDK_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        origin = Path(spec.origin).resolve()
        if origin.name == "__init__.py":
            out[name] = str(origin.parent)
        else:
            out[origin.name] = str(origin)
    return out


def _sdk_links(directory: Path, sources: dict[str, str]) -> Path:
    """Without a sandbox: a directory of links to the node's SDK packages."""
    directory.mkdir(mode=0o755, exist_ok=True)
    for entry in directory.iterdir():
        if entry.is_symlink() and entry.name not in sources:
            entry.unlink()
    for name, source in sources.items():
        link = directory / name
        if link.is_symlink() and str(link.readlink()) == source:
            continue
        if link.is_symlink():
            link.unlink()
        link.symlink_to(source)
    return directory


def _write_read_only(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with a 0444 file holding ``data``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o444)
    os.replace(tmp, path)
