"""Directory look-ups with python-ldap."""

import ldap
from ldap.filter import escape_filter_chars

BASE_DN = "ou=people,dc=example,dc=com"


def find_user(username):
    conn = ldap.initialize("ldaps://ldap.example.com")
    conn.simple_bind_s()
    flt = "(&(objectClass=person)(uid=" + escape_filter_chars(username) + "))"
    results = conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, flt, ["cn", "mail"])  # safe: RP-T010
    return results[0] if results else None
