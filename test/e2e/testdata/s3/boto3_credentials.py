"""Use Coffer's S3 credentials with boto3: an access key and temporary credentials.

TestS3CredentialsBoto3 in s3_credentials_boto3_test.go runs this script with the environment:
  S3_ENDPOINT         URL of the S3 API
  S3_BUCKET           bucket that the access key and the token's principal may write
  KEY_ID, KEY_SECRET  an access key restricted to S3_BUCKET
  WEB_IDENTITY_TOKEN  a mock Keycloak access token whose principal the bucket policy names
  AWS_DEFAULT_REGION

The script prints "ok STEP" or "FAIL STEP" with the error for every step, and exits with
status 1 when a step failed.
"""

import os
import sys
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["S3_ENDPOINT"]
BUCKET = os.environ["S3_BUCKET"]
CONFIG = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})


def s3_client(key_id, secret, token=None):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=CONFIG,
    )


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_error(code, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ClientError as err:
        got = err.response["Error"]["Code"]
        check(got == code, f"error code {got}, expected {code}")
        return
    raise AssertionError(f"the call succeeded, expected {code}")


def round_trip(client, key):
    body = os.urandom(100_000)
    client.put_object(Bucket=BUCKET, Key=key, Body=body)
    got = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    check(got == body, f"{key} read back {len(got)} bytes that differ from the {len(body)} written")


def step_access_key():
    client = s3_client(os.environ["KEY_ID"], os.environ["KEY_SECRET"])
    round_trip(client, "boto3/key.bin")
    expect_error("AccessDenied", client.create_bucket, Bucket="boto3-other")


def assume_role(**extra):
    sts = boto3.client(
        "sts",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="unused",
        aws_secret_access_key="unused",
        config=Config(retries={"max_attempts": 1}),
    )
    result = sts.assume_role_with_web_identity(
        RoleArn="arn:aws:iam::000000000000:role/ci",
        RoleSessionName="boto3",
        WebIdentityToken=os.environ["WEB_IDENTITY_TOKEN"],
        DurationSeconds=900,
        **extra,
    )
    creds = result["Credentials"]
    check(creds["AccessKeyId"].startswith("ASIA"), f"access key {creds['AccessKeyId']} is not an ASIA key")
    return s3_client(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def step_web_identity():
    client = assume_role()
    round_trip(client, "boto3/sts.bin")
    expect_error("AccessDenied", client.delete_object, Bucket=BUCKET, Key="boto3/sts.bin")


def step_session_policy():
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    client = assume_role(Policy=policy)
    client.get_object(Bucket=BUCKET, Key="boto3/sts.bin")["Body"].read()
    expect_error("AccessDenied", client.put_object, Bucket=BUCKET, Key="boto3/denied.bin", Body=b"x")


def step_invalid_token():
    sts = boto3.client("sts", endpoint_url=ENDPOINT, region_name="us-east-1",
                       aws_access_key_id="unused", aws_secret_access_key="unused")
    expect_error("InvalidIdentityToken", sts.assume_role_with_web_identity,
                 RoleArn="arn:aws:iam::000000000000:role/ci", RoleSessionName="boto3",
                 WebIdentityToken="not.a.token")


def main():
    failed = False
    for name, step in [
        ("access_key", step_access_key),
        ("web_identity", step_web_identity),
        ("session_policy", step_session_policy),
        ("invalid_token", step_invalid_token),
    ]:
        try:
            step()
            print(f"ok {name}")
        except Exception:  # noqa: BLE001 - every failure is reported, then the next step runs
            failed = True
            print(f"FAIL {name}")
            traceback.print_exc(file=sys.stdout)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
