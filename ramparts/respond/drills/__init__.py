"""Drills: rehearse incident response against a throw-away node.

A drill starts its own node (``node.ThrowawayNode``: a temporary data dir, free
loopback ports, ``ramparts up`` as a subprocess; never the operator's node),
installs the scenario's playbook, deploys a small scripted app, runs a scripted
attack and checks that the expected detection fired, that the playbook acted and
that the incident's timeline holds the alert before the actions.  One module per
scenario; ``runner`` runs one and ``history`` keeps the results.
"""
