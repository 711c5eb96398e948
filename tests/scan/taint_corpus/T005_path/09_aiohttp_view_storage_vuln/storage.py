"""Blob storage on the local disk."""

import os


def read_blob(root, name):
    full = os.path.join(root, name)
    with open(full, "rb") as fh:  # expect: RP-T005 CWE-22
        return fh.read()
