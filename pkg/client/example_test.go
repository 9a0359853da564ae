package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cofferhq/coffer/pkg/client"
)

// The examples run against the test server that TestMain starts; a
// program passes its own server URL and credentials.

func ExampleClient_PutObject() {
	ctx := context.Background()
	c, err := client.New(serverURL, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := c.CreateBucket(ctx, "example-put"); err != nil {
		fmt.Println(err)
		return
	}
	o, err := c.PutObject(ctx, "example-put", "greeting.txt", strings.NewReader("hello"), client.PutOptions{ContentType: "text/plain"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(o.Key, o.Size, o.Digest)
	// Output: greeting.txt 5 sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
}

func ExampleClient_GetObject() {
	ctx := context.Background()
	c, _ := client.New(serverURL, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	_ = c.CreateBucket(ctx, "example-get")
	_, _ = c.PutObject(ctx, "example-get", "data.txt", strings.NewReader("checked on read"), client.PutOptions{})

	r, err := c.GetObject(ctx, "example-get", "data.txt", client.GetOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	// ReadAll returns an error wrapping ErrIntegrity if the bytes do not
	// match the object's digest.
	content, err := io.ReadAll(r)
	fmt.Println(string(content), err)
	// Output: checked on read <nil>
}

func ExampleClient_PutObject_resumable() {
	ctx := context.Background()
	c, _ := client.New(serverURL, client.Options{
		Auth:      client.Basic{Username: rootUser, Password: rootPassword},
		ChunkSize: 1 << 20,
	})
	_ = c.CreateBucket(ctx, "example-large")
	path := filepath.Join(os.TempDir(), "coffer-example-large.bin")
	_ = os.WriteFile(path, make([]byte, 3<<20), 0o644)
	defer os.Remove(path)

	file, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer file.Close()
	// A file larger than ChunkSize goes through a resumable session. Keep
	// the session ID and pass it as SessionID to continue after a crash.
	var session string
	o, err := c.PutObject(ctx, "example-large", "zeros.bin", file, client.PutOptions{
		OnSession: func(id string) { session = id },
	})
	fmt.Println(o.Size, session != "", err)
	// Output: 3145728 true <nil>
}

func ExampleClient_DownloadFile() {
	ctx := context.Background()
	c, _ := client.New(serverURL, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	_ = c.CreateBucket(ctx, "example-download")
	_, _ = c.PutObject(ctx, "example-download", "report.txt", strings.NewReader("quarterly report"), client.PutOptions{})

	dir, _ := os.MkdirTemp("", "coffer-example-")
	defer os.RemoveAll(dir)
	// An interrupted download leaves a partial file that the next call
	// continues from; the file appears at path only once verified.
	o, err := c.DownloadFile(ctx, "example-download", "report.txt", filepath.Join(dir, "report.txt"), client.DownloadOptions{})
	fmt.Println(o.Size, err)
	// Output: 16 <nil>
}

func ExampleClient_AllObjects() {
	ctx := context.Background()
	c, _ := client.New(serverURL, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	_ = c.CreateBucket(ctx, "example-list")
	for _, key := range []string{"logs/1", "logs/2", "readme"} {
		_, _ = c.PutObject(ctx, "example-list", key, strings.NewReader(key), client.PutOptions{})
	}
	for o, err := range c.AllObjects(ctx, "example-list", client.ListOptions{Prefix: "logs/"}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(o.Key, o.Size)
	}
	// Output:
	// logs/1 6
	// logs/2 6
}

func ExampleClient_PushFiles() {
	ctx := context.Background()
	c, _ := client.New(serverURL, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	dir, _ := os.MkdirTemp("", "coffer-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.onnx")
	_ = os.WriteFile(path, []byte("weights"), 0o644)

	desc, err := c.PushFiles(ctx, "examples/model", "v1", []string{path}, client.PushFilesOptions{ArtifactType: "application/vnd.example.model"})
	if err != nil {
		fmt.Println(err)
		return
	}
	out := filepath.Join(dir, "pulled")
	paths, err := c.PullFiles(ctx, "examples/model", desc.Digest, out, client.PullFilesOptions{})
	fmt.Println(desc.ArtifactType, len(paths), filepath.Base(paths[0]), err)
	// Output: application/vnd.example.model 1 model.onnx <nil>
}

func ExampleNewClientCredentials() {
	ctx := context.Background()
	provider, err := client.Discover(ctx, nil, kc.Issuer("coffer"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The token is fetched on first use and renewed before it expires.
	auth := client.NewClientCredentials(client.ClientCredentials{
		TokenURL: provider.TokenEndpoint, ClientID: "ci", ClientSecret: "ci-secret",
	})
	c, _ := client.New(serverURL, client.Options{Auth: auth})
	_, err = c.SystemInfo(ctx)
	fmt.Println(err)
	// Output: <nil>
}

func ExampleError() {
	ctx := context.Background()
	c, _ := client.New(serverURL, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	_, err := c.StatObject(ctx, "no-such-bucket", "key")
	var httpErr *client.Error
	fmt.Println(errors.Is(err, client.ErrNotFound), errors.As(err, &httpErr) && httpErr.StatusCode == 404)
	// Output: true true
}

func ExampleClient_CreateWebhook() {
	ctx := context.Background()
	c, _ := client.New(serverURL, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	w, err := c.CreateWebhook(ctx, client.CreateWebhookOptions{
		Name: "example-hook", URL: "https://ci.example.com/coffer", Types: []string{"io.coffer.object.*"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The generated secret appears only in this response; keep it to check
	// the signatures of deliveries.
	fmt.Println(w.ID, len(w.Secret) > 0)
	_ = c.DeleteWebhook(ctx, w.ID)
	// Output: example-hook true
}

func ExampleClient_CreateToken() {
	ctx := context.Background()
	c, _ := client.New(serverURL, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	token, err := c.CreateToken(ctx, client.CreateTokenOptions{
		Name:      "nightly backup",
		ExpiresIn: 30 * 24 * time.Hour,
		Scopes:    []client.Scope{{Actions: []string{"s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject"}, Resources: []string{"*"}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The secret is the password of HTTP Basic, with any user name, and
	// appears only in this response.
	byToken, _ := client.New(serverURL, client.Options{Auth: client.Basic{Username: "backup", Password: token.Secret}})
	_, err = byToken.Buckets(ctx)
	fmt.Println(err)

	_ = c.RevokeToken(ctx, token.ID)
	_, err = byToken.Buckets(ctx)
	fmt.Println(errors.Is(err, client.ErrUnauthorized))
	// Output:
	// <nil>
	// true
}

func ExampleClient_CreateAccessKey() {
	ctx := context.Background()
	c, _ := client.New(serverURL, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	key, err := c.CreateAccessKey(ctx, client.CreateAccessKeyOptions{
		Description: "read releases",
		Policy:      json.RawMessage(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::releases/*"}]}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// key.ID and key.Secret sign S3 requests, such as those of the AWS CLI.
	fmt.Println(key.Status, len(key.ID), len(key.Secret))
	_ = c.DeleteAccessKey(ctx, key.ID)
	// Output: active 20 40
}

func ExampleClient_Explain() {
	ctx := context.Background()
	c, _ := client.New(serverURL, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	e, err := c.Explain(ctx, client.ExplainRequest{
		Principal: &client.Principal{ID: "https://sso.example.com#alice"},
		Action:    "s3:GetObject",
		Resource:  "arn:aws:s3:::releases/app.tar",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Effect, e.Reason, e.StatementIDs)
	// Output: Allow allowed [readers]
}

func ExampleDenial() {
	ctx := context.Background()
	provider, _ := client.Discover(ctx, nil, kc.Issuer("coffer"))
	auth := client.NewClientCredentials(client.ClientCredentials{
		TokenURL: provider.TokenEndpoint, ClientID: "ci", ClientSecret: "ci-secret",
	})
	c, _ := client.New(serverURL, client.Options{Auth: auth})
	err := c.CreateBucket(ctx, "not-allowed")
	var httpErr *client.Error
	if errors.As(err, &httpErr) && httpErr.Denial != nil {
		d := httpErr.Denial
		fmt.Println(errors.Is(err, client.ErrForbidden), d.Action, d.Resource, d.Reason)
	}
	// Output: true s3:CreateBucket arn:aws:s3:::not-allowed no matching statement
}
