"""The client against a real cofferd. The Go e2e test TestPythonClient
starts the server and sets COFFER_URL, COFFER_USER and COFFER_PASSWORD."""

import hashlib
import os
import tempfile
import unittest
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import coffer
from helpers import CuttingProxy, server_from_env, write_random_file

SERVER = server_from_env()
LARGE = int(os.environ.get("COFFER_TEST_LARGE_BYTES", str(200 << 20)))
MANY = int(os.environ.get("COFFER_TEST_MANY_KEYS", "5000"))


def file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


@unittest.skipIf(SERVER is None, "set COFFER_URL, COFFER_USER and COFFER_PASSWORD to run against a server")
class ServerTest(unittest.TestCase):
    def setUp(self) -> None:
        url, user, password = SERVER  # type: ignore[misc]
        self.url = url
        self.auth = coffer.BasicAuth(user, password)
        self.client = coffer.Client(url, auth=self.auth)
        self.bucket = "py-" + uuid.uuid4().hex[:12]
        self.client.create_bucket(self.bucket)
        self.addCleanup(self.client.delete_bucket, self.bucket, recursive=True)
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def proxy(self, cut_after: int, direction: str) -> CuttingProxy:
        target = urlparse(self.url)
        p = CuttingProxy((target.hostname, target.port), cut_after, direction)
        self.addCleanup(p.close)
        return p

    def test_bucket_errors(self) -> None:
        names = [b.name for b in self.client.list_buckets()]
        self.assertIn(self.bucket, names)
        with self.assertRaises(coffer.ConflictError):
            self.client.create_bucket(self.bucket)
        with self.assertRaises(coffer.NotFoundError):
            self.client.delete_bucket("py-missing-" + uuid.uuid4().hex[:8])
        with self.assertRaises(coffer.BadRequestError):
            self.client.create_bucket("Not_A_Bucket")

    def test_put_get_stat_delete(self) -> None:
        data = b"hello coffer\n"
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        info = self.client.put_object(self.bucket, "dir/hello.txt", data, content_type="text/plain")
        self.assertEqual((info.key, info.size, info.digest), ("dir/hello.txt", len(data), digest))
        self.assertEqual(self.client.get_object(self.bucket, "dir/hello.txt"), data)
        stat = self.client.stat_object(self.bucket, "dir/hello.txt")
        self.assertEqual((stat.size, stat.digest, stat.content_type), (len(data), digest, "text/plain"))
        self.client.delete_object(self.bucket, "dir/hello.txt")
        with self.assertRaises(coffer.NotFoundError):
            self.client.stat_object(self.bucket, "dir/hello.txt")
        with self.assertRaises(coffer.NotFoundError):
            self.client.get_object(self.bucket, "dir/hello.txt")

    def test_expected_digest_mismatch_stores_nothing(self) -> None:
        with self.assertRaises(coffer.BadRequestError):
            self.client.put_object(self.bucket, "k", b"abc", expected_digest="sha256:" + "0" * 64)
        with self.assertRaises(coffer.NotFoundError):
            self.client.stat_object(self.bucket, "k")

    def test_if_match_mismatch_is_precondition_failed(self) -> None:
        self.client.put_object(self.bucket, "k", b"v1")
        with self.assertRaises(coffer.PreconditionFailedError):
            self.client.open_object(self.bucket, "k", offset=1, if_match='"sha256:' + "0" * 64 + '"')

    def test_wrong_password_is_unauthorized(self) -> None:
        c = coffer.Client(self.url, auth=coffer.BasicAuth(SERVER[1], "wrong-password"))  # type: ignore[index]
        with self.assertRaises(coffer.UnauthorizedError):
            c.list_buckets()

    def test_upload_resumes_after_disconnect(self) -> None:
        path = os.path.join(self.tmp.name, "large.bin")
        write_random_file(path, LARGE)
        proxy = self.proxy(LARGE // 3, "up")
        c = coffer.Client(proxy.url, auth=self.auth)
        info = c.upload_file(self.bucket, "large.bin", path)
        self.assertEqual(proxy.cuts, 1)
        self.assertEqual(info.size, LARGE)
        self.assertEqual(info.digest, file_digest(path))
        self.assertEqual(self.client.stat_object(self.bucket, "large.bin").digest, info.digest)

    def test_download_resumes_after_disconnect(self) -> None:
        path = os.path.join(self.tmp.name, "large.bin")
        write_random_file(path, LARGE)
        uploaded = self.client.upload_file(self.bucket, "large.bin", path)
        proxy = self.proxy(LARGE // 2, "down")
        c = coffer.Client(proxy.url, auth=self.auth)
        target = os.path.join(self.tmp.name, "copy.bin")
        info = c.download_file(self.bucket, "large.bin", target)
        self.assertEqual(proxy.cuts, 1)
        self.assertEqual(info.digest, uploaded.digest)
        self.assertEqual(file_digest(target), uploaded.digest)

    def test_download_continues_partial_file(self) -> None:
        data = os.urandom(3 << 20)
        self.client.put_object(self.bucket, "k", data)
        target = os.path.join(self.tmp.name, "partial.bin")
        with open(target, "wb") as f:
            f.write(data[: 1 << 20])
        self.client.download_file(self.bucket, "k", target)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), data)

    def test_list_many_keys_with_pagination(self) -> None:
        keys = [f"many/{i:05d}" for i in range(MANY)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda k: self.client.put_object(self.bucket, k, k.encode()), keys))
        pages = []
        cursor = ""
        while True:
            page = self.client.list_objects_page(self.bucket, prefix="many/", limit=1000, cursor=cursor)
            pages.append(len(page.objects))
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        self.assertEqual(sum(pages), MANY)
        self.assertEqual(max(pages), 1000)
        listed = [o.key for o in self.client.list_objects(self.bucket, prefix="many/", page_size=700)]
        self.assertEqual(listed, keys)


if __name__ == "__main__":
    unittest.main()
