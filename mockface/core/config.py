"""Settings and the keyring: built-in defaults, environment variables, a YAML file, CLI flags.

Precedence, lowest first: the built-in development app; ``MOCKFACE_APPID``,
``MOCKFACE_SECRET_ID`` and ``MOCKFACE_SECRET_KEY`` (they change the built-in app); a config
file (its ``apps`` list, when given, replaces the built-in app entirely); command-line flags.

Products add keys of their own without this module naming them: ``load_settings`` takes
``sections`` (extra top-level keys) and ``app_sections`` (extra keys of each app), each a
key -> reader ``(value, ConfigContext) -> result``; the results are kept in
``Settings.sections`` and ``App.sections`` under the key (only for keys the file has).
"""
from __future__ import annotations

import difflib
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from . import yamlsource
from .identity import EXTRA_KEYS, IdentityRecord, RecordError, check_extras
from .identity import where as path_text
from .yamlsource import show

#: An app's ``services`` when its config lists none: it may use every service.
ALL_SERVICES: frozenset[str] = frozenset({"*"})

DEFAULT_APPID = "123456"
DEFAULT_SECRET_ID = "AKIDmockfaceDEVELOPMENTsecretid00001"
DEFAULT_SECRET_KEY = "mockfaceDEVELOPMENTsecretkey0001"
DEFAULT_CLOCK_SKEW = 900
DEFAULT_ONCE_STORE_SIZE = 100_000
MAX_BODY_BYTES = 6 * 1024 * 1024


def mask(secret: str) -> str:
    """A secret shown safely: only its last four characters."""
    return "*" * max(len(secret) - 4, 4) + secret[-4:]


class ConfigError(ValueError):
    """A configuration problem; the message names the source, the key and what is wrong."""


@dataclass(frozen=True)
class App:
    """One emulated Tencent Cloud app and what it may do."""

    appid: str
    secrets: Mapping[str, str]  # secret id -> secret key
    buckets: frozenset[str] = frozenset()  # empty: any bucket is accepted
    services: frozenset[str] = ALL_SERVICES  # the services it may use (products name them)
    suspended: bool = False
    rate_limit: int | None = None  # requests per second; None: unlimited
    nonce_replay_check: bool = False  # API 3.0 v1: refuse a repeated Nonce (and the server's)
    #: What the products' own per-app keys (``app_sections``) read, by key.
    sections: Mapping[str, Any] = field(default_factory=dict)

    def may_use(self, service: str) -> bool:
        """Whether the app may call ``service`` (a legacy endpoint, an API 3.0 service)."""
        return service in self.services or self.services == ALL_SERVICES

    @property
    def first_secret(self) -> tuple[str, str]:
        """The app's first (secret id, secret key): what banners, fixtures and signing use
        by default."""
        return next(iter(self.secrets.items()))


class Keyring:
    """Looks apps up by appid and by secret id."""

    def __init__(self, apps: tuple[App, ...]) -> None:
        self.apps = apps
        self._by_appid = {app.appid: app for app in apps}
        self._by_secret_id = {sid: app for app in apps for sid in app.secrets}
        self._added: list[App] = []  # apps registered at run time (removable)
        self._lock = threading.Lock()

    def add(self, app: App) -> None:
        """Register an app at run time; ValueError when its appid or a secret id is taken."""
        with self._lock:
            if app.appid in self._by_appid:
                raise ValueError(f"appid {show(app.appid)} already exists")
            taken = [sid for sid in app.secrets if sid in self._by_secret_id]
            if taken:
                raise ValueError(f"secret id {taken[0]!r} already exists")
            self._by_secret_id.update({sid: app for sid in app.secrets})
            self._by_appid[app.appid] = app
            self._added.append(app)
            self.apps = self.apps + (app,)

    def remove(self, appid: str) -> App:
        """Unregister an app added at run time; KeyError for any other appid."""
        with self._lock:
            app = self._by_appid.get(appid)
            if app is None or app not in self._added:
                raise KeyError(appid)
            del self._by_appid[appid]
            for secret_id in app.secrets:
                self._by_secret_id.pop(secret_id, None)
            self._added.remove(app)
            self.apps = tuple(a for a in self.apps if a is not app)
            return app

    def app(self, appid: str) -> App | None:
        return self._by_appid.get(appid)

    @property
    def added(self) -> tuple[App, ...]:
        """The apps registered at run time."""
        with self._lock:
            return tuple(self._added)

    def owner_of(self, secret_id: str) -> App | None:
        """The app that holds ``secret_id``, or None when no app does."""
        return self._by_secret_id.get(secret_id)


