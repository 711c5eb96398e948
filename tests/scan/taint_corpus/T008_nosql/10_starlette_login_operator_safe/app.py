"""RP-T008: a Starlette login looks the user up with the JSON fields as posted."""

from pymongo import MongoClient
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

USERS = MongoClient("mongodb://mongo:27017")["app"]["users"]


async def login(request):
    creds = await request.json()
    if not isinstance(creds.get("user"), str) or not isinstance(creds.get("pin"), str):
        return JSONResponse({"error": "bad request"}, status_code=400)
    user = USERS.find_one({"user": creds["user"], "pin": creds["pin"]})  # safe: RP-T008
    return JSONResponse({"ok": user is not None})


app = Starlette(routes=[Route("/login", login, methods=["POST"])])
