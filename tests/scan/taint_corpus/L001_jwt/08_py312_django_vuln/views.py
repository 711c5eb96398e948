"""RP-L001 (jwt), vulnerable, Python 3.12 syntax: a type alias for the claims."""

import jwt
from django.http import JsonResponse

type Claims = dict[str, object]


def profile(request):
    token = request.headers["Authorization"].removeprefix("Bearer ")
    claims: Claims = jwt.decode(token, options={"verify_signature": False})  # expect: RP-L001 CWE-347
    return JsonResponse({"user": f"{claims["sub"]}"})
