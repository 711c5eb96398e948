"""AWS's documented IAM evaluation examples, as ``ramparts policy eval`` cases.

Each entry is (case, expected answer).  Policies and requests follow the
examples of the IAM User Guide: "Policy evaluation for requests within a
single account" (Carlos and the logs bucket), "The difference between
explicit and implicit denies" (AllowGetList/DenyReports), the condition
operator reference (missing keys, IfExists, Null, set operators on
aws:TagKeys), the example policies (source IP, date window, home folder
with ${aws:username}, deny everything but IAM without MFA).
"""

from __future__ import annotations

from typing import Any

CARLOS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowS3ListRead",
            "Effect": "Allow",
            "Action": [
                "s3:GetBucketLocation",
                "s3:GetAccountPublicAccessBlock",
                "s3:ListAccessPoints",
                "s3:ListAllMyBuckets",
            ],
            "Resource": "arn:aws:s3:::*",
        },
        {
            "Sid": "AllowS3Self",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [
                "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*",
                "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar",
            ],
        },
        {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
    ],
}

GET_LIST_NO_REPORTS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowGetList",
            "Effect": "Allow",
            "Action": ["iam:Get*", "iam:List*"],
            "Resource": "*",
        },
        {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"},
    ],
}
ALLOW_REPORT = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Action": "iam:GenerateCredentialReport", "Resource": "*"},
}
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"},
}

SOURCE_IP = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {
            "NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]},
            "Bool": {"aws:ViaAWSService": "false"},
        },
    },
}

DATE_WINDOW = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Action": "dynamodb:*",
        "Resource": "*",
        "Condition": {
            "DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
            "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"},
        },
    },
}


def home(version: str) -> dict[str, Any]:
    return {
        "Version": version,
        "Statement": {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*",
        },
    }


NO_MFA = {
    "Version": "2012-10-17",
    "Statement": [
        ALLOW_ALL["Statement"],
        {
            "Sid": "DenyAllExceptIamWithoutMFA",
            "Effect": "Deny",
            "NotAction": "iam:*",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ],
}


def tags(op: str, keys: list[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": "*",
            "Condition": {op: {"aws:TagKeys": keys}},
        },
    }


TEMP_CREDS_ONLY = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Action": "ec2:*",
        "Resource": "*",
        "Condition": {"Null": {"aws:TokenIssueTime": "false"}},
    },
}
DEPT_TAG = {
    "Version": "2012-10-17",
    "Statement": [
        ALLOW_ALL["Statement"],
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalTag/department": "engineering"}},
        },
    ],
}
SOURCE_ARN = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Action": "sns:Publish",
        "Resource": "*",
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::amzn-s3-demo-bucket*"}},
    },
}
MAX_KEYS = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
        "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}},
    },
}

S3 = "arn:aws:s3:::"


