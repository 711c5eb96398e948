"""Vulnerable: an AWS access key pair and a private key written into handler code (RP-S001).

The values are AWS's documented example credentials and a truncated key: not real secrets.
"""

AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SIGNING_KEY = """-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw
-----END RSA PRIVATE KEY-----"""


def handler(event, context):
    token = "ghp_4f9Xk2Lq8Zr7Vt1Nw3Yb6Hs5Dm0Pc9Ja2Ke7"
    return {"statusCode": 200, "body": str(len(token + SIGNING_KEY))}
