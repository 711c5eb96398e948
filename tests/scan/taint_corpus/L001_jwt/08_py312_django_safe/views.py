"""RP-L001 (jwt), safe twin, Python 3.12 syntax: the signature and algorithm are checked."""

import os

import jwt
from django.http import JsonResponse

type Claims = dict[str, object]

SECRET_KEY = os.environ["JWT_SECRET"]


def profile(request):
    token = request.headers["Authorization"].removeprefix("Bearer ")
    claims: Claims = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])  # safe: RP-L001
    return JsonResponse({"user": f"{claims["sub"]}"})
