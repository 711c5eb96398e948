"""Vulnerable: yaml.load without a safe loader (bandit B506, reported as CWE-502)."""

import yaml


def handler(event, context):
    config = yaml.load(event["body"], Loader=yaml.Loader)  # finding: B506
    return {"statusCode": 200, "body": str(config)}
