"""The WAF's content inspection: decoded request values against YAML rules, anomaly scored.

Where it sits: the gateway runs it after the body is read and validated,
before the handler (ramparts.gateway.app).  ``request`` extracts and decodes
what is inspected, ``rules`` loads the rule files, ``detectors`` holds the
named detectors (libinjection and ours), ``engine`` scores a request and
``cache`` keeps one compiled ``Waf`` per app version.
"""
