"""RP-L003: public ACLs on stored objects, public presigned uploads, public bucket policies."""

from __future__ import annotations

import pytest

from ramparts.scan.findings import Severity
from tests.scan.logic.conftest import Scan

VULNERABLE = {
    "put_object": """
        import boto3

        s3 = boto3.client("s3")

        def handler(event, context):
            s3.put_object(Bucket="b", Key=event["key"], Body=b"x", ACL="public-read")  # L003
        """,
    "upload_file_extra_args": """
        import boto3

        EXTRA = {"ContentType": "image/png", "ACL": "public-read-write"}

        def store(path):
            boto3.client("s3").upload_file(path, "b", "k", ExtraArgs=EXTRA)  # L003
        """,
    "create_bucket": """
        import boto3

        def make():
            boto3.resource("s3").create_bucket(Bucket="b", ACL="public-read")  # L003
        """,
    "presigned_with_acl": """
        import boto3

        def url(key):
            return boto3.client("s3").generate_presigned_url(  # L003
                "put_object", Params={"Bucket": "b", "Key": key, "ACL": "public-read"})
        """,
    "presigned_post_condition": """
        import boto3

        def form(key):
            return boto3.client("s3").generate_presigned_post(  # L003
                "b", key, Conditions=[["eq", "$acl", "public-read"]])
        """,
    "bucket_policy_principal_star": """
        import json
        import boto3

        POLICY = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*"}]}

        def open_up():
            boto3.client("s3").put_bucket_policy(Bucket="b", Policy=json.dumps(POLICY))  # L003
        """,
    "acl_keyword_on_its_own_line": """
        import boto3

        def publish(key, body):
            boto3.client("s3").put_object(
                Bucket="site",
                Key=key,
                Body=body,
                ACL="public-read-write",  # L003
            )
        """,
    "policy_from_a_builder_function": """
        import json
        import boto3

        def open_policy(bucket):
            return {"Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": "*"},  # L003
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }]}

        def provision(bucket):
            policy = json.dumps(open_policy(bucket))
            boto3.client("s3").put_bucket_policy(Bucket=bucket, Policy=policy)
        """,
}

# second adversarial review (issue 16, F9): grants, ACL documents, ** arguments, list principals
VULNERABLE.update({
    "acl_in_a_literal_dict_spread": """
        import boto3

        s3 = boto3.client("s3")

        def public_args():
            return {"ACL": "public-read"}

        def handler(event, context):
            s3.put_object(Bucket="b", Key="k", Body=b"x", **{"ACL": "public-read"})  # L003
            s3.put_object(Bucket="b", Key="k", Body=b"x", **public_args())  # L003
        """,
    "grants_to_all_users": """
        import boto3

        s3 = boto3.client("s3")
        ALL = "uri=http://acs.amazonaws.com/groups/global/AllUsers"
        AUTH = "uri=http://acs.amazonaws.com/groups/global/AuthenticatedUsers"

        def handler(event, context):
            s3.put_object(Bucket="b", Key="k", Body=b"x", GrantRead=ALL)  # L003
            s3.put_object_acl(Bucket="b", Key="k", GrantFullControl=AUTH)  # L003
        """,
    "access_control_policy_document": """
        import boto3

        def share(bucket):
            boto3.client("s3").put_bucket_acl(Bucket=bucket, AccessControlPolicy={  # L003
                "Grants": [{"Grantee": {"Type": "Group",
                                        "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                            "Permission": "READ"}],
                "Owner": {"ID": "x"}})
        """,
    "policy_with_a_list_principal": """
        import json
        import boto3

        def share(bucket):
            boto3.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps({  # L003
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]},
                               "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}))
        """,
    "public_access_block_off": """
        import boto3

        def open_up(bucket):
            boto3.client("s3").put_public_access_block(  # L003
                Bucket=bucket, PublicAccessBlockConfiguration={
                    "BlockPublicAcls": False, "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        """,
})

SAFE = {
    "grant_to_one_account_and_full_access_block": """
        import boto3

        s3 = boto3.client("s3")

        def handler(event, context):
            s3.put_object(Bucket="b", Key="k", Body=b"x", GrantRead="id=0123456789abcdef")
            s3.put_object(Bucket="b", Key="k", Body=b"x", **{"ACL": "private"})
            s3.put_public_access_block(Bucket="b", PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        """,
    "private_object": """
        import boto3

        def store(key, body):
            boto3.client("s3").put_object(Bucket="b", Key=key, Body=body, ACL="private")
        """,
    "presigned_get": """
        import boto3

        def url(key):
            return boto3.client("s3").generate_presigned_url(
                "get_object", Params={"Bucket": "b", "Key": key}, ExpiresIn=300)
        """,
    "policy_with_condition": """
        import json
        import boto3

        POLICY = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                 "Resource": "arn:aws:s3:::b/*",
                                 "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}]}

        def restrict():
            boto3.client("s3").put_bucket_policy(Bucket="b", Policy=json.dumps(POLICY))
        """,
    "policy_for_one_account": """
        import json
        import boto3

        def grant():
            boto3.client("s3").put_bucket_policy(Bucket="b", Policy=json.dumps({"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                 "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}))
        """,
    "builder_policy_with_condition": """
        import json
        import boto3

        def vpc_policy(bucket):
            return {"Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
            }]}

        def provision(bucket):
            policy = json.dumps(vpc_policy(bucket))
            boto3.client("s3").put_bucket_policy(Bucket=bucket, Policy=policy)
        """,
}


@pytest.mark.parametrize("name", sorted(VULNERABLE))
def test_public_acl_is_found(scan: Scan, name: str) -> None:
    got, want, findings = scan(VULNERABLE[name])
    assert want and got == want
    assert all(f.cwe == "CWE-732" for f in findings)


@pytest.mark.parametrize("name", sorted(SAFE))
def test_private_storage_is_clean(scan: Scan, name: str) -> None:
    got, _, _ = scan(SAFE[name])
    assert got == set()


def test_a_disabled_public_access_block_is_medium(scan: Scan) -> None:
    _, _, findings = scan(VULNERABLE["public_access_block_off"])
    assert [(f.severity, "BlockPublicAcls" in f.message) for f in findings] == [
        (Severity.MEDIUM, True)]