def case(
    policies: list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {"policies": policies, "action": action, "resource": resource, "context": context or {}}


CASES: list[tuple[dict[str, Any], str]] = [
    # Carlos tries to save a file to the -logs bucket: the DenyS3Logs statement wins
    (
        case([CARLOS], "s3:PutObject", f"{S3}amzn-s3-demo-bucket-carlossalazar-logs/f.txt"),
        "ExplicitlyDenied",
    ),
    (case([CARLOS], "s3:PutObject", f"{S3}amzn-s3-demo-bucket-carlossalazar/f.txt"), "Allowed"),
    (case([CARLOS], "s3:ListAllMyBuckets", f"{S3}amzn-s3-demo-bucket-other"), "Allowed"),
    (case([CARLOS], "s3:PutObject", f"{S3}amzn-s3-demo-bucket-other/f.txt"), "ImplicitlyDenied"),
    # segment boundary: bucket/* is not bucket-other/*
    (
        case([CARLOS], "s3:GetObject", f"{S3}amzn-s3-demo-bucket-carlossalazarx/f"),
        "ImplicitlyDenied",
    ),
    # AllowGetList / DenyReports
    (case([GET_LIST_NO_REPORTS], "iam:GetUser", "arn:aws:iam::111122223333:user/bob"), "Allowed"),
    (case([GET_LIST_NO_REPORTS], "iam:CreatePolicy", "*"), "ImplicitlyDenied"),
    (case([GET_LIST_NO_REPORTS], "iam:GetOrganizationsAccessReport", "*"), "ExplicitlyDenied"),
    # another policy granting a report does not beat the explicit deny
    (
        case([GET_LIST_NO_REPORTS, ALLOW_REPORT], "iam:GenerateCredentialReport", "*"),
        "ExplicitlyDenied",
    ),
    (case([ALLOW_REPORT], "iam:GenerateCredentialReport", "*"), "Allowed"),
    # action names are case-insensitive
    (case([GET_LIST_NO_REPORTS], "IAM:listroles", "*"), "Allowed"),
    # deny outside the corporate ranges unless an AWS service calls on your behalf
    (
        case(
            [ALLOW_ALL, SOURCE_IP],
            "s3:GetObject",
            f"{S3}b/k",
            {"aws:SourceIp": "203.0.113.5", "aws:ViaAWSService": "false"},
        ),
        "Allowed",
    ),
    (
        case(
            [ALLOW_ALL, SOURCE_IP],
            "s3:GetObject",
            f"{S3}b/k",
            {"aws:SourceIp": "198.51.100.7", "aws:ViaAWSService": "false"},
        ),
        "ExplicitlyDenied",
    ),
    (
        case(
            [ALLOW_ALL, SOURCE_IP],
            "s3:GetObject",
            f"{S3}b/k",
            {"aws:SourceIp": "198.51.100.7", "aws:ViaAWSService": "true"},
        ),
        "Allowed",
    ),
    # context keys are case-insensitive
    (
        case(
            [ALLOW_ALL, SOURCE_IP],
            "s3:GetObject",
            f"{S3}b/k",
            {"AWS:SOURCEIP": "198.51.100.7", "aws:viaawsservice": False},
        ),
        "ExplicitlyDenied",
    ),
    # a date window on aws:CurrentTime
    (
        case([DATE_WINDOW], "dynamodb:GetItem", "*", {"aws:CurrentTime": "2020-05-01T12:00:00Z"}),
        "Allowed",
    ),
    (
        case([DATE_WINDOW], "dynamodb:GetItem", "*", {"aws:CurrentTime": "2021-05-01T12:00:00Z"}),
        "ImplicitlyDenied",
    ),
    (case([DATE_WINDOW], "dynamodb:GetItem", "*"), "ImplicitlyDenied"),
    # ${aws:username} in a 2012-10-17 policy: each user their own folder
    (
        case(
            [home("2012-10-17")],
            "s3:GetObject",
            f"{S3}amzn-s3-demo-bucket/home/david/a.txt",
            {"aws:username": "david"},
        ),
        "Allowed",
    ),
    (
        case(
            [home("2012-10-17")],
            "s3:GetObject",
            f"{S3}amzn-s3-demo-bucket/home/maria/a.txt",
            {"aws:username": "david"},
        ),
        "ImplicitlyDenied",
    ),
    (
        case([home("2012-10-17")], "s3:GetObject", f"{S3}amzn-s3-demo-bucket/home/david/a.txt"),
        "ImplicitlyDenied",
    ),
    # ... while 2008-10-17 reads ${...} as plain text
    (
        case(
            [home("2008-10-17")],
            "s3:GetObject",
            f"{S3}amzn-s3-demo-bucket/home/david/a.txt",
            {"aws:username": "david"},
        ),
        "ImplicitlyDenied",
    ),
    (
        case(
            [home("2008-10-17")],
            "s3:GetObject",
            f"{S3}amzn-s3-demo-bucket/home/${{aws:username}}/a.txt",
        ),
        "Allowed",
    ),
    # deny everything except IAM without MFA (BoolIfExists, NotAction)
    (case([NO_MFA], "s3:ListBucket", f"{S3}b"), "ExplicitlyDenied"),
    (case([NO_MFA], "iam:ListUsers", "*"), "Allowed"),
    (case([NO_MFA], "s3:ListBucket", f"{S3}b", {"aws:MultiFactorAuthPresent": "true"}), "Allowed"),
    (
        case([NO_MFA], "s3:ListBucket", f"{S3}b", {"aws:MultiFactorAuthPresent": "false"}),
        "ExplicitlyDenied",
    ),
    # ForAllValues: every requested tag key must be allowed; true when no keys are sent
    (
        case(
            [tags("ForAllValues:StringEquals", ["environment", "cost-center"])],
            "ec2:CreateTags",
            "*",
            {"aws:TagKeys": ["environment"]},
        ),
        "Allowed",
    ),
    (
        case(
            [tags("ForAllValues:StringEquals", ["environment", "cost-center"])],
            "ec2:CreateTags",
            "*",
            {"aws:TagKeys": ["environment", "owner"]},
        ),
        "ImplicitlyDenied",
    ),
    (
        case(
            [tags("ForAllValues:StringEquals", ["environment", "cost-center"])],
            "ec2:CreateTags",
            "*",
        ),
        "Allowed",
    ),
    # ForAnyValue: at least one; false when no keys are sent
    (
        case(
            [tags("ForAnyValue:StringEquals", ["environment"])],
            "ec2:CreateTags",
            "*",
            {"aws:TagKeys": ["environment", "owner"]},
        ),
        "Allowed",
    ),
    (
        case(
            [tags("ForAnyValue:StringEquals", ["environment"])],
            "ec2:CreateTags",
            "*",
            {"aws:TagKeys": ["owner"]},
        ),
        "ImplicitlyDenied",
    ),
    (
        case([tags("ForAnyValue:StringEquals", ["environment"])], "ec2:CreateTags", "*"),
        "ImplicitlyDenied",
    ),
    # Null: only temporary credentials (aws:TokenIssueTime present)
    (
        case(
            [TEMP_CREDS_ONLY],
            "ec2:RunInstances",
            "*",
            {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"},
        ),
        "Allowed",
    ),
    (case([TEMP_CREDS_ONLY], "ec2:RunInstances", "*"), "ImplicitlyDenied"),
    # a negated operator is true when the key is missing
    (case([DEPT_TAG], "s3:GetObject", f"{S3}b/k"), "ExplicitlyDenied"),
    (
        case(
            [DEPT_TAG], "s3:GetObject", f"{S3}b/k", {"aws:PrincipalTag/department": "engineering"}
        ),
        "Allowed",
    ),
    # ArnLike on aws:SourceArn
    (
        case(
            [SOURCE_ARN],
            "sns:Publish",
            "arn:aws:sns:us-east-1:111122223333:t",
            {"aws:SourceArn": "arn:aws:s3:::amzn-s3-demo-bucket-1"},
        ),
        "Allowed",
    ),
    (
        case(
            [SOURCE_ARN],
            "sns:Publish",
            "arn:aws:sns:us-east-1:111122223333:t",
            {"aws:SourceArn": "arn:aws:s3:::other"},
        ),
        "ImplicitlyDenied",
    ),
    # numeric conditions
    (
        case([MAX_KEYS], "s3:ListBucket", f"{S3}amzn-s3-demo-bucket", {"s3:max-keys": "5"}),
        "Allowed",
    ),
    (
        case([MAX_KEYS], "s3:ListBucket", f"{S3}amzn-s3-demo-bucket", {"s3:max-keys": "11"}),
        "ImplicitlyDenied",
    ),
    # resources are case-sensitive
    (
        case([CARLOS], "s3:GetObject", f"{S3}AMZN-s3-demo-bucket-carlossalazar/f.txt"),
        "ImplicitlyDenied",
    ),
    # no policies: implicit deny
    (case([], "s3:GetObject", f"{S3}b/k"), "ImplicitlyDenied"),
]
