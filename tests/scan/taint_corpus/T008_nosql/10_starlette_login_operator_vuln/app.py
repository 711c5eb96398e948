"""RP-T008: a Starlette login looks the user up with the JSON fields as posted."""

from pymongo import MongoClient
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

USERS = MongoClient("mongodb://mongo:27017")["app"]["users"]


async def login(request):
    creds = await request.json()
    user = USERS.find_one({"user": creds["user"], "pin": creds["pin"]})  # expect: RP-T008 CWE-943
    return JSONResponse({"ok": user is not None})


app = Starlette(routes=[Route("/login", login, methods=["POST"])])
