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
    key = JWKS.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="orders-api")  # safe: RP-L001
    return policy(claims["sub"], "Allow", event["methodArn"])
