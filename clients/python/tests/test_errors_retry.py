"""Error mapping, retries and token refresh against a scripted server."""

import unittest

import coffer
from coffer import RetryPolicy
from helpers import ScriptedServer, problem


def no_wait_policy(attempts: int = 4) -> RetryPolicy:
    waits = []
    policy = RetryPolicy(max_attempts=attempts, sleep=waits.append, rand=lambda: 0.5)
    policy.waits = waits  # type: ignore[attr-defined]
    return policy


class ErrorMappingTest(unittest.TestCase):
    def test_status_maps_to_typed_error(self) -> None:
        cases = [
            (400, coffer.BadRequestError),
            (401, coffer.UnauthorizedError),
            (403, coffer.ForbiddenError),
            (404, coffer.NotFoundError),
            (409, coffer.ConflictError),
            (412, coffer.PreconditionFailedError),
            (503, coffer.UnavailableError),
        ]
        for status, cls in cases:
            with self.subTest(status=status):
                srv = ScriptedServer([problem(status, f"detail {status}")])
                try:
                    c = coffer.Client(srv.url, retry=no_wait_policy(1))
                    with self.assertRaises(cls) as ctx:
                        c.list_buckets()
                    self.assertEqual(ctx.exception.status, status)
                    self.assertEqual(ctx.exception.detail, f"detail {status}")
                    self.assertIsInstance(ctx.exception, coffer.CofferError)
                finally:
                    srv.close()


class RetryTest(unittest.TestCase):
    def test_retries_503_then_succeeds(self) -> None:
        srv = ScriptedServer([
            problem(503, "down", {"Retry-After": "2"}),
            problem(503, "down"),
            (200, {"Content-Type": "application/json"}, b'{"items":[{"name":"b"}]}'),
        ])
        try:
            policy = no_wait_policy()
            c = coffer.Client(srv.url, retry=policy)
            self.assertEqual([b.name for b in c.list_buckets()], ["b"])
            self.assertEqual(len(srv.requests), 3)
            # The first wait honours Retry-After, the second is jittered backoff: 0.5 * 0.4 s.
            self.assertEqual(policy.waits, [2.0, 0.2])  # type: ignore[attr-defined]
        finally:
            srv.close()

    def test_gives_up_after_max_attempts(self) -> None:
        srv = ScriptedServer([problem(503, "still down", {"Retry-After": "1"})])
        try:
            c = coffer.Client(srv.url, retry=no_wait_policy(3))
            with self.assertRaises(coffer.UnavailableError):
                c.list_buckets()
            self.assertEqual(len(srv.requests), 3)
        finally:
            srv.close()

    def test_does_not_retry_post_after_502(self) -> None:
        srv = ScriptedServer([problem(502, "bad gateway")])
        try:
            c = coffer.Client(srv.url, retry=no_wait_policy())
            with self.assertRaises(coffer.CofferError) as ctx:
                c.create_bucket("b")
            self.assertEqual(ctx.exception.status, 502)
            self.assertEqual(len(srv.requests), 1)
        finally:
            srv.close()

    def test_retries_post_after_429(self) -> None:
        srv = ScriptedServer([
            problem(429, "slow down", {"Retry-After": "0"}),
            (201, {"Content-Type": "application/json"}, b'{"name":"b"}'),
        ])
        try:
            c = coffer.Client(srv.url, retry=no_wait_policy())
            self.assertEqual(c.create_bucket("b").name, "b")
            self.assertEqual(len(srv.requests), 2)
        finally:
            srv.close()


class ClientCredentialsTest(unittest.TestCase):
    def test_refreshes_before_expiry_and_after_401(self) -> None:
        token_srv = ScriptedServer([
            (200, {"Content-Type": "application/json"}, b'{"access_token":"t1","expires_in":60}'),
            (200, {"Content-Type": "application/json"}, b'{"access_token":"t2","expires_in":60}'),
            (200, {"Content-Type": "application/json"}, b'{"access_token":"t3","expires_in":60}'),
        ])
        now = [0.0]
        auth = coffer.ClientCredentials(token_srv.url + "/token", "ci", "secret", clock=lambda: now[0])
        try:
            self.assertEqual(auth.header(), "Bearer t1")
            now[0] = 20.0
            self.assertEqual(auth.header(), "Bearer t1")
            now[0] = 31.0  # within the 30 s leeway of expiry at 60 s
            self.assertEqual(auth.header(), "Bearer t2")
            auth.invalidate()
            self.assertEqual(auth.header(), "Bearer t3")
            self.assertEqual(len(token_srv.requests), 3)
            method, path, headers = token_srv.requests[0]
            self.assertEqual((method, path), ("POST", "/token"))
            self.assertTrue(headers["Authorization"].startswith("Basic "))
        finally:
            token_srv.close()

    def test_rejected_client_raises_unauthorized(self) -> None:
        token_srv = ScriptedServer([(401, {"Content-Type": "application/json"},
                                     b'{"error":"invalid_client","error_description":"Invalid client credentials"}')])
        try:
            auth = coffer.ClientCredentials(token_srv.url + "/token", "ci", "wrong")
            with self.assertRaises(coffer.UnauthorizedError) as ctx:
                auth.header()
            self.assertIn("invalid_client", str(ctx.exception))
        finally:
            token_srv.close()


if __name__ == "__main__":
    unittest.main()
