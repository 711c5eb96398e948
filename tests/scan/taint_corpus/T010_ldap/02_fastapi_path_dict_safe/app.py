"""RP-T010 (ldap), safe twin: fastapi path request data reaches the sink through a dict."""

import ldap
from fastapi import FastAPI
from ldap.filter import escape_filter_chars

BASE_DN = "ou=people,dc=example,dc=com"
DIRECTORY = ldap.initialize("ldap://ldap.internal")
app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str):
    params = {"value": item_id, "page": 1}
    value = params["value"]
    result = DIRECTORY.search_s(BASE_DN, ldap.SCOPE_SUBTREE, f"(mail={escape_filter_chars(value)})")  # safe: RP-T010
    return {"ok": True}
