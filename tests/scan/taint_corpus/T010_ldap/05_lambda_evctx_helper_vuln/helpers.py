"""Helpers shared by the app's views and handlers."""

import ldap

BASE_DN = "ou=people,dc=example,dc=com"
DIRECTORY = ldap.initialize("ldap://ldap.internal")


def process(value):
    """Does the work for the view; the caller passes request data."""
    result = DIRECTORY.search_s(BASE_DN, ldap.SCOPE_SUBTREE, f"(mail={value})")  # expect: RP-T010 CWE-90
