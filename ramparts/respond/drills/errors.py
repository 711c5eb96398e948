"""Errors of the drills package (under ``RampartsError``)."""

from __future__ import annotations

from ramparts.errors import RampartsError


class DrillError(RampartsError):
    """A drill could not be run (its node did not start, an unknown scenario, ...)."""

    code = "drill_failed"


class UnknownScenario(DrillError):
    """The scenario named on the command line does not exist."""

    code = "unknown_scenario"


class HistoryError(DrillError):
    """The drill history file cannot be read or written."""

    code = "drill_history_unreadable"
