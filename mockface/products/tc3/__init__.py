"""The Cloud API 3.0 platform: TC3-HMAC-SHA256 and v1 signatures, checks 1-11, the
``{"Response": ...}`` envelope and the common errors, dispatch to the provider of the
call's service (``provider.Provider``, one per service: ``faceid``, ``iai``).  A platform
package: it imports no product, and no service's provider."""
