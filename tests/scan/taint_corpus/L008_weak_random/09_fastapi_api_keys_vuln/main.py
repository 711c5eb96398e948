"""RP-L008: a FastAPI endpoint issues API keys for new integrations."""

import random
import string

from fastapi import FastAPI

app = FastAPI()
ALPHABET = string.ascii_letters + string.digits


@app.post("/integrations/{name}/keys")
def issue_key(name: str):
    api_key = "".join(random.choices(ALPHABET, k=40))  # expect: RP-L008 CWE-330
    return {"integration": name, "api_key": api_key}
