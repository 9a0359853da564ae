"""Drive Coffer's S3 API with boto3 in its default configuration.

TestS3Boto3 in s3_boto3_test.go runs this script with the environment:
  S3_ENDPOINT    URL of the S3 API, http:// or https://
  S3_BUCKET      bucket to create and use
  S3_WORK_DIR    folder for the files that upload_file and download_file use
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION
  AWS_CA_BUNDLE  the server's test CA, set for https only

boto3 1.36 and later send PutObject and UploadPart bodies over https as aws-chunked with a
CRC32 trailer, and over http as plain bodies with an x-amz-checksum-crc32 header.

The script runs every step, prints "ok STEP" or "FAIL STEP" with the error and the last
requests boto3 sent, and exits with status 1 when a step failed.
"""

import base64
import hashlib
import os
import sys
import traceback
import zlib

import boto3
import botocore
import requests
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

MIB = 1024 * 1024
ENDPOINT = os.environ["S3_ENDPOINT"]
BUCKET = os.environ["S3_BUCKET"]
WORK_DIR = os.environ["S3_WORK_DIR"]
# requests checks certificates against the test CA over https.
VERIFY = os.environ.get("AWS_CA_BUNDLE") or True

# The last requests boto3 sent, printed when a step fails.
sent_requests = []


def record_request(request, **_):
    headers = "".join(f"    {name}: {value}\n" for name, value in request.headers.items())
    sent_requests.append(f"  {request.method} {request.url}\n{headers}")
    del sent_requests[:-4]


def new_client():
    client = boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    client.meta.events.register("before-send.s3", record_request)
    return client


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def quoted_md5(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def multipart_etag(*parts):
    digests = b"".join(hashlib.md5(part).digest() for part in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def crc32_base64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def step_put_get_head(s3):
    data = os.urandom(1000)
    put = s3.put_object(Bucket=BUCKET, Key="boto3/object.bin", Body=data)
    check(put["ETag"] == quoted_md5(data), f"put_object ETag {put['ETag']}, expected {quoted_md5(data)}")

    got = s3.get_object(Bucket=BUCKET, Key="boto3/object.bin")["Body"].read()
    check(got == data, f"get_object returned {len(got)} bytes that differ from the {len(data)} put")

    head = s3.head_object(Bucket=BUCKET, Key="boto3/object.bin")
    check(head["ContentLength"] == len(data), f"head_object ContentLength {head['ContentLength']}, expected {len(data)}")
    check(head["ETag"] == quoted_md5(data), f"head_object ETag {head['ETag']}, expected {quoted_md5(data)}")


def step_copy_and_list(s3):
    copied = s3.copy_object(Bucket=BUCKET, Key="boto3/copy.bin", CopySource={"Bucket": BUCKET, "Key": "boto3/object.bin"})
    original = s3.get_object(Bucket=BUCKET, Key="boto3/object.bin")["Body"].read()
    copy = s3.get_object(Bucket=BUCKET, Key="boto3/copy.bin")["Body"].read()
    check(copy == original, "copy_object target differs from its source")
    etag = copied["CopyObjectResult"]["ETag"]
    check(etag == quoted_md5(original), f"copy_object ETag {etag}, expected {quoted_md5(original)}")

    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="boto3/")
    keys = [item["Key"] for item in listing.get("Contents", [])]
    check(keys == ["boto3/copy.bin", "boto3/object.bin"], f"list_objects_v2 keys {keys}")
    check(listing["KeyCount"] == 2, f"list_objects_v2 KeyCount {listing['KeyCount']}, expected 2")
    check(listing["IsTruncated"] is False, "list_objects_v2 IsTruncated is not false")


def step_delete(s3):
    s3.delete_object(Bucket=BUCKET, Key="boto3/copy.bin")
    try:
        s3.head_object(Bucket=BUCKET, Key="boto3/copy.bin")
    except botocore.exceptions.ClientError as error:
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        check(status == 404, f"head_object of a deleted key returned {status}, expected 404")
    else:
        raise AssertionError("head_object of a deleted key succeeded")
    # Deleting a missing key succeeds, as on S3.
    deleted = s3.delete_object(Bucket=BUCKET, Key="boto3/copy.bin")
    status = deleted["ResponseMetadata"]["HTTPStatusCode"]
    check(status == 204, f"delete_object of a missing key returned {status}, expected 204")


def step_multipart(s3):
    parts = [os.urandom(5 * MIB), os.urandom(1 * MIB)]
    key = "boto3/multipart.bin"
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    completed = []
    for number, part in enumerate(parts, start=1):
        uploaded = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=part)
        check(uploaded["ETag"] == quoted_md5(part), f"upload_part {number} ETag {uploaded['ETag']}, expected {quoted_md5(part)}")
        entry = {"ETag": uploaded["ETag"], "PartNumber": number}
        if "ChecksumCRC32" in uploaded:
            entry["ChecksumCRC32"] = uploaded["ChecksumCRC32"]
        completed.append(entry)

    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": completed})
    check(done["ETag"] == multipart_etag(*parts), f"complete_multipart_upload ETag {done['ETag']}, expected {multipart_etag(*parts)}")
    got = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    check(got == b"".join(parts), "multipart object differs from its parts")


