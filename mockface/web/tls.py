"""mockface's local certificate authority and the TLS settings built on it.

The CA (``mockface-ca.pem`` and its key ``mockface-ca-key.pem``, mode 0600) is made on first
use in a per-user data directory, or ``--ca-dir``, and never silently replaced: a directory
holding one of the two files without the other is an error to fix by hand.  Server
certificates are made in memory for each start, signed by the CA, for ``localhost``,
``127.0.0.1``, ``::1`` and the emulated hosts, and live for 30 days.

Made with ``cryptography`` (the library every Python TLS stack already depends on) rather
than ``trustme``, whose CA is throw-away by design: mockface's CA must persist, because
users install it in their trust stores.
"""
from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..products import REGISTRY

CA_DIR_ENV = "MOCKFACE_CA_DIR"
CA_CERT = "mockface-ca.pem"
CA_KEY = "mockface-ca-key.pem"
SERVER_NAMES = ("localhost", "127.0.0.1", "::1") + REGISTRY.hosts
_CA_YEARS = 10
_LEAF_DAYS = 30
#: Keys that can sign certificates (mockface makes EC ones; a CA put there by hand may differ).
_SIGNING_KEYS = (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey, dsa.DSAPrivateKey,
                 ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)
_SIGNING_PUBLIC_KEYS = (ec.EllipticCurvePublicKey, rsa.RSAPublicKey, dsa.DSAPublicKey,
                        ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)


class CAError(RuntimeError):
    """The CA directory cannot be used (half a CA, unreadable, not writable)."""


def default_ca_dir() -> Path:
    """``$MOCKFACE_CA_DIR``, else the per-user data directory (platformdirs)."""
    if os.environ.get(CA_DIR_ENV):
        return Path(os.environ[CA_DIR_ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir("mockface", appauthor=False))


class CertificateAuthority:
    """The local CA in ``directory``: loaded, or made when the directory has none."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_ca_dir()
        self.cert_path = self.directory / CA_CERT
        self.key_path = self.directory / CA_KEY
        self.created = False
        if not (self.cert_path.exists() and self.key_path.exists()):
            with _locked(self.directory):  # one process makes it; the others then load it
                has_cert, has_key = self.cert_path.exists(), self.key_path.exists()
                if has_cert != has_key:
                    present, missing = (self.cert_path, self.key_path) if has_cert else \
                        (self.key_path, self.cert_path)
                    raise CAError(f"{present} exists but {missing} does not; mockface never "
                                  f"replaces a CA silently: restore the file, or delete "
                                  f"{present} to make a new CA (and trust the new one)")
                if not has_cert:
                    self._create()
        try:
            self.cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
        except (OSError, ValueError) as error:
            raise CAError(f"cannot read the CA in {self.directory}: {error}") from None
        public = self.cert.public_key()
        if not isinstance(key, _SIGNING_KEYS) or not isinstance(public, _SIGNING_PUBLIC_KEYS):
            raise CAError(f"the CA in {self.directory} has a key of a kind that cannot sign "
                          f"certificates ({type(key).__name__})")
        self.key = key
        self.public_key = public

    def _create(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mockface"),
                          x509.NameAttribute(NameOID.COMMON_NAME,
                                             "mockface local CA (testing only)")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=365 * _CA_YEARS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False),
                    critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .sign(key, hashes.SHA256()))
        _write_private(self.key_path, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.created = True

    def issue(self, names: tuple[str, ...] = SERVER_NAMES) -> tuple[bytes, bytes]:
        """A server certificate for ``names`` (DNS names and IP addresses) signed by the CA,
        and its key: PEM bytes."""
        key = ec.generate_private_key(ec.SECP256R1())
        alternatives: list[x509.GeneralName] = []
        for name in names:
            try:
                alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alternatives.append(x509.DNSName(name))
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self.cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=_LEAF_DAYS))
                .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.public_key), critical=False)
                .sign(self.key, hashes.SHA256()))
        return (cert.public_bytes(serialization.Encoding.PEM),
                key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))

    def server_context(self, names: tuple[str, ...] = SERVER_NAMES) -> ssl.SSLContext:
        """A TLS server context presenting a fresh certificate for ``names``."""
        cert, key = self.issue(names)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory(prefix="mockface-tls-") as private:
            path = Path(private) / "server.pem"
            _write_private(path, cert + key)
            context.load_cert_chain(path)
        return context

    def write_bundle(self, path: str | os.PathLike[str]) -> Path:
        """The system's trusted certificates plus the mockface CA, in one PEM file (what
        ``REQUESTS_CA_BUNDLE`` needs: it replaces the system store rather than adding to
        it).  CAError when this system has no CA bundle file."""
        if system_bundle() is None:
            raise CAError("this system has no CA bundle file to extend (ssl reports none); "
                          "use the mockface CA alone: " + str(self.cert_path))
        return write_bundle(self.cert_path.read_bytes(), path)


def write_bundle(pem: bytes, path: str | os.PathLike[str]) -> Path:
    """Write the system's trusted certificates (when ssl knows a bundle file) followed by
    ``pem`` to ``path``."""
    system = system_bundle()
    base = system.read_bytes().rstrip(b"\n") + b"\n" if system else b""
    target = Path(path)
    target.write_bytes(base + pem)
    return target


def system_bundle() -> Path | None:
    """The system's CA bundle file, when ssl knows one."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (made if missing, mode 0700) while making a
    CA in it, so that concurrent first uses (pytest workers) agree on one CA."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(directory / ".lock", "a")
    except OSError as error:
        raise CAError(f"cannot use {directory}: {error.strerror or error}") from None
    with handle:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock, first use races are left to chance
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file only its owner may read (mode 0600 from the start)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
