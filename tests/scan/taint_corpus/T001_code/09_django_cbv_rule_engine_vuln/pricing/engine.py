"""Evaluates the discount conditions a shop admin writes."""

import re

CONDITION = re.compile(r"(qty|total) (<|>|==) [0-9]+")


class RuleEngine:
    def evaluate(self, condition, context):
        return bool(eval(condition, {"__builtins__": {}}, dict(context)))  # expect: RP-T001 CWE-94
