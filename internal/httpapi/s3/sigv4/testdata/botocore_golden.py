"""Record requests signed by a real botocore S3 client as golden test cases.

Run from the repository root:

    env AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
        AWS_EC2_METADATA_DISABLED=true \
        python3 internal/httpapi/s3/sigv4/testdata/botocore_golden.py \
        > internal/httpapi/s3/sigv4/testdata/botocore.json

A before-send hook captures each prepared request and aborts it, so nothing
is sent. The clock is frozen at FIXED_TIME so that the golden file is stable.
"""

import base64
import datetime
import json
import sys
import time

import botocore
import botocore.auth
import botocore.httpchecksum
import botocore.session
from botocore.config import Config

ACCESS_KEY = "AKIDCOFFEREXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
FIXED_TIME = datetime.datetime(2026, 1, 15, 12, 0, 0, tzinfo=datetime.timezone.utc)

time.time = lambda: FIXED_TIME.timestamp()
botocore.auth.get_current_datetime = lambda *args, **kwargs: FIXED_TIME.replace(tzinfo=None)
# Small aws-chunks so that the trailer case has several chunks.
botocore.httpchecksum.AwsChunkedWrapper._DEFAULT_CHUNK_SIZE = 1000


class Captured(Exception):
    pass


def make_client(endpoint, **config):
    session = botocore.session.get_session()
    session.set_credentials(ACCESS_KEY, SECRET_KEY)
    captured = []

    def capture(request, **kwargs):
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        captured.append(
            {
                "method": request.method,
                "url": request.url,
                "headers": {
                    k: v.decode() if isinstance(v, bytes) else v
                    for k, v in request.headers.items()
                    # Unsigned and different on every run.
                    if k.lower() not in ("user-agent", "amz-sdk-invocation-id")
                },
                "body": base64.b64encode(body or b"").decode(),
            }
        )
        raise Captured()

    client = session.create_client(
        "s3", region_name=REGION, endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}, **config)
    )
    client.meta.events.register("before-send.s3", capture)
    return client, captured


def record(cases, name, client, captured, operation, bucket="", **params):
    try:
        getattr(client, operation)(**params)
    except Captured:
        pass
    request = captured.pop()
    request["name"] = name
    request["virtual_host_bucket"] = bucket
    cases.append(request)


