"""Assessments of a live node: the posture audit and the built-in penetration test."""
