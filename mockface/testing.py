"""mockface's test handle, for any test framework; the pytest fixtures of
``mockface.pytest_plugin`` are thin wrappers over it.

``MockfaceServer`` is a running server: ``start()`` runs one in a background thread on a free
loopback port, ``attach()`` takes a private app (namespace) on a shared one, and ``close()``
(or leaving its ``with`` block) undoes either.  ``Mockface`` is the per-test handle over it:
signing, scenarios, one-line rules, the request journal, the clock, issued lip codes and
Tencent's SDK clients; its ``with`` block resets the server first and puts the clock back
afterwards.  Both go through the admin API only, so they behave the same in-process and
attached.  Importing this module imports neither pytest, Flask nor the emulator.

In a ``unittest`` suite::

    class VerifyTest(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            cls.server = MockfaceServer.start()
            cls.addClassCleanup(cls.server.close)

        def setUp(self):
            self.mockface = Mockface(self.server)
            self.mockface.reset()
            self.addCleanup(self.mockface.clock.restore)

(``with Mockface(server) as mockface:`` does the same around a block.)
"""
from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .client import TOKEN_ENV, AdminCallError, AdminClient

if TYPE_CHECKING:
    from .web.server import Server


@dataclass(frozen=True)
class Credentials:
    """What a client needs to sign requests for one app."""

    appid: str
    secret_id: str
    secret_key: str
    bucket: str = ""


class MockfaceServer:
    """A running mockface: in-process (``stop()`` ends it) or attached (``namespace`` is the
    private appid this session uses on the shared server).  ``close()``, also run on leaving
    a ``with`` block, undoes whichever it is."""

    def __init__(self, url: str, credentials: Credentials, admin: AdminClient,
                 namespace: str | None = None, background: Server | None = None,
                 ca_cert: str | None = None) -> None:
        self.url = url
        self.ca_cert = ca_cert  # the CA certificate of a --tls server (None: plain HTTP)
        self.credentials = credentials
        self.admin = admin
        self.namespace = namespace
        self._background = background

    @property
    def attached(self) -> bool:
        """True for a shared server this process did not start."""
        return self._background is None

    appid = property(lambda self: self.credentials.appid)
    secret_id = property(lambda self: self.credentials.secret_id)
    secret_key = property(lambda self: self.credentials.secret_key)
    bucket = property(lambda self: self.credentials.bucket)

    def stop(self) -> None:
        """End an in-process server; does nothing when attached."""
        if self._background is not None:
            self._background.stop()

    def close(self) -> None:
        """Leave the server as this session found it: delete the namespace app of an
        attached server, stop an in-process one."""
        try:
            if self.attached and self.namespace is not None:
                self.admin.delete_app(self.namespace)
        finally:
            self.stop()

    def __enter__(self) -> MockfaceServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    @classmethod
    def start(cls, scenario_dirs: Sequence[str | Path] = (), timeout: float = 30.0,
              tls: bool = False) -> MockfaceServer:
        """An in-process server on a free loopback port, ready when this returns (stopped
        again if it does not become healthy within ``timeout`` seconds); HTTPS with a
        certificate from the local CA when ``tls``.  ``scenario_dirs`` are searched for
        scenario names before the built-in library."""
        from .core.config import load_settings
        from .emulator import Emulator
        from .scenarios import ScenarioEngine, search_path
        from .web.app import create_app
        from .web.server import start_background

        settings = load_settings()
        search_paths: list[str | Path] = [*search_path(list(scenario_dirs))]
        engine = ScenarioEngine(search_paths, seed=settings.seed)
        emulator = Emulator(settings, scenarios=engine, allow_scenario_header=True)
        background = start_background(create_app(emulator=emulator), tls=tls)
        ca_cert = str(background.ca_cert) if background.ca_cert else None
        admin = AdminClient(background.url, cafile=ca_cert)
        try:
            admin.wait_until_healthy(timeout)
        except BaseException:
            background.stop()
            raise
        app = settings.default_app
        secret_id, secret_key = app.first_secret
        return cls(background.url, Credentials(app.appid, secret_id, secret_key), admin,
                   background=background, ca_cert=ca_cert)

    @classmethod
    def attach(cls, url: str, token: str | None = None, worker: str = "main",
               timeout: float = 30.0) -> MockfaceServer:
        """Attach to a shared server and take a private app (namespace) on it, named
        ``ns-<worker>-<pid>-...``; ``token`` is the server's admin token, if it has one."""
        admin = AdminClient(url, token)
        admin.wait_until_healthy(timeout)
        try:
            created = admin.create_app(f"ns-{worker}-{os.getpid()}-{time.time_ns() % 10**9}")
        except AdminCallError as error:
            if error.status != 401:
                raise
            given = "the token in" if token else "no token: set"
            raise RuntimeError(f"mockface at {url} requires its admin token and got {given} "
                               f"${TOKEN_ENV} (the server's banner or --ready-file shows "
                               "it)") from None
        credentials = Credentials(created["appid"], created["secret_id"], created["secret_key"])
        return cls(url.rstrip("/"), credentials, admin, namespace=created["appid"])


class Clock:
    """The server's clock, as seen through the admin API.  The first change a test makes
    remembers the clock as it was, and ``restore()`` (run after each test) puts it back."""

    def __init__(self, admin: AdminClient) -> None:
        self._admin = admin
        self._before: dict | None = None

    def now(self) -> float:
        return self._admin.clock()["now"]

    def _changing(self) -> None:
        if self._before is None:
            self._before = self._admin.clock()

    def freeze(self, at: float | None = None) -> float:
        """Stop the server's clock (at ``at``, default now); returns the frozen time."""
        self._changing()
        return self._admin.freeze(at)["now"]

    def advance(self, seconds: float) -> float:
        self._changing()
        return self._admin.advance(seconds)["now"]

    def unfreeze(self) -> None:
        self._changing()
        self._admin.unfreeze()

    def restore(self) -> None:
        """Put the clock back as it was before this handle first changed it."""
        if self._before is not None:
            self._admin.restore_clock(self._before)
            self._before = None