def main():
    cases = []
    body = bytes(i % 251 for i in range(2500))

    v4, got = make_client("http://127.0.0.1:9000", signature_version="s3v4")
    record(cases, "sigv4 get object special key", v4, got, "get_object",
           Bucket="bucket", Key="dir/my file!+(1)=€.txt", ChecksumMode="ENABLED")
    record(cases, "sigv4 put object hex payload", v4, got, "put_object",
           Bucket="bucket", Key="a/b.bin", Body=body, ContentType="application/octet-stream",
           Metadata={"owner": "coffer  test"})
    record(cases, "sigv4 list objects v2", v4, got, "list_objects_v2",
           Bucket="bucket", Prefix="", Delimiter="/", EncodingType="url")
    record(cases, "sigv4 delete objects", v4, got, "delete_objects",
           Bucket="bucket", Delete={"Objects": [{"Key": "a"}, {"Key": "b c"}]})

    v4tls, got = make_client("https://127.0.0.1:9443", signature_version="s3v4")
    record(cases, "sigv4 put object unsigned trailer", v4tls, got, "put_object",
           Bucket="bucket", Key="big.bin", Body=body)
    record(cases, "sigv4 upload part unsigned trailer sha256", v4tls, got, "upload_part",
           Bucket="bucket", Key="big.bin", UploadId="upload-1", PartNumber=2, Body=body[:1500],
           ChecksumAlgorithm="SHA256")

    virtual, got = make_client("http://localhost:9000", signature_version="s3v4",
                               s3={"addressing_style": "virtual"})
    record(cases, "sigv4 virtual host get", virtual, got, "get_object", bucket="bucket",
           Bucket="bucket", Key="photos/cat.jpg")

    v2, got = make_client("http://127.0.0.1:9000", signature_version="s3")
    record(cases, "sigv2 get object", v2, got, "get_object", Bucket="bucket", Key="dir/my file.txt")
    record(cases, "sigv2 put object", v2, got, "put_object", Bucket="bucket", Key="k.txt",
           Body=b"hello sigv2", ContentType="text/plain", ContentMD5="XrY7u+Ae7tCTyyK7j1rNww==",
           Metadata={"color": "blue"})
    record(cases, "sigv2 get object acl", v2, got, "get_object_acl", Bucket="bucket", Key="k.txt")
    record(cases, "sigv2 list parts", v2, got, "list_parts", Bucket="bucket", Key="k.txt",
           UploadId="up+load/1")
    record(cases, "sigv2 get with response overrides", v2, got, "get_object", Bucket="bucket",
           Key="k.txt", ResponseContentType="text/plain; charset=utf-8",
           ResponseContentDisposition='attachment; filename="a b.txt"')

    v2virtual, got = make_client("http://localhost:9000", signature_version="s3",
                                 s3={"addressing_style": "virtual"})
    record(cases, "sigv2 virtual host get", v2virtual, got, "get_object", bucket="bucket",
           Bucket="bucket", Key="photos/cat.jpg")

    presigned = []
    default, _ = make_client("http://127.0.0.1:9000")
    presigned.append({"name": "presign default get", "method": "GET", "virtual_host_bucket": "",
                      "url": default.generate_presigned_url(
                          "get_object", Params={"Bucket": "bucket", "Key": "dir/my file.txt"}, ExpiresIn=3600)})
    presigned.append({"name": "presign default get response override", "method": "GET", "virtual_host_bucket": "",
                      "url": default.generate_presigned_url(
                          "get_object", Params={"Bucket": "bucket", "Key": "k.txt",
                                                "ResponseContentDisposition": "attachment"}, ExpiresIn=600)})
    presigned.append({"name": "presign default put", "method": "PUT", "virtual_host_bucket": "",
                      "url": default.generate_presigned_url(
                          "put_object", Params={"Bucket": "bucket", "Key": "up.bin"}, ExpiresIn=600)})
    v4q, _ = make_client("http://127.0.0.1:9000", signature_version="s3v4")
    presigned.append({"name": "presign sigv4 get", "method": "GET", "virtual_host_bucket": "",
                      "url": v4q.generate_presigned_url(
                          "get_object", Params={"Bucket": "bucket", "Key": "dir/my file!.txt"}, ExpiresIn=3600)})
    presigned.append({"name": "presign sigv4 put", "method": "PUT", "virtual_host_bucket": "",
                      "url": v4q.generate_presigned_url(
                          "put_object", Params={"Bucket": "bucket", "Key": "up.bin"}, ExpiresIn=900)})
    v4qvirtual, _ = make_client("http://localhost:9000", signature_version="s3v4",
                                s3={"addressing_style": "virtual"})
    presigned.append({"name": "presign sigv4 virtual host get", "method": "GET", "virtual_host_bucket": "bucket",
                      "url": v4qvirtual.generate_presigned_url(
                          "get_object", Params={"Bucket": "bucket", "Key": "photos/cat.jpg"}, ExpiresIn=60)})
    v2qvirtual, _ = make_client("http://localhost:9000", signature_version="s3",
                                s3={"addressing_style": "virtual"})
    presigned.append({"name": "presign sigv2 virtual host get", "method": "GET", "virtual_host_bucket": "bucket",
                      "url": v2qvirtual.generate_presigned_url(
                          "get_object", Params={"Bucket": "bucket", "Key": "photos/cat.jpg"}, ExpiresIn=60)})
    for p in presigned:
        p["headers"] = {}
        p["body"] = ""
    cases.extend(presigned)

    json.dump(
        {
            "generator": "botocore " + botocore.__version__,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "region": REGION,
            "time": FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cases": cases,
        },
        sys.stdout,
        indent=1,
        ensure_ascii=True,
    )
    sys.stdout.write("\n")


main()
