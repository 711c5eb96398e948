"""RP-L007: a Django sign-up view stores the password hash from accounts.hashing."""

from accounts.hashing import hash_password
from django.http import JsonResponse


def sign_up(request):
    record = {"email": request.POST["email"], "hash": hash_password(request.POST["password"])}
    return JsonResponse({"created": record["email"]})
