"""View used by the admin back office."""

import json

import boto3
from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-media/*"}]}
    boto3.client("s3").put_bucket_policy(Bucket="acme-media", Policy=json.dumps(policy))
    out = "policy set"
    return JsonResponse({"result": str(out)})
