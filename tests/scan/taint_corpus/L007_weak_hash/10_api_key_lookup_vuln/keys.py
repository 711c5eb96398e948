"""RP-L007: API keys are stored by hash and looked up by the hash of the presented key."""

import hashlib

STORED = {}


def key_hash(api_key):
    return hashlib.md5(api_key.encode()).hexdigest()  # expect: RP-L007 CWE-328


def register(api_key, owner):
    STORED[key_hash(api_key)] = owner


def owner_of(api_key):
    return STORED.get(key_hash(api_key))
