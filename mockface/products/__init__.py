"""The emulated products, one folder each.  The rest of mockface reaches them only through
``REGISTRY`` (``core.product.Registry``); adding a product is a folder and a line here.

The Cloud API 3.0 services are providers on one product, the ``tc3`` platform: adding a
service is a folder with its provider class and a name in the ``Tc3Product`` below."""
from __future__ import annotations

from ..core.product import Registry
from .faceid.provider import FaceIdProvider
from .iai.provider import IaiProvider
from .legacy.product import PRODUCT as LEGACY
from .tc3.product import Tc3Product

#: Every product this server emulates; the first (legacy) answers what belongs to none.
REGISTRY = Registry(LEGACY, Tc3Product(FaceIdProvider, IaiProvider))
