package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestCLICredentials drives coffer token, access-key and policy explain.
// A token is created, used as a password and revoked. An access key is
// created, used with the AWS CLI and deleted. Policy explain shows an
// allowed and a denied action.
func TestCLICredentials(t *testing.T) {
	readers := `COFFER_AUTH_POLICIES=[{"id": "readers", "effect": "Allow", "principals": ["*"],
  "actions": ["s3:ListBucket", "s3:GetObject"], "resources": ["*"]}]`
	srv := startCofferWith(t, t.TempDir(), "", nil, readers)
	waitS3Ready(t, srv)
	binary := buildCLI(t)
	root := &cliEnv{binary: binary, home: t.TempDir(), server: "http://" + srv.addr}
	root.mustRun(t, rootPassword+"\n", "login", "--username", rootUser, "--password-stdin")
	root.mustRun(t, "", "mb", "s3://shared")

	t.Run("token", func(t *testing.T) {
		created := root.mustRun(t, "", "token", "create", "e2e reader", "--expires", "24h",
			"--scope", "coffer:system.read,s3:ListAllMyBuckets,s3:ListBucket=*", "-o", "json")
		var token struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal([]byte(created), &token); err != nil || token.ID == "" || token.Secret == "" {
			t.Fatalf("decode coffer token create output (%v):\n%s", err, created)
		}
		stable := strings.NewReplacer(token.Secret, "<secret>", token.ID, "<id>")
		checkGolden(t, "token-create", stable.Replace(created), "")
		checkGolden(t, "token-ls", stable.Replace(root.mustRun(t, "", "token", "ls", "-o", "json")), "")

		user := &cliEnv{binary: binary, home: t.TempDir(), server: root.server}
		user.mustRun(t, token.Secret+"\n", "login", "--username", "e2e", "--password-stdin")
		if listed := user.mustRun(t, "", "ls"); !strings.Contains(listed, "shared") {
			t.Errorf("ls with the token printed %q, want bucket shared", listed)
		}
		byToken := &cliEnv{binary: binary, home: t.TempDir(), server: root.server}
		byToken.mustRun(t, token.Secret+"\n", "login", "--token-stdin")
		if listed := byToken.mustRun(t, "", "ls"); !strings.Contains(listed, "shared") {
			t.Errorf("ls after login --token-stdin printed %q, want bucket shared", listed)
		}
		_, stderr, code := user.run(t, "", "mb", "s3://outside-scope")
		if code != 4 || !strings.Contains(stderr, "coffer policy explain s3:CreateBucket 'arn:aws:s3:::outside-scope'") {
			t.Errorf("mb outside the token's scope exited with %d:\n%s\nwant 4 and the explain hint", code, stderr)
		}

		if out := root.mustRun(t, "", "token", "revoke", token.ID); out != "revoked token "+token.ID+"\n" {
			t.Errorf("coffer token revoke printed %q", out)
		}
		if _, _, code := user.run(t, "", "ls"); code != 4 {
			t.Errorf("ls with the revoked token exited with %d, want 4", code)
		}
	})

	t.Run("access key", func(t *testing.T) {
		created := root.mustRun(t, "", "access-key", "create", "--description", "e2e aws cli", "-o", "json")
		var key struct {
			ID     string `json:"access_key_id"`
			Secret string `json:"secret_access_key"`
		}
		if err := json.Unmarshal([]byte(created), &key); err != nil || key.ID == "" || key.Secret == "" {
			t.Fatalf("decode coffer access-key create output (%v):\n%s", err, created)
		}
		stable := strings.NewReplacer(key.Secret, "<secret>", key.ID, "<id>")
		checkGolden(t, "access-key-create", stable.Replace(created), "")
		checkGolden(t, "access-key-ls", stable.Replace(root.mustRun(t, "", "access-key", "ls", "-o", "json")), "")

		env := awsEnv(t, srv, false)
		env = append(env, "AWS_ACCESS_KEY_ID="+key.ID, "AWS_SECRET_ACCESS_KEY="+key.Secret)
		aws := newCLI(t, srv, env)
		if listed := string(aws.aws("s3", "ls")); !strings.Contains(listed, "shared") {
			t.Errorf("aws s3 ls with the access key printed %q, want bucket shared", listed)
		}
		root.mustRun(t, "", "access-key", "rm", key.ID)
		if out := aws.awsFail("s3", "ls"); !strings.Contains(out, "InvalidAccessKeyId") {
			t.Errorf("aws s3 ls with the deleted key failed with %q, want InvalidAccessKeyId", out)
		}
	})

	t.Run("policy explain", func(t *testing.T) {
		allowed := root.mustRun(t, "", "policy", "explain", "s3:GetObject", "arn:aws:s3:::shared/report.bin", "--principal", "https://idp.example#bob", "-o", "json")
		checkGolden(t, "policy-explain-allowed", allowed, "")
		denied := root.mustRun(t, "", "policy", "explain", "s3:DeleteObject", "arn:aws:s3:::shared/report.bin", "--principal", "https://idp.example#bob", "-o", "json")
		checkGolden(t, "policy-explain-denied", denied, "")

		text := root.mustRun(t, "", "policy", "explain", "s3:GetObject", "arn:aws:s3:::shared/report.bin", "--principal", "https://idp.example#bob")
		if !regexp.MustCompile(`(?m)^Decision: Allow \(allowed\)\nStatement readers: Allow\n`).MatchString(text) {
			t.Errorf("coffer policy explain printed:\n%s", text)
		}
		if _, stderr, code := root.run(t, "", "policy", "explain", "s3:GetObject", "x", "--role", "team-a"); code != 2 {
			t.Errorf("--role without --principal exited with %d: %s; want 2", code, stderr)
		}
	})
}
