"""Assessments of the live platform: the posture audit (and, beside it, the pentest).

``catalog`` holds the audit's controls (``RP-A0NN``), ``audit`` its checks over
a snapshot of the node, ``findings`` the report and its score, and ``report``
renders that report as a table, SARIF or a self-contained HTML page.  The
snapshot is taken inside the node by the control API (``GET
/v1/audit/posture``), so key records, secret dates and the audit trail never
leave it; the CLI only renders the report.  ``pentest/`` is the built-in
penetration test (``ramparts pentest``), one module per probe family.
"""
