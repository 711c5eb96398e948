"""Handler of the reporting API."""

import boto3
from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    s3 = boto3.client("s3")
    acl = {"bucket": "acme-docs", "grant": "uri=http://acs.amazonaws.com/groups/global/AllUsers"}
    s3.put_object_acl(Bucket=acl["bucket"], Key=val, GrantRead=acl["grant"])
    out = "ok"
    return JsonResponse({"result": str(out)})
