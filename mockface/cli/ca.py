"""``mockface ca``: where the local CA is, and how to make clients trust it."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import CA_DIR_OPTION, CliError, write_atomically

if TYPE_CHECKING:
    from ..web.tls import CertificateAuthority


def _ca(ca_dir: str | None) -> CertificateAuthority:
    """The local CA (made when the directory has none), or a one-line CliError."""
    from ..web.tls import CAError, CertificateAuthority

    try:
        return CertificateAuthority(ca_dir)
    except CAError as error:
        raise CliError(str(error)) from None


def _bundle(ca: CertificateAuthority, path: str) -> Path:
    """Write the system bundle plus the CA to ``path``."""
    from ..web.tls import CAError

    try:
        return ca.write_bundle(path)
    except (CAError, OSError) as error:
        raise CliError(f"cannot write the CA bundle: {error}") from None


@click.command("ca", short_help="Print where the local CA is and how to trust it.")
@CA_DIR_OPTION
@click.option("--bundle", metavar="PATH", type=click.Path(dir_okay=False),
              help="Also write the system's CA bundle plus the mockface CA to PATH (for "
                   "REQUESTS_CA_BUNDLE, which replaces the system store).")
@click.option("--certifi", "into_certifi", is_flag=True,
              help="Also add the CA to this Python environment's certifi bundle, which "
                   "Tencent's API 3.0 Python SDK uses whatever REQUESTS_CA_BUNDLE says (once: "
                   "running it again changes nothing; upgrading certifi undoes it).")
def ca_command(ca_dir: str | None, bundle: str | None, into_certifi: bool) -> None:
    """Print the path of mockface's CA certificate (made on first use, kept afterwards) and
    the settings that make common clients trust it."""
    ca = _ca(ca_dir)
    cert = ca.cert_path
    if ca.created:
        click.echo(f"created a new CA in {ca.directory} (key file mode 0600)", err=True)
    if into_certifi:
        _trust_in_certifi(cert)
    click.echo(str(cert))
    lines = [
        "",
        "Trust it (it signs certificates for the emulated Tencent hosts, localhost, 127.0.0.1):",
        f"  Python requests:  REQUESTS_CA_BUNDLE={_bundle(ca, bundle) if bundle else 'BUNDLE'}"
        "   (a bundle: mockface ca --bundle BUNDLE)",
        "  OpenSSL, Python ssl, Go:  SSL_CERT_FILE=BUNDLE",
        "  Tencent API 3.0 Python SDK:  mockface ca --certifi   (or "
        "HttpProfile(certification=BUNDLE))",
        f"  Node.js:          NODE_EXTRA_CA_CERTS={cert}",
        f"  curl:             curl --cacert {cert} ...   (or CURL_CA_BUNDLE=BUNDLE)",
        f"  Java:             keytool -importcert -noprompt -alias mockface -file {cert} "
        "-keystore mockface.jks -storepass changeit",
        "                    then -Djavax.net.ssl.trustStore=mockface.jks "
        "-Djavax.net.ssl.trustStorePassword=changeit",
        f"  PHP (curl):       curl.cainfo={cert}  (php.ini), or CURLOPT_CAINFO",
    ]
    click.echo("\n".join(lines), err=True)


def _trust_in_certifi(cert: Path) -> None:
    """Append the CA certificate at ``cert`` to certifi's bundle (certifi.where()) unless it
    is in it already; say which on stderr.  The bundle is replaced in one step, keeping its
    mode, so a reader never sees half a certificate."""
    import stat

    try:
        import certifi
    except ImportError:
        raise CliError("--certifi: certifi is not installed in this Python environment "
                       f"({sys.executable})") from None
    bundle = Path(certifi.where())
    pem = cert.read_bytes()
    try:
        current = bundle.read_bytes()
        if pem.strip() in current:
            click.echo(f"certifi's bundle already trusts the mockface CA: {bundle}", err=True)
            return
        write_atomically(bundle, current.rstrip(b"\n") + b"\n\n# mockface local CA (testing "
                      b"only), added by mockface ca --certifi\n" + pem,
                      mode=stat.S_IMODE(bundle.stat().st_mode))
    except OSError as error:
        raise CliError(f"cannot add the CA to certifi's bundle {bundle}: "
                       f"{error.strerror or error}") from None
    click.echo(f"added the mockface CA to certifi's bundle {bundle} (upgrading certifi "
               "removes it)", err=True)
