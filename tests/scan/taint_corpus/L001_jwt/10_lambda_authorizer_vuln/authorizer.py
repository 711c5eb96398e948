"""RP-L001: an API Gateway token authorizer that reads the caller from the JWT."""

import os

import jwt

JWKS = jwt.PyJWKClient(os.environ.get("JWKS_URL", "https://auth.example.com/.well-known/jwks.json"))


def policy(principal, effect, arn):
    return {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": arn}]},
    }


def handler(event, context):
    token = event["authorizationToken"].removeprefix("Bearer ")
    claims = jwt.decode(token, algorithms=["RS256"], options={"verify_signature": False})  # expect: RP-L001 CWE-347
    return policy(claims["sub"], "Allow", event["methodArn"])
