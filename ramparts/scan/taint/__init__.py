"""Ramparts' taint rules: attacker data from a source followed into dangerous sinks.

Bandit looks at one call at a time; it cannot tell ``eval("1+1")`` from
``eval(event["body"])``. These rules know where attacker data enters a
serverless app (a Lambda handler's event under any signature, Flask, Django,
FastAPI/Starlette and aiohttp requests, messages read from queues), follow it
through assignments, containers, string building, loops, returns, attribute
stores and calls into the app's own functions and methods, clear what
sanitisers and guards really neutralise, and report it where it reaches a
sink of one of fifteen kinds (RP-T001..RP-T015).

Layout: ``index`` (one file), ``sources`` + ``frameworks/`` (entry points),
``engine`` + ``calls`` (one function's interpretation), ``sinks`` +
``responses`` (sink tables), ``sanitisers`` (what clears what), ``rules``
(ids, severities, messages), ``analysis`` (the whole-program step),
``proof`` (whether a shell command is built only from constants and
neutralised parts, for calibrating bandit's shell findings).
"""

from __future__ import annotations

from ramparts.scan.taint.analysis import run
from ramparts.scan.taint.rules import RULES

__all__ = ["RULES", "run"]
