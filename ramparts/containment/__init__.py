"""Containment: incident-response actions performed on a node, and the playbooks that run them.

``actions`` performs each action through the service that owns the state it
changes (audited once, whoever asked); ``runner`` turns alerts into incidents
and runs the matching playbooks' steps; ``bundle`` builds and checks signed
evidence bundles.  The node wires them; ``ramparts.respond`` holds the parts
that need no node (playbook files, incident records, the quarantine list).
"""
