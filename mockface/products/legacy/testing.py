"""What the legacy API adds to the pytest handle: ``mockface.sign(...)``."""
from __future__ import annotations

from typing import Any

from ...core.product import Helper
from .signature import sign as _sign


def sign(handle: Any, **overrides: Any) -> str:
    """An ``Authorization`` value for this test's app, issued at the server's time.

    Overrides: ``appid``, ``secret_id``, ``secret_key``, ``expires_in`` (default 3600),
    ``once``/``fileid``, ``bucket``, ``layout``, ``now``.
    """
    creds = handle.credentials
    options: dict[str, Any] = {"appid": creds.appid, "secret_id": creds.secret_id,
                               "secret_key": creds.secret_key, "bucket": creds.bucket}
    options.update(overrides)
    if options.get("now") is None:
        options["now"] = int(handle.clock.now())
    return _sign(options.pop("appid"), options.pop("secret_id"), options.pop("secret_key"),
                 **options)


HELPERS = {"sign": Helper(sign)}
