"""Safe twin of aws_key_vuln: credentials come from context.secrets; only placeholders inline."""

import uuid

AWS_REGION = "eu-west-1"
REQUEST_ID_FOR_TESTS = "3f2b8c1e-9d4a-4e6b-8f0c-1a2b3c4d5e6f"
EXAMPLE_KEY = "<your-api-key>"
TEMPLATE = "${PAYMENTS_API_KEY}"


def handler(event, context):
    api_key = context.secrets.get("payments-api-key")
    password = context.secrets.get("db-password")
    run_id = str(uuid.uuid4())
    return {"statusCode": 200, "body": str(len(api_key) + len(password)) + run_id}
