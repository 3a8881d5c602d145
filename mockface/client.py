"""A small client for the admin API, on the standard library only (no extra dependency for
the pytest plugin or for scripts)."""
from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path
from typing import Any

TOKEN_HEADER = "X-Mockface-Admin-Token"
TOKEN_ENV = "MOCKFACE_ADMIN_TOKEN"


@functools.lru_cache(maxsize=None)
def _direct_opener(cafile: str | None = None):
    """An opener that ignores HTTP(S)_PROXY (those are for the application under test) and,
    given ``cafile``, trusts that CA for HTTPS (a ``--tls`` server); built on first use, so
    importing the pytest plugin stays cheap."""
    import ssl
    import urllib.request

    handlers: list = [urllib.request.ProxyHandler({})]
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
                     appid: str | None = None) -> dict:
        """Register who an ID number belongs to (forgotten when ``appid`` is reset)."""
        body = {"idcard_number": idcard_number, "idcard_name": idcard_name}
        if appid is not None:
            body["appid"] = appid
        return self.call("POST", "identities", body)

    def set_loose(self, appid: str, enabled: bool = True) -> dict:
        return self.call("POST", "loose", {"appid": appid, "enabled": enabled})
