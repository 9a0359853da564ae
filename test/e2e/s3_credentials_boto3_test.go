package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestS3CredentialsBoto3 runs testdata/s3/boto3_credentials.py: boto3 with an access key,
// and with temporary credentials from boto3's STS client, with and without a session policy.
func TestS3CredentialsBoto3(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("testdata", "s3", "boto3_credentials.py"))
	if err != nil {
		t.Fatalf("find the boto3 script: %v", err)
	}
	srv := startCredentialsServer(t)
	root := newCLI(t, srv.server, awsEnv(t, srv.server, false))
	root.aws("s3", "mb", "s3://boto3-bucket")
	put := s3Request{method: "PUT", path: "/boto3-bucket", query: "policy=",
		body: []byte(bucketPolicy("boto3-bucket", srv.principal(t, "ci"), "s3:GetObject", "s3:PutObject"))}
	put.expect(t, srv.server, 204)
	key := srv.createAccessKey(t, strings.ReplaceAll(teamPolicy, "team", "boto3-bucket"))

	env := append(awsEnv(t, srv.server, false),
		"S3_ENDPOINT="+srv.s3Endpoint(),
		"S3_BUCKET=boto3-bucket",
		"KEY_ID="+key.ID,
		"KEY_SECRET="+key.Secret,
		"WEB_IDENTITY_TOKEN="+srv.token(t, "ci", 0),
		"PYTHONDONTWRITEBYTECODE=1",
	)
	stdout, stderr, err := newCLI(t, srv.server, env).exec("python3", script)
	if err != nil {
		t.Errorf("boto3_credentials.py exited with %v\nstdout:\n%s\nstderr:\n%s", err, tail(stdout), tail(stderr))
	}
	var passed []string
	for _, line := range nonEmptyLines(string(stdout)) {
		if step, ok := strings.CutPrefix(line, "ok "); ok {
			passed = append(passed, step)
		}
	}
	if want := []string{"access_key", "web_identity", "session_policy", "invalid_token"}; !slices.Equal(passed, want) {
		t.Errorf("boto3_credentials.py passed steps %q, expected %q", passed, want)
	}
}
