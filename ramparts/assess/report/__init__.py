"""Renderings of a posture report (the dict of ``PostureReport.to_dict``).

``table`` prints it with Rich, ``sarif`` makes a SARIF 2.1.0 log, ``html`` a
self-contained page with inline SVG charts.  Each takes the report's JSON, so
the CLI renders what the node computed without recomputing anything.
"""
