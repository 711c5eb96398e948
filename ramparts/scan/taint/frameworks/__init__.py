"""Framework models: where each framework hands attacker data to app code."""
