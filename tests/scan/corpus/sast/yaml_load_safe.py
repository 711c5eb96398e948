"""Safe twin of yaml_load_vuln: yaml.safe_load."""

import yaml


def handler(event, context):
    config = yaml.safe_load(event["body"])
    return {"statusCode": 200, "body": str(config)}
