"""uploads/images/* created: make a 'thumbnail' (S3-style records)."""

import urllib.parse


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        data = context.objects.get(bucket, key)
        thumb = data[:64]  # a real app would resize the image here
        context.objects.put("thumbnails", key, thumb, content_type="application/octet-stream")
        print(f"thumbnail of {key}: {len(data)} -> {len(thumb)} bytes")
