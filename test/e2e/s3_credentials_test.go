package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// teamPolicy restricts an access key to the bucket "team".
const teamPolicy = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
	"Resource": ["arn:aws:s3:::team", "arn:aws:s3:::team/*"]}]}`

// TestS3AccessKeyAWSCLI drives the AWS CLI with an access key from /api/v1/access-keys:
// it works inside the key's restriction, is refused outside it, and stops working, presigned
// URLs included, once the key is revoked.
func TestS3AccessKeyAWSCLI(t *testing.T) {
	srv := startCredentialsServer(t)
	root := newCLI(t, srv.server, awsEnv(t, srv.server, false))
	root.aws("s3", "mb", "s3://team")
	root.aws("s3", "mb", "s3://other")

	key := srv.createAccessKey(t, teamPolicy)
	c := newCLI(t, srv.server, withS3v4Presign(t, credentialsEnv(t, srv.server, key.ID, key.Secret, "")))
	dir := t.TempDir()
	upload := filepath.Join(dir, "upload.bin")
	sum := writeRandomFile(t, upload, 3*mib)
	c.aws("s3", "cp", "--only-show-errors", upload, "s3://team/builds/app.bin")
	download := filepath.Join(dir, "download.bin")
	c.aws("s3", "cp", "--only-show-errors", "s3://team/builds/app.bin", download)
	if got := fileSHA256(t, download); got != sum {
		t.Errorf("download with the access key has SHA-256 %s, uploaded %s", got, sum)
	}
	if got := awsListKeys(t, c.aws("s3", "ls", "--recursive", "s3://team")); len(got) != 1 || got[0] != "builds/app.bin" {
		t.Errorf("aws s3 ls with the access key listed %q, expected [builds/app.bin]", got)
	}
	if out := c.awsFail("s3", "cp", "--only-show-errors", upload, "s3://other/app.bin"); !strings.Contains(out, "AccessDenied") {
		t.Errorf("upload outside the key's restriction failed without AccessDenied:\n%s", out)
	}
	if out := c.awsFail("s3", "mb", "s3://newbucket"); !strings.Contains(out, "AccessDenied") {
		t.Errorf("aws s3 mb with a key restricted to one bucket failed without AccessDenied:\n%s", out)
	}
	if got := awsListKeys(t, root.aws("s3", "ls", "--recursive", "s3://other")); len(got) != 0 {
		t.Errorf("bucket other holds %q after the refused upload, expected nothing", got)
	}

	presigned := strings.TrimSpace(string(c.aws("s3", "presign", "--expires-in", "600", "s3://team/builds/app.bin")))
	if status, _ := getURL(t, srv.server, presigned); status != http.StatusOK {
		t.Errorf("GET of a URL presigned with the access key returned %d, expected 200", status)
	}

	srv.revokeAccessKey(t, key.ID)
	if out := c.awsFail("s3", "ls", "s3://team"); !strings.Contains(out, "InvalidAccessKeyId") {
		t.Errorf("aws s3 ls with a revoked key failed without InvalidAccessKeyId:\n%s", out)
	}
	status, body := getURL(t, srv.server, presigned)
	if status != http.StatusForbidden || !bytes.Contains(body, []byte("<Code>InvalidAccessKeyId</Code>")) {
		t.Errorf("GET of a URL presigned with a revoked key returned %d, expected 403 InvalidAccessKeyId\n%s", status, tail(body))
	}
}

// TestS3WebIdentityAWSCLI exchanges a mock Keycloak token for temporary credentials with
// `aws sts assume-role-with-web-identity --endpoint-url` and uses them with the AWS CLI. The
// bucket policy grants the token's principal read and write, not delete; a session policy
// narrows further and never widens.
func TestS3WebIdentityAWSCLI(t *testing.T) {
	srv := startCredentialsServer(t)
	root := newCLI(t, srv.server, awsEnv(t, srv.server, false))
	root.aws("s3", "mb", "s3://ci-artifacts")
	policyFile := filepath.Join(t.TempDir(), "policy.json")
	policy := bucketPolicy("ci-artifacts", srv.principal(t, "ci"), "s3:GetObject", "s3:PutObject", "s3:ListBucket")
	if err := os.WriteFile(policyFile, []byte(policy), 0o600); err != nil {
		t.Fatalf("write the bucket policy: %v", err)
	}
	root.aws("s3api", "put-bucket-policy", "--bucket", "ci-artifacts", "--policy", "file://"+policyFile)

	creds := assumeRoleCLI(t, srv, root)
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.SessionToken == "" {
		t.Fatalf("assume-role-with-web-identity returned %+v, expected an ASIA key with a session token", creds)
	}
	expires, err := time.Parse(time.RFC3339, creds.Expiration)
	if err != nil || expires.Before(time.Now().Add(14*time.Minute)) || expires.After(time.Now().Add(16*time.Minute)) {
		t.Errorf("assume-role-with-web-identity --duration-seconds 900: Expiration %q (%v), expected about 15 minutes from now", creds.Expiration, err)
	}
	c := newCLI(t, srv.server, credentialsEnv(t, srv.server, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken))
	dir := t.TempDir()
	upload := filepath.Join(dir, "report.xml")
	sum := writeRandomFile(t, upload, 64<<10)
	c.aws("s3", "cp", "--only-show-errors", upload, "s3://ci-artifacts/run-1/report.xml")
	download := filepath.Join(dir, "download.xml")
	c.aws("s3", "cp", "--only-show-errors", "s3://ci-artifacts/run-1/report.xml", download)
	if got := fileSHA256(t, download); got != sum {
		t.Errorf("download with temporary credentials has SHA-256 %s, uploaded %s", got, sum)
	}
	if out := c.awsFail("s3", "rm", "s3://ci-artifacts/run-1/report.xml"); !strings.Contains(out, "AccessDenied") {
		t.Errorf("aws s3 rm without a delete grant failed without AccessDenied:\n%s", out)
	}
	if out := c.awsFail("s3", "mb", "s3://ci-other"); !strings.Contains(out, "AccessDenied") {
		t.Errorf("aws s3 mb with temporary credentials failed without AccessDenied:\n%s", out)
	}

	widening := assumeRoleCLI(t, srv, root, "--policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	wide := newCLI(t, srv.server, credentialsEnv(t, srv.server, widening.AccessKeyID, widening.SecretAccessKey, widening.SessionToken))
	if out := wide.awsFail("s3", "rm", "s3://ci-artifacts/run-1/report.xml"); !strings.Contains(out, "AccessDenied") {
		t.Errorf("aws s3 rm with a session policy that allows s3:* failed without AccessDenied:\n%s", out)
	}
	readOnly := assumeRoleCLI(t, srv, root, "--policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::ci-artifacts/*"}]}`)
	narrow := newCLI(t, srv.server, credentialsEnv(t, srv.server, readOnly.AccessKeyID, readOnly.SecretAccessKey, readOnly.SessionToken))
	narrow.aws("s3", "cp", "--only-show-errors", "s3://ci-artifacts/run-1/report.xml", filepath.Join(dir, "again.xml"))
	if out := narrow.awsFail("s3", "cp", "--only-show-errors", upload, "s3://ci-artifacts/run-2/report.xml"); !strings.Contains(out, "AccessDenied") {
		t.Errorf("upload under a read-only session policy failed without AccessDenied:\n%s", out)
	}
	if got := awsListKeys(t, root.aws("s3", "ls", "--recursive", "s3://ci-artifacts")); len(got) != 1 || got[0] != "run-1/report.xml" {
		t.Errorf("ci-artifacts holds %q, expected only run-1/report.xml", got)
	}
}

