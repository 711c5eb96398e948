"""RP-T010 (ldap), vulnerable: fastapi path request data reaches the sink through a dict."""

import ldap
from fastapi import FastAPI

BASE_DN = "ou=people,dc=example,dc=com"
DIRECTORY = ldap.initialize("ldap://ldap.internal")
app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    params = {"value": item_id, "page": 1}
    value = params["value"]
    result = DIRECTORY.search_s(BASE_DN, ldap.SCOPE_SUBTREE, f"(mail={value})")  # expect: RP-T010 CWE-90
    return {"ok": True}