class Mockface:
    """The per-test handle on ``server``, scripted through one-liners.  Entering its ``with``
    block resets the server (``reset()``); leaving it puts back a clock the block froze or
    advanced (``clock.restore()``)."""

    def __init__(self, server: MockfaceServer) -> None:
        self.server = server
        self.admin = server.admin
        self.clock = Clock(server.admin)
        self._rules = 0

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def credentials(self) -> Credentials:
        return self.server.credentials

    @property
    def appid(self) -> str:
        return self.server.credentials.appid

    def __enter__(self) -> Mockface:
        self.reset()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.clock.restore()

    def reset(self) -> None:
        """Forget journal, lip codes, once-signatures and scenarios (own namespace only when
        attached to a shared server)."""
        self.admin.reset(self.server.namespace)

    def use(self, source: str | os.PathLike[str] | dict, appid: str | None = None) -> dict:
        """Activate a scenario (library name, file or dict); scoped to this test's namespace
        when attached to a shared server, or to ``appid`` when given."""
        return self.admin.activate(source, appid=appid or self.server.namespace)

    def respond(self, endpoint: str = "*", match: dict | None = None, times: int | None = None,
                **fields: Any) -> dict:
        """A one-line rule: answer ``endpoint`` with ``fields`` (a scenario response).

        The newest one-line rule is consulted first.
        """
        self._rules += 1
        rule: dict[str, Any] = {"endpoint": endpoint, "respond": fields}
        if match:
            rule["match"] = match
        if times is not None:
            rule["times"] = times
        document = {"name": f"respond-{self._rules}", "rules": [rule]}
        return self.admin.activate(document, appid=self.server.namespace, first=True)

    def requests(self, endpoint: str | None = None, **filters: Any) -> list[dict]:
        """Journal entries (this namespace's when attached), oldest first."""
        if self.server.namespace is not None:
            filters.setdefault("appid", self.server.namespace)
        return self.admin.requests(endpoint=endpoint, **filters)

    def assert_called(self, endpoint: str, times: int | None = None, **filters: Any) -> list[dict]:
        """Assert ``endpoint`` was called (exactly ``times`` times when given); the failure
        message lists what the server did receive."""
        matching = self.requests(endpoint, **filters)
        if (times is None and matching) or len(matching) == times:
            return matching
        everything = self.requests()
        wanted = "at least once" if times is None else f"{times} time(s)"
        lines = [f"expected {endpoint} {wanted}"
                 + (f" with {filters}" if filters else "") + f", got {len(matching)}.",
                 f"The server received {len(everything)} request(s):"]
        for entry in everything:
            lines.append(f"  #{entry['id']} {entry['endpoint']} appid={entry['appid']} "
                         f"code={entry['code']} rule={entry['rule']} "
                         f"fields={json.dumps(entry['fields'], ensure_ascii=False)}")
        raise AssertionError("\n".join(lines))

    @property
    def ca_cert(self) -> str | None:
        """The CA certificate to trust (``verify=``) when the server runs with --tls."""
        return self.server.ca_cert

    def __getattr__(self, name: str) -> Any:
        """What a product adds to the handle (``core.product.Helper``): ``sign`` (legacy),
        ``faceid_client``, ``common_client``, ``faceid_endpoint`` (API 3.0), ..."""
        from .products import REGISTRY  # here: loading the plugin imports no product

        for product in REGISTRY:
            helper = product.helpers.get(name)
            if helper is not None:
                if helper.is_property:
                    return helper.function(self)
                return functools.partial(helper.function, self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def proxy_env(self, bundle: str | os.PathLike[str]) -> dict[str, str]:
        """The environment that sends unmodified clients to this server as their proxy:
        ``HTTP(S)_PROXY`` (both cases), ``NO_PROXY`` for loopback, and ``REQUESTS_CA_BUNDLE``
        / ``SSL_CERT_FILE`` / ``CURL_CA_BUNDLE`` naming ``bundle``, which is (re)written
        with the system's CAs plus the server's CA (``NODE_EXTRA_CA_CERTS`` names a file
        with that CA alone, beside it)."""
        return self.admin.proxy_env(bundle)

    @property
    def lip_codes(self) -> list[str]:
        """Lip codes issued to this test's app, oldest first."""
        return self.admin.lip_codes(self.appid).get(self.appid, [])

    def loose(self, enabled: bool = True) -> None:
        """Only require well-formed signatures for this test's app."""
        self.admin.set_loose(self.appid, enabled)

    def new_identity(self, **overrides: Any) -> dict[str, Any]:
        """A fresh realistic identity (Faker, zh_CN) registered on the server, so a request
        with its number and another name answers -5803: ``idcard_number``, ``idcard_name``,
        one phone (on a real number segment), one bank card (on a real BIN) and the ID
        card's validity dates, as the server registered them (``phones`` and
        ``bank_cards`` as objects, in full).  ``overrides`` fix any of those keys
        (``phones=[]`` gives none).  Forgotten at the next reset.  Needs ``mockface[faker]``."""
        from .identities import generate

        [person] = generate(1, **overrides)
        record = self.admin.add_identity(
            person["idcard_number"], person["idcard_name"], self.appid,
            phones=person.get("phones"), bank_cards=person.get("bank_cards"),
            validity=person.get("validity"))
        record.pop("appid", None)
        return record