@dataclass(frozen=True)
class Settings:
    """Everything the emulator needs to know at start-up."""

    apps: tuple[App, ...]
    identities: Mapping[str, str] = field(default_factory=dict)  # idcard number -> name
    #: The configured identities' whole records (phones, bank cards, validity dates), by
    #: number; a number of ``identities`` without one is a record of its name alone.
    identity_records: Mapping[str, IdentityRecord] = field(default_factory=dict)
    clock_skew: int = DEFAULT_CLOCK_SKEW
    check_idcard: bool = True
    strict_lip_codes: bool = False
    seed: int = 0
    loose: bool = False
    nonce_replay_check: bool = False  # API 3.0 v1 signatures, for every app
    once_store_size: int = DEFAULT_ONCE_STORE_SIZE
    source: str = "built-in defaults"
    #: The URL clients reach the server under (pages it links to); None: the URL it
    #: listens on.
    public_url: str | None = None
    #: What the products' own top-level keys (``sections``) read, by key.
    sections: Mapping[str, Any] = field(default_factory=dict)

    @property
    def keyring(self) -> Keyring:
        return Keyring(self.apps)

    @property
    def default_app(self) -> App:
        """The first app: the one the banner, ``mockface sign`` and fixtures use by default."""
        return self.apps[0]

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def builtin_app(env: Mapping[str, str] | None = None) -> App:
    """The zero-config development app, as changed by the ``MOCKFACE_*`` variables."""
    env = os.environ if env is None else env
    appid = env.get("MOCKFACE_APPID") or DEFAULT_APPID
    secret_id = env.get("MOCKFACE_SECRET_ID") or DEFAULT_SECRET_ID
    secret_key = env.get("MOCKFACE_SECRET_KEY") or DEFAULT_SECRET_KEY
    return App(appid=appid, secrets={secret_id: secret_key})


def load_settings(config_path: str | os.PathLike[str] | None = None,
                  env: Mapping[str, str] | None = None,
                  services: Sequence[str] | None = None,
                  sections: Mapping[str, SectionReader] | None = None,
                  app_sections: Mapping[str, SectionReader] | None = None) -> Settings:
    """Settings from the built-in app, the environment and, when given, a YAML config file.
    ``services``: the names an app's ``services`` may list (the products' services; any
    name when None).  ``sections`` / ``app_sections``: the products' own top-level / per-app
    keys and their readers (see the module docstring); a reader raises ConfigError through
    its context (``ConfigContext.fail``) or ValueError, which is reported at the key's line.

    Raises ConfigError naming the file and what is wrong.  Until the file has shown itself to
    be a mockface config (a mapping with at least one known top-level key), the message
    quotes none of its text; afterwards it gives the line, the key and the problem.
    """
    settings = Settings(apps=(builtin_app(env),))
    if config_path is None:
        return settings
    path = Path(config_path)
    reader = _ConfigReader(str(path), services, sections or {}, app_sections or {})
    return reader.read(reader.parse(path), settings)


#: A config larger than this is refused unread (``--config /dev/zero`` must not fill memory).
MAX_CONFIG_BYTES = 16 * 1024 * 1024
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_PLAIN_KEY = re.compile(r"[A-Za-z_][\w-]{0,39}")
_TOP_KEYS = {"apps", "identities", "clock_skew", "check_idcard", "strict_lip_codes", "seed",
             "loose", "once_store_size", "nonce_replay_check", "public_url"}
_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?", re.ASCII)
_APP_KEYS = {"appid", "secrets", "buckets", "services", "suspended", "rate_limit",
             "nonce_replay_check"}
_SECRET_KEYS = {"secret_id", "secret_key"}
_IDENTITY_KEYS = {"idcard_number", "idcard_name", *EXTRA_KEYS}


def _known(keys: set[str]) -> str:
    return f"known keys are {', '.join(sorted(keys))}"


