"""Vulnerable: a shell command built at run time (bandit B602) and pickle (B403, B301)."""

import pickle
import subprocess


def handler(event, context):
    name = context.function_name
    subprocess.run("du -sh /tmp/" + name, shell=True, check=True)  # finding: B602
    state = pickle.loads(context.objects.get("state", name))  # finding: B301
    return {"statusCode": 200, "body": str(state)}
