"""The legacy API: the five /face/* endpoints, their wire format, HMAC-SHA1 signature,
code catalogue and emulated service."""