def _parse(path: Path, top_keys: set[str]) -> Any:
    """The parsed document of the config file at ``path``; ConfigError when it cannot be
    read or parsed (quoting its text only when it has shown itself to be a config)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: not a mockface config: larger than "
                          f"{MAX_CONFIG_BYTES // 2**20} MB")
    try:
        return yamlsource.load(data.decode("utf-8"), known_keys=top_keys)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except yamlsource.ForeignDocument as exc:
        raise ConfigError(f"{path}: not a mockface config: not valid YAML (line {exc.line}) "
                          f"and no known key before the error; {_known(top_keys)}") from None
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}:{yamlsource.line_of_error(exc)}: not valid YAML: {reason}"
                          ) from None


def _line(container: Any, key: Any = None) -> int | None:
    """Where ``container[key]`` (or ``container`` itself, without a key) starts in the file;
    None for a container that was not read from a file."""
    if not isinstance(container, (yamlsource.LocatedDict, yamlsource.LocatedList)):
        return None
    return container.line if key is None else container.line_of(key)


def check_url(value: Any) -> str:
    """``value`` as an http(s) URL without query or fragment, a trailing slash dropped
    (``public_url``, ``--public-url``); ValueError saying what is wrong."""
    if not isinstance(value, str) or not _URL.fullmatch(value):
        raise ValueError(f"must be an http:// or https:// URL without query or fragment, "
                         f"got {show(value)}")
    return value.rstrip("/")


class ConfigContext:
    """What a product's config-key reader gets: ``where`` (the key's path, e.g.
    ``apps[0].rules``), ``line`` (where its value starts, None when unknown), and the
    checks every key uses, with messages of the form ``file:line: key: problem``."""

    def __init__(self, reader: _ConfigReader, where: str, line: int | None) -> None:
        self._reader = reader
        self.where = where
        self.line = line

    def fail(self, key: str, problem: str, line: int | None = None) -> ConfigError:
        """The error to raise for ``key`` (a full path) at ``line`` (default: the key's)."""
        return self._reader.fail(key, problem, self.line if line is None else line)

    @staticmethod
    def line_of(container: Any, key: Any = None) -> int | None:
        """Where ``container[key]`` (or ``container``, without a key) starts in the file."""
        return _line(container, key)

    def no_unknown_keys(self, mapping: dict, allowed: set[str], where: str) -> None:
        """ConfigError for the first key of ``mapping`` not in ``allowed`` (with the closest
        allowed one when near)."""
        self._reader.no_unknown_keys(mapping, allowed, where)

    def mapping(self, value: Any, where: str, allowed: set[str],
                required: tuple[str, ...] = (), line: int | None = None) -> dict:
        """``value`` as a mapping with only ``allowed`` keys and every ``required`` one."""
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping, got {show(value)}", line)
        return self._reader.mapping(value, where, allowed, required, line)

    def string(self, value: Any, key: str, line: int | None = None) -> str:
        return self._reader.string(value, key, self.line if line is None else line)

    def integer(self, value: Any, key: str, minimum: int, line: int | None = None) -> int:
        return self._reader.integer(value, key, minimum, self.line if line is None else line)

    def boolean(self, value: Any, key: str, line: int | None = None) -> bool:
        return self._reader.boolean(value, key, self.line if line is None else line)

    def listing(self, value: Any, key: str, line: int | None = None) -> list:
        return self._reader.listing(value, key, self.line if line is None else line)


#: A product's reader of one config key: (the key's value, its context) -> what to keep.
SectionReader = Callable[[Any, ConfigContext], Any]


class _ConfigReader:
    """Checks a parsed config document key by key and builds Settings from it."""

    def __init__(self, source: str, services: Sequence[str] | None = None,
                 sections: Mapping[str, SectionReader] | None = None,
                 app_sections: Mapping[str, SectionReader] | None = None) -> None:
        self.source = source
        self.services = services
        self.sections = dict(sections or {})
        self.app_sections = dict(app_sections or {})
        self.top_keys = _TOP_KEYS | set(self.sections)
        self.app_keys = _APP_KEYS | set(self.app_sections)

    def parse(self, path: Path) -> Any:
        """The parsed document at ``path`` (see ``_parse``)."""
        return _parse(path, self.top_keys)

    def section(self, readers: Mapping[str, SectionReader], item: dict,
                prefix: str) -> dict[str, Any]:
        """What the products' readers make of their keys of ``item`` (a ValueError they
        raise becomes a ConfigError at the key's line)."""
        results: dict[str, Any] = {}
        for key, read in readers.items():
            if key in item:
                where = f"{prefix}{key}"
                line = _line(item, key)
                try:
                    results[key] = read(item[key], ConfigContext(self, where, line))
                except ConfigError:
                    raise
                except ValueError as error:
                    raise self.fail(where, str(error), line) from None
        return results

    def fail(self, key: str, problem: str, line: int | None = None) -> ConfigError:
        where = self.source if line is None else f"{self.source}:{line}"
        return ConfigError(f"{where}: {key}: {problem}")

    def read(self, document: Any, base: Settings) -> Settings:
        if document is None:
            document = {}
        known = _known(self.top_keys)
        if not isinstance(document, dict):
            raise ConfigError(f"{self.source}: not a mockface config: the top level must be a "
                              f"mapping with at least one known key; {known}")
        if document and not self.top_keys & document.keys():
            raise ConfigError(f"{self.source}: not a mockface config: no known key; {known}")
        self.no_unknown_keys(document, self.top_keys, "")
        changes: dict[str, Any] = {"source": self.source}
        if "apps" in document:
            changes["apps"] = self.apps(document["apps"], _line(document, "apps"))
        if "identities" in document:
            records = self.identities(document["identities"], _line(document, "identities"))
            changes["identities"] = {number: r.name for number, r in records.items()}
            changes["identity_records"] = records
        for key in ("clock_skew", "seed", "once_store_size"):
            if key in document:
                minimum = 1 if key == "once_store_size" else 0
                changes[key] = self.integer(document[key], key, minimum, _line(document, key))
        for key in ("check_idcard", "strict_lip_codes", "loose", "nonce_replay_check"):
            if key in document:
                changes[key] = self.boolean(document[key], key, _line(document, key))
        if "public_url" in document:
            changes["public_url"] = self.url(document["public_url"], "public_url",
                                             _line(document, "public_url"))
        sections = self.section(self.sections, document, "")
        if sections:
            changes["sections"] = {**base.sections, **sections}
        return replace(base, **changes)

    def url(self, value: Any, key: str, line: int | None) -> str:
        """``value`` as an http(s) URL (see ``check_url``)."""
        try:
            return check_url(value)
        except ValueError as error:
            raise self.fail(key, str(error), line) from None

    def mapping(self, item: Any, where: str, allowed: set[str], required: tuple[str, ...],
                line: int | None) -> dict:
        """``item`` as a mapping with only ``allowed`` keys and every ``required`` one."""
        if not isinstance(item, dict):
            raise self.fail(where, f"must be a mapping with {' and '.join(required)}", line)
        self.no_unknown_keys(item, allowed, where)
        for key in required:
            if key not in item:
                raise self.fail(f"{where}.{key}", "is required", _line(item))
        return item

    def no_unknown_keys(self, mapping: dict, allowed: set[str], where: str) -> None:
        """ConfigError for the first key of ``mapping`` not in ``allowed``, with the closest
        allowed key when one is near."""
        for key in mapping:
            if key not in allowed:
                shown = str(key) if _PLAIN_KEY.fullmatch(str(key)) else show(key)
                name = f"{where}.{shown}" if where else shown
                guess = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
                hint = f"; did you mean {guess[0]!r}?" if guess else ""
                raise self.fail(name, f"unknown key (allowed: {', '.join(sorted(allowed))})"
                                      f"{hint}", _line(mapping, key))

    def string(self, value: Any, key: str, line: int | None) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
            raise self.fail(key, f"must be a non-empty string, got {show(value)}", line)
        return str(value)

    def integer(self, value: Any, key: str, minimum: int, line: int | None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"must be an integer >= {minimum}, got {show(value)}", line)
        return value

    def boolean(self, value: Any, key: str, line: int | None) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {show(value)}", line)
        return value

    def listing(self, value: Any, key: str, line: int | None) -> list:
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, got {show(value)}", line)
        return value

    def apps(self, value: Any, line: int | None) -> tuple[App, ...]:
        items = self.listing(value, "apps", line)
        if not items:
            raise self.fail("apps", "must declare at least one app", line)
        apps: list[App] = []
        seen_appids: set[str] = set()
        seen_secret_ids: dict[str, str] = {}
        for index, item in enumerate(items):
            where = f"apps[{index}]"
            app = self.app(item, where, _line(items, index))
            if app.appid in seen_appids:
                raise self.fail(f"{where}.appid", f"duplicate appid {show(app.appid)}",
                                _line(item, "appid"))
            seen_appids.add(app.appid)
            for secret_id in app.secrets:
                if secret_id in seen_secret_ids:
                    raise self.fail(f"{where}.secrets", f"secret_id {show(secret_id)} is already "
                                    f"used by app {show(seen_secret_ids[secret_id])}",
                                    _line(item, "secrets"))
                seen_secret_ids[secret_id] = app.appid
            apps.append(app)
        return tuple(apps)

    def app(self, item: Any, where: str, line: int | None) -> App:
        self.mapping(item, where, self.app_keys, ("appid", "secrets"), line)
        appid = self.string(item["appid"], f"{where}.appid", _line(item, "appid"))
        secrets: dict[str, str] = {}
        pairs = self.listing(item["secrets"], f"{where}.secrets", _line(item, "secrets"))
        if not pairs:
            raise self.fail(f"{where}.secrets", "must hold at least one secret_id/secret_key",
                            _line(item, "secrets"))
        for index, pair in enumerate(pairs):
            key = f"{where}.secrets[{index}]"
            self.mapping(pair, key, _SECRET_KEYS, ("secret_id", "secret_key"),
                         _line(pairs, index))
            secret_id = self.string(pair["secret_id"], f"{key}.secret_id",
                                    _line(pair, "secret_id"))
            if secret_id in secrets:
                raise self.fail(f"{key}.secret_id", f"duplicate secret_id {show(secret_id)}",
                                _line(pair, "secret_id"))
            secrets[secret_id] = self.string(pair["secret_key"], f"{key}.secret_key",
                                             _line(pair, "secret_key"))
        buckets = frozenset(self.strings(item, "buckets", where))
        services = ALL_SERVICES
        if "services" in item:
            names = self.strings(item, "services", where)
            for i, name in enumerate(names):
                if self.services is not None and name not in self.services:
                    raise self.fail(f"{where}.services[{i}]", f"unknown service {show(name)} "
                                    f"(expected one of: {', '.join(self.services)})",
                                    _line(item["services"], i))
            services = frozenset(names)
        suspended = self.boolean(item.get("suspended", False), f"{where}.suspended",
                                 _line(item, "suspended"))
        rate_limit = None
        if item.get("rate_limit") is not None:
            rate_limit = self.integer(item["rate_limit"], f"{where}.rate_limit", 1,
                                      _line(item, "rate_limit"))
        nonce_replay_check = self.boolean(item.get("nonce_replay_check", False),
                                          f"{where}.nonce_replay_check",
                                          _line(item, "nonce_replay_check"))
        return App(appid, secrets, buckets, services, suspended, rate_limit, nonce_replay_check,
                   self.section(self.app_sections, item, f"{where}."))

    def strings(self, item: dict, key: str, where: str) -> list[str]:
        """``item[key]`` (absent: empty) as a list of non-empty strings."""
        values = self.listing(item.get(key, []), f"{where}.{key}", _line(item, key))
        return [self.string(value, f"{where}.{key}[{i}]", _line(values, i))
                for i, value in enumerate(values)]

    def identities(self, value: Any, line: int | None) -> dict[str, IdentityRecord]:
        """The ``identities`` list as records by ID number (a number given twice: the last
        entry); a phone or bank card given to two identities is an error."""
        registry: dict[str, IdentityRecord] = {}
        owners: dict[tuple[str, str], str] = {}  # ("phones", number) -> where it was first
        items = self.listing(value, "identities", line)
        for index, item in enumerate(items):
            where = f"identities[{index}]"
            self.mapping(item, where, _IDENTITY_KEYS, ("idcard_number", "idcard_name"),
                         _line(items, index))
            number = self.string(item["idcard_number"], f"{where}.idcard_number",
                                 _line(item, "idcard_number"))
            if not _ID_NUMBER.fullmatch(number):
                raise self.fail(f"{where}.idcard_number",
                                f"must be 17 digits and a digit or X, got {show(number)}",
                                _line(item, "idcard_number"))
            name = self.string(item["idcard_name"], f"{where}.idcard_name",
                               _line(item, "idcard_name"))
            try:
                extras = check_extras(item)
            except RecordError as error:
                raise self.fail(f"{where}.{path_text(error.path)}", error.problem,
                                _line_at(item, error.path)) from None
            for key in ("phones", "bank_cards"):
                for position, entry in enumerate(extras[key]):
                    first = owners.setdefault((key, entry.number), where)
                    if first != where:
                        raise self.fail(f"{where}.{key}[{position}]",
                                        f"{entry.number} is {first}'s already",
                                        _line_at(item, (key, position)))
            registry[number] = IdentityRecord(number, name, **extras)
        return registry


def _line_at(item: Any, path: tuple[str | int, ...]) -> int | None:
    """Where the value at ``path`` inside ``item`` starts (the closest enclosing value's
    line when the path leaves what was read)."""
    line = _line(item)
    container = item
    for part in path:
        if isinstance(container, dict) and part in container:
            line = _line(container, part) or line
            container = container[part]
        elif isinstance(container, list) and isinstance(part, int) and \
                0 <= part < len(container):
            line = _line(container, part) or line
            container = container[part]
        else:
            break
    return line
