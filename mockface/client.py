"""A small client for the admin API, on the standard library only (no extra dependency for
the pytest plugin or for scripts)."""
from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from urllib.request import OpenerDirector

TOKEN_HEADER = "X-Mockface-Admin-Token"
TOKEN_ENV = "MOCKFACE_ADMIN_TOKEN"


@functools.lru_cache(maxsize=None)
def _direct_opener(cafile: str | None = None) -> OpenerDirector:
    """An opener that ignores HTTP(S)_PROXY (those are for the application under test) and,
    given ``cafile``, trusts that CA for HTTPS (a ``--tls`` server); built on first use, so
    importing the pytest plugin stays cheap."""
    import ssl
    import urllib.request

    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if cafile is not None:
        handlers.append(urllib.request.HTTPSHandler(
            context=ssl.create_default_context(cafile=cafile)))
    return urllib.request.build_opener(*handlers)


class AdminCallError(RuntimeError):
    """The admin API refused a call; ``status`` and ``payload`` hold its answer."""

    def __init__(self, method: str, path: str, status: int, payload: Any) -> None:
        detail = payload.get("error") if isinstance(payload, dict) else payload
        problems = payload.get("problems") if isinstance(payload, dict) else None
        message = f"{method} {path} -> {status}: {detail}"
        if problems:
            message += "\n" + "\n".join(problems)
        super().__init__(message)
        self.status = status
        self.payload = payload


class ServerCAError(RuntimeError):
    """A server could not give its CA certificate; the message names the URL, why, and
    what to do."""


class ServerUnreachable(ServerCAError):
    """No answer at all came (nothing listening yet, a network error, a time-out)."""


def _clip(value: Any, limit: int = 500) -> str:
    """Text from a server, safe to print: a repr of at most ``limit`` characters."""
    text = repr(value if isinstance(value, str) else str(value))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def write_proxy_environment(url: str, pem: bytes, bundle: str | os.PathLike[str]
                            ) -> dict[str, str]:
    """Write ``bundle`` (the system's CAs, when ssl knows a bundle file, plus the CA ``pem``)
    and, beside it, ``<stem>-ca-only.pem`` (that CA alone); return the environment that
    sends unmodified clients to the server at ``url`` as their proxy: ``HTTP(S)_PROXY``
    (both cases), ``NO_PROXY`` for loopback, ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE`` /
    ``CURL_CA_BUNDLE`` naming the bundle, ``NODE_EXTRA_CA_CERTS`` the CA alone."""
    from .web.proxy import proxy_environment
    from .web.tls import write_bundle

    written = write_bundle(pem, bundle)
    only_ca = written.with_name(written.stem + "-ca-only.pem")
    only_ca.write_bytes(pem)
    return proxy_environment(url, str(written), str(only_ca))


