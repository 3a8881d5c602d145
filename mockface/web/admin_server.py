"""The admin routes about the server itself: whether it answers (``health``), forgetting
state (``reset``), the settings in effect (``config``, with what each product adds to an
app) and its local CA (``ca``)."""
from __future__ import annotations

import os
import time
from typing import Any

from flask import Response, current_app, jsonify

from .. import __version__
from ..core.config import mask
from ..core.logs import log_admin
from ..core.state import StateBackend, StateUnavailable
from ..core.stores import IdentityRegistrySpec
from ..core.surface import AdminError
from .admin_args import SCOPE, known_appid, read_body
from .admin_blueprint import CA_DIR_CONFIG, STARTED_CONFIG, accepts, admin, emulator


@admin.get("/health")
@accepts("Whether the server answers (503 while starting, while a scenario reload fails or "
         "while the state backend is unreachable).", errors=(503,))
def health() -> Response | tuple[Response, int]:
    try:
        emulator.state.sync()
    except StateUnavailable as error:
        return jsonify(status="state backend unreachable", error=str(error),
                       version=__version__, pid=os.getpid()), 503
    names = [a.scenario.name for a in emulator.scenarios.active()]
    body = {"status": "ok", "version": __version__,
            "uptime": round(time.monotonic() - current_app.config[STARTED_CONFIG], 3),
            "scenarios": names, "pid": os.getpid(), "state": emulator.state.description}
    if not emulator.ready.is_set():
        return jsonify({**body, "status": "starting"}), 503
    if emulator.scenarios.reload_errors:
        return jsonify({**body, "status": "scenario reload failing",
                        "errors": emulator.scenarios.reload_errors}), 503
    return jsonify(body)


@admin.post("/reset")
@accepts("Forget journal, lip codes, used signatures, rate windows, scenarios, loose mode "
         "and registered identities: everything, or one appid's.", SCOPE, errors=(404,))
def reset() -> Response:
    appid = known_appid(read_body())
    emulator.reset(appid)
    log_admin("reset", appid=appid or "all")
    return jsonify(reset=appid or "all")


@admin.get("/config")
@accepts("The settings in effect (secret keys masked).")
def config() -> Response:
    settings = emulator.settings
    return jsonify(
        source=settings.source,
        apps=[{"appid": app.appid,
               "secrets": [{"secret_id": sid, "secret_key": mask(key)}
                           for sid, key in app.secrets.items()],
               "buckets": sorted(app.buckets), "suspended": app.suspended,
               "services": [name for name in emulator.registry.services if app.may_use(name)],
               "rate_limit": app.rate_limit, **products_app_config(app.appid)}
              for app in emulator.keyring.apps],
        identities=registered_identities(emulator.state), clock_skew=settings.clock_skew,
        check_idcard=settings.check_idcard, strict_lip_codes=settings.strict_lip_codes,
        seed=settings.seed, loose=settings.loose, loose_appids=sorted(emulator.loose_appids),
        once_store_size=settings.once_store_size,
        journal_size=emulator.journal.capacity,
        allow_scenario_header=emulator.allow_scenario_header,
        public_url=settings.public_url, listen_url=emulator.listen_url,
        scenario_search_path=[str(p) for p in emulator.scenarios.library.search_paths])


@admin.get("/ca")
@accepts("The local CA's certificate (PEM), for clients that must trust it.",
         errors=(500,))
def ca() -> Response:
    """The certificate of the CA this server signs its TLS certificates with (public; the
    key never leaves the CA directory), for clients that must trust it."""
    from .tls import CAError, CertificateAuthority

    try:
        authority = CertificateAuthority(current_app.config.get(CA_DIR_CONFIG))
    except CAError as error:
        raise AdminError(500, str(error)) from None
    return jsonify(path=str(authority.cert_path),
                   pem=authority.cert_path.read_text(encoding="ascii"))


def products_app_config(appid: str) -> dict[str, Any]:
    """What the products show of app ``appid`` besides the platform's keys (say, the
    MerchantIds it may use), from each product's ``app_config(settings, appid)``."""
    shown: dict[str, Any] = {}
    for product in emulator.registry:
        shown.update(product.app_config(emulator.settings, appid))
    return shown


def registered_identities(state: StateBackend) -> int:
    """How many identities the declared identity registries hold (configured and added)."""
    return sum(len(state.store(spec)) for spec in state.stores()
               if isinstance(spec, IdentityRegistrySpec))
