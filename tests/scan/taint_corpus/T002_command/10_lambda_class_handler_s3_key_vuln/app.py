"""RP-T002: a class-based Lambda handler makes thumbnails of uploaded S3 objects."""

import subprocess
from urllib.parse import unquote_plus


class Thumbnailer:
    def __init__(self, size="256x256"):
        self.size = size

    def __call__(self, event, context):
        for record in event["Records"]:
            key = unquote_plus(record["s3"]["object"]["key"])
            self.convert(f"/tmp/{key}")
        return {"ok": True}

    def convert(self, path):
        subprocess.run(f"convert {path} -resize {self.size} {path}.thumb.png", shell=True)  # expect: RP-T002 CWE-78


handler = Thumbnailer()