class AdminClient:
    """Calls ``/__mockface/...`` on a server at ``url``."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0,
                 cafile: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.cafile = cafile  # the CA of an HTTPS (--tls) server

    def call(self, method: str, path: str, body: dict | None = None,
             query: dict | None = None) -> Any:
        """One JSON call; AdminCallError for any answer but 2xx."""
        import urllib.error
        import urllib.parse
        import urllib.request

        target = f"{self.url}/__mockface/{path}"
        if query:
            target += "?" + urllib.parse.urlencode({k: v for k, v in query.items()
                                                    if v is not None})
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(target, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header(TOKEN_HEADER, self.token)
        try:
            with _direct_opener(self.cafile).open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = raw.decode("utf-8", "replace")
            raise AdminCallError(method, path, error.code, payload) from None

    # -- health -------------------------------------------------------------------------

    def health(self) -> dict:
        return self.call("GET", "health")

    def wait_until_healthy(self, timeout: float = 30.0, interval: float = 0.05) -> dict:
        """Poll health until it answers 200; TimeoutError with the last problem otherwise."""
        deadline = time.monotonic() + timeout
        problem: str = "no answer"
        while True:
            try:
                return self.health()
            except AdminCallError as error:
                problem = str(error)
            except (OSError, ValueError) as error:
                problem = f"{type(error).__name__}: {error}"
            if time.monotonic() >= deadline:
                raise TimeoutError(f"mockface at {self.url} not healthy after {timeout:g} s "
                                   f"({problem})")
            time.sleep(interval)

    # -- state ----------------------------------------------------------------------------

    def ca(self) -> dict:
        """``{"path", "pem"}`` of the CA the server's TLS certificates chain to."""
        return self.call("GET", "ca")

    def ca_pem(self) -> bytes:
        """The PEM certificate of the CA the server's TLS certificates (``--tls``, proxy
        tunnels) chain to, from ``GET /__mockface/ca``; ServerCAError saying why and what to
        do when the server cannot be reached, refuses or has none."""
        import http.client
        import ssl

        try:
            answer = self.ca()
        except AdminCallError as error:
            raise ServerCAError(self._ca_refusal(error)) from None
        except (OSError, http.client.HTTPException) as error:  # URLError is an OSError
            reason = getattr(error, "reason", None) or error
            problem = (f"cannot reach mockface at {self.url} to ask for its CA "
                       f"(GET {self.url}/__mockface/ca): {reason}")
            if isinstance(reason, ssl.SSLCertVerificationError):  # asking again cannot help
                raise ServerCAError(f"{problem}; trust the CA of that --tls server (its "
                                    "--ready-file names it)") from None
            raise ServerUnreachable(problem) from None
        except ValueError:  # not JSON
            answer = None
        pem = answer.get("pem") if isinstance(answer, dict) else None
        if not isinstance(pem, str) or "-----BEGIN CERTIFICATE-----" not in pem:
            raise ServerCAError(f"{self.url} is not a mockface server: GET /__mockface/ca "
                                "answered without a PEM certificate")
        return pem.encode("ascii", "replace")

    def proxy_env(self, bundle: str | os.PathLike[str]) -> dict[str, str]:
        """The environment that sends unmodified clients to this server as their proxy,
        with ``bundle`` written from the server's own CA (see ``write_proxy_environment``)."""
        return write_proxy_environment(self.url, self.ca_pem(), bundle)

    def _ca_refusal(self, error: AdminCallError) -> str:
        """Why ``GET /__mockface/ca`` was refused, and what to do about it."""
        detail = _clip(error.payload.get("error") if isinstance(error.payload, dict)
                       else error.payload)
        asked = f"GET {self.url}/__mockface/ca"
        if error.status == 401:
            given = "refused the admin token it was given" if self.token else \
                "requires the admin token"
            return (f"mockface at {self.url} {given} ({asked} -> 401): set ${TOKEN_ENV} to "
                    "the token its banner shows, or read it from the server's --ready-file")
        if error.status == 404:
            return f"{self.url} is not a mockface server ({asked} -> 404)"
        if error.status == 500:
            return f"mockface at {self.url} has no usable CA ({asked} -> 500: {detail})"
        return f"mockface at {self.url} refused {asked} ({error.status}: {detail})"

    def reset(self, appid: str | None = None) -> dict:
        return self.call("POST", "reset", {"appid": appid} if appid else {})

    def activate(self, source: str | os.PathLike[str] | dict, appid: str | None = None,
                 first: bool = False) -> dict:
        """Activate a scenario by library name, local file (sent as text) or document."""
        body: dict[str, Any] = {"first": first}
        if appid is not None:
            body["appid"] = appid
        if isinstance(source, dict):
            body["document"] = source
        elif Path(source).is_file():
            body["text"] = Path(source).read_text(encoding="utf-8")
            body["source"] = str(source)
        else:
            body["name"] = str(source)
        return self.call("POST", "scenarios", body)

    def deactivate(self, name: str | None = None, appid: str | None = None,
                   everywhere: bool = False) -> int:
        body = {"name": name, "appid": appid, "everywhere": everywhere}
        return self.call("DELETE", "scenarios", {k: v for k, v in body.items() if v is not None}
                         )["removed"]

    def scenarios(self) -> dict:
        return self.call("GET", "scenarios")

    def requests(self, **filters: Any) -> list[dict]:
        return self.call("GET", "requests", query=filters)["requests"]

    def clear_requests(self, appid: str | None = None) -> int:
        return self.call("DELETE", "requests", {"appid": appid} if appid else {})["removed"]

    def clock(self) -> dict:
        return self.call("GET", "clock")

    def freeze(self, at: float | None = None) -> dict:
        return self.call("POST", "clock/freeze", {} if at is None else {"at": at})

    def advance(self, seconds: float) -> dict:
        return self.call("POST", "clock/advance", {"seconds": seconds})

    def restore_clock(self, state: dict) -> dict:
        """Put the clock back to ``state`` (as returned by ``clock()``)."""
        return self.call("POST", "clock/restore", {"frozen_at": state.get("frozen_at"),
                                                   "offset": state.get("offset", 0)})

    def unfreeze(self) -> dict:
        return self.call("POST", "clock/unfreeze", {})

    def lip_codes(self, appid: str | None = None) -> dict[str, list[str]]:
        return self.call("GET", "lip-codes", query={"appid": appid})["lip_codes"]

    def codes(self, endpoint: str | None = None) -> list[dict]:
        return self.call("GET", "codes", query={"endpoint": endpoint})["codes"]

    def config(self) -> dict:
        return self.call("GET", "config")

    def create_app(self, appid: str | None = None) -> dict:
        """A fresh app (namespace) with generated credentials."""
        return self.call("POST", "apps", {"appid": appid} if appid else {})

    def delete_app(self, appid: str) -> dict:
        """Remove an app created with ``create_app`` and forget its state."""
        return self.call("DELETE", "apps", {"appid": appid})

    def add_identity(self, idcard_number: str, idcard_name: str,
                     appid: str | None = None, *, phones: list | None = None,
                     bank_cards: list | None = None, validity: dict | None = None) -> dict:
        """Register who an ID number belongs to (forgotten when ``appid`` is reset), with
        the person's ``phones`` (numbers, or ``{number, status, months}``), ``bank_cards``
        (``{number, bank, type, status}``) and ID ``validity`` (``{begin, end}``) when
        given; the record registered (``idcard_number``, ``idcard_name``, the keys given,
        in full, and ``appid``)."""
        body: dict[str, Any] = {"idcard_number": idcard_number, "idcard_name": idcard_name}
        for key, value in (("phones", phones), ("bank_cards", bank_cards),
                           ("validity", validity)):
            if value is not None:
                body[key] = value
        if appid is not None:
            body["appid"] = appid
        return self.call("POST", "identities", body)

    def set_loose(self, appid: str, enabled: bool = True) -> dict:
        return self.call("POST", "loose", {"appid": appid, "enabled": enabled})

    # -- verification tokens --------------------------------------------------------------

    def verifications(self, flow: str | None = None, state: str | None = None,
                      appid: str | None = None) -> list[dict]:
        """The readable verification tokens (of ``flow``, in ``state``, of ``appid``: each
        filter when given), the last issued first."""
        return self.call("GET", "verifications",
                         query={"flow": flow, "state": state, "appid": appid})["verifications"]

    def verification(self, token: str) -> dict:
        """One verification token's record (AdminCallError 404 for an unknown token)."""
        return self.call("GET", _token_path(token))

    def open_verification(self, token: str) -> dict:
        """Open a verification token as its user page does; its record."""
        return self.call("POST", f"{_token_path(token)}/open", {})

    def complete_verification(self, token: str, err_code: int | None = None,
                              attempts: list[dict] | None = None, sim: str | None = None,
                              identity: dict | None = None,
                              intention_code: int | None = None) -> dict:
        """Finish a verification token with ``err_code`` or ``attempts`` (and the optional
        ``sim``, ``identity``, ``intention_code``); its finished record.  AdminCallError
        409 once it is finished or expired, 404 for an unknown token, 400 for an invalid
        outcome."""
        body = {"err_code": err_code, "attempts": attempts, "sim": sim, "identity": identity,
                "intention_code": intention_code}
        return self.call("POST", f"{_token_path(token)}/complete",
                         {key: value for key, value in body.items() if value is not None})


def _token_path(token: str) -> str:
    """The admin path of a verification token (quoted: a token is the caller's text)."""
    import urllib.parse

    return f"verifications/{urllib.parse.quote(token, safe='')}"
