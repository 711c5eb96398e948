"""Directory look-ups with python-ldap."""

import ldap

BASE_DN = "ou=people,dc=example,dc=com"


def find_user(username):
    conn = ldap.initialize("ldaps://ldap.example.com")
    conn.simple_bind_s()
    flt = "(&(objectClass=person)(uid=" + username + "))"
    results = conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, flt, ["cn", "mail"])  # expect: RP-T010 CWE-90
    return results[0] if results else None
