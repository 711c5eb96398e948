"""RP-L007: API keys are stored by hash and looked up by the hash of the presented key."""

import hashlib

STORED = {}


def key_hash(api_key):
    return hashlib.sha256(api_key.encode()).hexdigest()  # safe: RP-L007


def register(api_key, owner):
    STORED[key_hash(api_key)] = owner


def owner_of(api_key):
    return STORED.get(key_hash(api_key))