// assumeRoleCLI runs `aws sts assume-role-with-web-identity` with a fresh token of the ci
// client and the extra arguments, and returns the credentials it printed.
func assumeRoleCLI(t *testing.T, srv *credentialsServer, c *cli, args ...string) sessionCredentials {
	t.Helper()
	out := c.aws(append([]string{"--output", "json", "sts", "assume-role-with-web-identity",
		"--role-arn", "arn:aws:iam::000000000000:role/ci", "--role-session-name", "e2e",
		"--duration-seconds", "900", "--web-identity-token", srv.token(t, "ci", 0)}, args...)...)
	var result struct {
		Credentials                 sessionCredentials
		SubjectFromWebIdentityToken string
		Provider                    string
	}
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("decode the output of assume-role-with-web-identity: %v\n%s", err, out)
	}
	issuer, subject, _ := strings.Cut(srv.principal(t, "ci"), "#")
	if result.SubjectFromWebIdentityToken != subject || result.Provider != issuer {
		t.Errorf("assume-role-with-web-identity: subject %q, provider %q, expected %q and %q",
			result.SubjectFromWebIdentityToken, result.Provider, subject, issuer)
	}
	return result.Credentials
}

// getURL sends a GET to a presigned URL and returns the status and the body.
func getURL(t *testing.T, srv *server, target string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	if err != nil {
		t.Fatalf("build GET %s: %v", target, err)
	}
	return doRequest(t, srv.httpClient(t, time.Minute), req)
}
