"""Evaluates the discount conditions a shop admin writes."""

import re

CONDITION = re.compile(r"(qty|total) (<|>|==) [0-9]+")


class RuleEngine:
    def evaluate(self, condition, context):
        if not CONDITION.fullmatch(condition):
            raise ValueError("unsupported condition")
        return bool(eval(condition, {"__builtins__": {}}, dict(context)))  # safe: RP-T001
