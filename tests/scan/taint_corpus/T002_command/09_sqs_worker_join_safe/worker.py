"""RP-T002: a worker turns queued transcode jobs into ffmpeg command lines."""

import json
import subprocess

import boto3

QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/transcode"
SQS = boto3.client("sqs")


def build_args(job):
    args = ["ffmpeg", "-i", job["source"]]
    for option, value in job.get("options", {}).items():
        args += [f"-{option}", str(value)]
    args.append(f"/tmp/out/{job['id']}.mp4")
    return args


def main():
    while True:
        batch = SQS.receive_message(QueueUrl=QUEUE_URL, WaitTimeSeconds=20)
        for message in batch.get("Messages", []):
            job = json.loads(message["Body"])
            args = build_args(job)
            subprocess.run(args, check=False)  # safe: RP-T002
            SQS.delete_message(QueueUrl=QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])


if __name__ == "__main__":
    main()
