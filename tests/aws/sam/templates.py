"""SAM templates written the way AWS documents them (sam init's quick starts,
serverless-patterns), with the handler code each one ships.  Shared by the
conversion tests and the real-node tests."""

from __future__ import annotations

HELLO_WORLD = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: >
  sam-app

  Sample SAM Template for sam-app

Globals:
  Function:
    Timeout: 3
    MemorySize: 128

Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.11
      Architectures:
        - x86_64
      Events:
        HelloWorld:
          Type: Api
          Properties:
            Path: /hello
            Method: get

Outputs:
  HelloWorldApi:
    Description: "API Gateway endpoint URL for Prod stage for Hello World function"
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/"
  HelloWorldFunction:
    Description: "Hello World Lambda Function ARN"
    Value: !GetAtt HelloWorldFunction.Arn
"""

HELLO_WORLD_CODE = {
    "hello_world/__init__.py": "",
    "hello_world/app.py": '''
import json


def lambda_handler(event, context):
    """Sample pure Lambda function (sam init's hello-world, without requests)."""
    return {
        "statusCode": 200,
        "body": json.dumps({
            "message": "hello world",
            "method": event["httpMethod"],
            "path": event["path"],
            "resource": event["resource"],
        }),
    }
''',
}

HTTP_API = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Handler: app.handler
    CodeUri: src/
Resources:
  ItemsFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        GetItem:
          Type: HttpApi
          Properties:
            Path: /things/{id}
            Method: GET
  CatchAllFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: catchall.handler
      Events:
        Everything:
          Type: HttpApi
"""

HTTP_API_CODE = {
    "src/app.py": '''
import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({
        "version": event["version"],
        "routeKey": event["routeKey"],
        "id": event["pathParameters"]["id"],
    })}
''',
    "src/catchall.py": '''
def handler(event, context):
    return {"statusCode": 200, "body": event["rawPath"]}
''',
}

SQS_CONSUMER = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: SQS to Lambda with partial batch responses
Resources:
  OrdersQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: orders-queue
      VisibilityTimeout: 60
  ConsumerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: consumer/
      Handler: app.lambda_handler
      Runtime: python3.11
      Timeout: 15
      Events:
        OrdersEvent:
          Type: SQS
          Properties:
            Queue: !GetAtt OrdersQueue.Arn
            BatchSize: 10
            MaximumBatchingWindowInSeconds: 1
            FunctionResponseTypes:
              - ReportBatchItemFailures
"""

SQS_CONSUMER_CODE = {
    "consumer/app.py": '''
import json


def lambda_handler(event, context):
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        if body.get("fail"):
            print("failed", record["messageId"], record["attributes"]["ApproximateReceiveCount"])
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            print("processed", body["order"])
    return {"batchItemFailures": failures}
''',
}

DYNAMODB_CRUD = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: API Gateway REST API to Lambda to DynamoDB
Parameters:
  TableSuffix:
    Type: String
    Default: items
Resources:
  ItemsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-${TableSuffix}"
      AttributeDefinitions:
        - AttributeName: id
          AttributeType: S
      KeySchema:
        - AttributeName: id
          KeyType: HASH
      BillingMode: PAY_PER_REQUEST
  CrudFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.lambda_handler
      Runtime: python3.11
      Environment:
        Variables:
          TABLE_NAME: !Ref ItemsTable
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref ItemsTable
      Events:
        PutItem:
          Type: Api
          Properties:
            Path: /items
            Method: put
        GetItem:
          Type: Api
          Properties:
            Path: /items/{id}
            Method: get
"""

DYNAMODB_CRUD_CODE = {
    "src/app.py": '''
import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def lambda_handler(event, context):
    if event["httpMethod"] == "PUT":
        item = json.loads(event["body"])
        table.put_item(Item=item)
        return {"statusCode": 200, "body": json.dumps({"put": item["id"]})}
    found = table.get_item(Key={"id": event["pathParameters"]["id"]}).get("Item")
    if found is None:
        return {"statusCode": 404, "body": json.dumps({"message": "not found"})}
    return {"statusCode": 200, "body": json.dumps(found)}
''',
}

S3_PROCESSOR = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: S3 upload processor
Resources:
  UploadBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-uploads"
  ProcessorFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: processor/
      Handler: app.handler
      Runtime: python3.11
      Policies:
        - S3ReadPolicy:
            BucketName: !Sub "${AWS::StackName}-uploads"
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref UploadBucket
            Events: s3:ObjectCreated:*
            Filter:
              S3Key:
                Rules:
                  - Name: prefix
                    Value: incoming/
"""

S3_PROCESSOR_CODE = {
    "processor/app.py": '''
import urllib.parse

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    record = event["Records"][0]
    bucket = record["s3"]["bucket"]["name"]
    key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    print("processed", key, len(body))
    return {"key": key, "size": len(body)}
''',
}

SCHEDULE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  NightlyFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: jobs/
      Handler: nightly.handler
      Runtime: python3.11
      Events:
        Every5:
          Type: Schedule
          Properties:
            Schedule: rate(5 minutes)
            Description: every five minutes
        Weekdays:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0/2 * ? * MON-FRI *)
"""

SCHEDULE_CODE = {
    "jobs/nightly.py": '''
def handler(event, context):
    return {"source": event["source"], "detail-type": event["detail-type"]}
''',
}

SNS_FANOUT = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: SNS fan-out to two subscribers
Resources:
  OrderTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: order-events
  PublisherFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: publisher.handler
      Runtime: python3.11
      Environment:
        Variables:
          TOPIC_ARN: !Ref OrderTopic
      Policies:
        - SNSPublishMessagePolicy:
            TopicName: !GetAtt OrderTopic.TopicName
  BillingFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: subscriber.handler
      Runtime: python3.11
      Events:
        Orders:
          Type: SNS
          Properties:
            Topic: !Ref OrderTopic
  ShippingFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: subscriber.handler
      Runtime: python3.11
      Events:
        Orders:
          Type: SNS
          Properties:
            Topic: !Ref OrderTopic
"""

SNS_FANOUT_CODE = {
    "src/publisher.py": '''
import json
import os

import boto3

sns = boto3.client("sns")


def handler(event, context):
    sns.publish(TopicArn=os.environ["TOPIC_ARN"], Message=json.dumps(event))
    return {"published": True}
''',
    "src/subscriber.py": '''
def handler(event, context):
    for record in event["Records"]:
        print("got", record["body"] if "body" in record else record["Sns"]["Message"])
    return {"count": len(event["Records"])}
''',
}

SECRETS = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  WebhookFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: webhook/
      Handler: app.handler
      Runtime: python3.11
      Environment:
        Variables:
          WEBHOOK_SECRET: '{{resolve:secretsmanager:webhook-signing:SecretString}}'
          DB_PASSWORD: '{{resolve:ssm-secure:/shop/db/password:3}}'
          MODE: live
"""

SECRETS_CODE = {
    "webhook/app.py": '''
import hashlib
import os


def handler(event, context):
    digest = hashlib.sha256(os.environ["WEBHOOK_SECRET"].encode()).hexdigest()
    db = hashlib.sha256(os.environ["DB_PASSWORD"].encode()).hexdigest()
    return {"webhook": digest, "db": db, "mode": os.environ["MODE"]}
''',
}
