"""Blob storage on the local disk."""

import os


def read_blob(root, name):
    full = os.path.join(root, name)
    full = os.path.realpath(full)
    if os.path.commonpath([os.path.realpath(root), full]) != os.path.realpath(root):
        raise PermissionError("outside the attachment store")
    with open(full, "rb") as fh:  # safe: RP-T005
        return fh.read()
