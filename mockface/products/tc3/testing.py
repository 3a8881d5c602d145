"""What API 3.0 adds to the pytest handle: Tencent's official clients pointed at the server
(``mockface.faceid_client()``, ``mockface.common_client("iai")``) and
``mockface.faceid_endpoint``."""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from ...core.product import Helper


def faceid_endpoint(handle: Any) -> str:
    """``host:port`` of the server, as the Tencent Cloud SDKs' ``HttpProfile(endpoint=)``
    takes it (with ``protocol="http"``)."""
    return handle.url.split("://", 1)[1]


def faceid_client(handle: Any, region: str = "", **profile: Any) -> Any:
    """Tencent's official ``FaceidClient`` (API 3.0), signed with this test's credentials
    and pointed at the server (over HTTPS trusting its CA with --mockface-tls), never
    through a proxy.  ``profile``: ClientProfile options such as ``signMethod="HmacSHA256"``
    or ``language="en-US"``.  Needs ``tencentcloud-sdk-python-faceid``."""
    module = _sdk("tencentcloud.faceid.v20180301.faceid_client",
                  "tencentcloud-sdk-python-faceid")
    return _direct(module.FaceidClient(_credential(handle), region,
                                       _profile(handle, **profile)))


def common_client_helper(current_version: Callable[[str], str]) -> Callable[..., Any]:
    """``mockface.common_client``, defaulting to ``current_version(product)``."""
    def common_client(handle: Any, product: str = "faceid", version: str | None = None,
                      region: str = "", **profile: Any) -> Any:
        """Tencent's ``CommonClient`` for any emulated product and version (``iai``
        DetectLiveFace, or actions the typed client no longer has such as ``Liveness``),
        like ``faceid_client``.  Needs ``tencentcloud-sdk-python-common``."""
        module = _sdk("tencentcloud.common.common_client", "tencentcloud-sdk-python-common")
        return _direct(module.CommonClient(product, version or current_version(product),
                                           _credential(handle), region,
                                           _profile(handle, **profile)))
    return common_client


def helpers(current_version: Callable[[str], str]) -> Mapping[str, Helper]:
    """The helpers, with ``current_version(service)`` for the CommonClient default."""
    return {"faceid_endpoint": Helper(faceid_endpoint, is_property=True),
            "faceid_client": Helper(faceid_client),
            "common_client": Helper(common_client_helper(current_version))}


def _credential(handle: Any) -> Any:
    credential = _sdk("tencentcloud.common.credential", "tencentcloud-sdk-python-common")
    return credential.Credential(handle.credentials.secret_id, handle.credentials.secret_key)


def _profile(handle: Any, **options: Any) -> Any:
    client_profile = _sdk("tencentcloud.common.profile.client_profile",
                          "tencentcloud-sdk-python-common")
    http_profile = _sdk("tencentcloud.common.profile.http_profile",
                        "tencentcloud-sdk-python-common")
    if handle.ca_cert is None:
        http = http_profile.HttpProfile(protocol="http", endpoint=faceid_endpoint(handle))
    else:
        http = http_profile.HttpProfile(protocol="https", endpoint=faceid_endpoint(handle),
                                        certification=handle.ca_cert)
    return client_profile.ClientProfile(httpProfile=http, **options)


def _sdk(module: str, distribution: str) -> ModuleType:
    """Import a module of Tencent's SDK, or say which package to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise RuntimeError(f"this needs Tencent's official SDK: pip install {distribution}") \
            from None


def _direct(client: Any) -> Any:
    """``client`` with its HTTP session ignoring HTTP(S)_PROXY: the server is on loopback.
    (The SDK reads the proxy variables itself; its connection object is internal, so this
    changes it only where it has the expected shape.)"""
    connection = getattr(getattr(client, "request", None), "conn", None)
    session = getattr(connection, "_session", None)
    if connection is not None and session is not None:
        connection.proxy = None
        session.trust_env = False
    return client
