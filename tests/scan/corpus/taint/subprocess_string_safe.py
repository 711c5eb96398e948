"""Safe twin of subprocess_string_vuln: the program is fixed, the header is only an argument."""

import subprocess


def handler(event, context):
    tool = event["headers"]["x-tool"]
    version = subprocess.check_output(["/usr/bin/printf", "%s", tool])
    argv = ["/usr/bin/file", "--brief", tool]
    subprocess.run(argv, check=True)
    return {"statusCode": 200, "body": version.decode()}
