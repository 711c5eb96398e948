"""Identity for the gateway: who is calling a route, established before any handler runs.

API keys (``apikeys``), JWTs from configured issuers (``jwt`` + ``jwks``), the
built-in OAuth2 client-credentials issuer (``issuer``), RFC 7662 introspection
of opaque tokens (``introspection``); ``service`` ties them together per app and
``principal`` is what the handler receives.  Every failure is an ``AuthFailed``
with a stable public code and a private audit reason.
"""