def step_upload_download_file(s3):
    source = os.path.join(WORK_DIR, "upload.bin")
    target = os.path.join(WORK_DIR, "download.bin")
    with open(source, "wb") as f:
        for _ in range(20):
            f.write(os.urandom(MIB))
    config = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB)

    s3.upload_file(source, BUCKET, "boto3/20mib.bin", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="boto3/20mib.bin")
    check(head["ContentLength"] == 20 * MIB, f"head_object ContentLength {head['ContentLength']}, expected {20 * MIB}")
    with open(source, "rb") as f:
        parts = [f.read(8 * MIB), f.read(8 * MIB), f.read()]
    check(head["ETag"] == multipart_etag(*parts), f"ETag {head['ETag']}, expected {multipart_etag(*parts)}")

    s3.download_file(BUCKET, "boto3/20mib.bin", target, Config=config)
    check(file_sha256(target) == file_sha256(source), "download_file wrote bytes that differ from the upload")
    os.remove(source)
    os.remove(target)


def step_presigned_get(s3):
    data = os.urandom(4096)
    s3.put_object(Bucket=BUCKET, Key="boto3/presigned-get.bin", Body=data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "boto3/presigned-get.bin"}, ExpiresIn=600)
    response = requests.get(url, verify=VERIFY, timeout=60)
    check(response.status_code == 200, f"GET {url} returned {response.status_code}: {response.text[:2000]}")
    check(response.content == data, f"GET {url} returned {len(response.content)} bytes that differ from the object")


def step_presigned_put(s3):
    data = os.urandom(4096)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "boto3/presigned-put.bin"}, ExpiresIn=600)
    response = requests.put(url, data=data, verify=VERIFY, timeout=60)
    check(response.status_code == 200, f"PUT {url} returned {response.status_code}: {response.text[:2000]}")
    check(response.headers.get("ETag") == quoted_md5(data), f"PUT ETag {response.headers.get('ETag')}, expected {quoted_md5(data)}")
    got = s3.get_object(Bucket=BUCKET, Key="boto3/presigned-put.bin")["Body"].read()
    check(got == data, "object stored through a presigned PUT differs from the request body")


def step_checksum_mode(s3):
    data = os.urandom(MIB)
    s3.put_object(Bucket=BUCKET, Key="boto3/checksum.bin", Body=data)

    # botocore checks the returned x-amz-checksum-crc32 against the bytes while reading.
    whole = s3.get_object(Bucket=BUCKET, Key="boto3/checksum.bin", ChecksumMode="ENABLED")
    check(whole["Body"].read() == data, "get_object with ChecksumMode=ENABLED returned different bytes")
    check(whole.get("ChecksumCRC32") == crc32_base64(data),
          f"get_object with ChecksumMode=ENABLED: ChecksumCRC32 {whole.get('ChecksumCRC32')}, expected {crc32_base64(data)}")

    # A ranged response must not carry the whole object's checksum, which would fail validation.
    ranged = s3.get_object(Bucket=BUCKET, Key="boto3/checksum.bin", ChecksumMode="ENABLED", Range="bytes=0-99")
    check(ranged["Body"].read() == data[:100], "ranged get_object with ChecksumMode=ENABLED returned different bytes")


STEPS = [
    step_put_get_head,
    step_copy_and_list,
    step_delete,
    step_multipart,
    step_upload_download_file,
    step_presigned_get,
    step_presigned_put,
    step_checksum_mode,
]


def main():
    s3 = new_client()
    try:
        s3.create_bucket(Bucket=BUCKET)
    except Exception:  # every other step needs the bucket
        print(f"FAIL create_bucket\n{traceback.format_exc()}last requests sent:\n{''.join(sent_requests)}", flush=True)
        return 1
    print("ok create_bucket", flush=True)
    failed = 0
    for step in STEPS:
        name = step.__name__.removeprefix("step_")
        sent_requests.clear()
        try:
            step(s3)
        except Exception:  # every failure is reported, then the next step runs
            failed += 1
            print(f"FAIL {name}\n{traceback.format_exc()}last requests sent:\n{''.join(sent_requests)}", flush=True)
        else:
            print(f"ok {name}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
