"""RP-T009: a FastAPI login checks users against an XML file through auth.UserDirectory."""

from auth import UserDirectory
from fastapi import FastAPI, Form

app = FastAPI()
directory = UserDirectory("/srv/data/users.xml")


@app.post("/login")
def login(username: str = Form(...), password: str = Form(...)):
    return {"ok": directory.check(username, password)}
