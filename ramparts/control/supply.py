"""Control-API routes for the supply chain: version SBOMs and advisory re-checks.

``GET /v1/functions/{fn}/sbom?version=Q`` answers the CycloneDX JSON of a
version (``Q``: alias, id, id prefix or seq; default ``live``) once its signed
record and the SBOM's digest verify; a failed check answers 409
``sbom_tampered`` / ``version_signature_invalid`` and is audited as a
``registry.verify`` denial.  ``POST /v1/advisories/check`` re-checks every
live version now (``ramparts.registry.advisory_check``).  Admin token only,
like every control route.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ramparts.control.http import JSONResponse, _error, _json, _node
from ramparts.errors import InvalidRequest, NotFound, VersionIntegrityError
from ramparts.manifest import NAME_RE
from ramparts.registry.advisory_check import run_check

_QUALIFIER_MAX = 64


async def version_sbom(request: Request) -> Response:
    node = _node(request)
    name = request.path_params["fn"]
    if not NAME_RE.match(name):
        raise NotFound(f"function {name!r} not found", code="function_not_found")
    qualifier = request.query_params.get("version") or None
    if qualifier is not None and (
        len(qualifier) > _QUALIFIER_MAX or not qualifier.replace("-", "").isalnum()
    ):
        raise InvalidRequest(
            "version: an alias, a version id or prefix, or a sequence number",
            code="invalid_argument",
        )
    rec = await asyncio.to_thread(node.registry.resolve_version, name, qualifier)
    try:
        doc = await asyncio.to_thread(node.registry.sbom, rec)
    except VersionIntegrityError as exc:
        if exc.code == "sbom_not_found":
            return _error(404, exc.code, exc.message)
        node.audit.emit(
            "registry.verify",
            decision="deny",
            principal="admin",
            action="registry:ReadSbom",
            resource=f"function:{name}",
            function=name,
            version=rec.version[:12],
            reason=exc.code,
            severity="critical",
        )
        return _error(409, exc.code, exc.message)
    return JSONResponse(doc)


async def check_advisories(request: Request) -> JSONResponse:
    node = _node(request)
    await _json(request)  # no options today; a malformed body is still refused
    result = await run_check(node.registry, node.audit, "admin")
    return JSONResponse(result.to_dict())


def supply_routes() -> list[Route]:
    return [
        Route("/v1/functions/{fn}/sbom", version_sbom),
        Route("/v1/advisories/check", check_advisories, methods=["POST"]),
    ]
