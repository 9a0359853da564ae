package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// s3Region is the only region the S3 API serves.
const s3Region = "us-east-1"

// s3ReadyTimeout bounds the wait for the S3 listener to accept connections after /readyz
// returned 200 on the main listener.
const s3ReadyTimeout = 10 * time.Second

// mib is one mebibyte, the unit of the part sizes the S3 clients use.
const mib = 1 << 20

// forEachScheme runs test once against a plain HTTP server and once against an HTTPS server.
// Both matter because botocore and aws-sdk-go-v2 send uploads as aws-chunked bodies with a
// trailing checksum only over HTTPS, and as plain bodies with a signed payload hash over HTTP.
func forEachScheme(t *testing.T, test func(t *testing.T, srv *server)) {
	t.Helper()
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			test(t, startS3Server(t, scheme == "https"))
		})
	}
}

// startS3Server starts cofferd, with HTTPS when https is true, and waits until its S3
// listener accepts connections.
func startS3Server(t *testing.T, https bool) *server {
	t.Helper()
	var srv *server
	if https {
		srv, _ = startCofferTLS(t)
	} else {
		srv = startCoffer(t)
	}
	waitS3Ready(t, srv)
	return srv
}

// waitS3Ready waits until the S3 listener of srv accepts connections.
func waitS3Ready(t *testing.T, srv *server) {
	t.Helper()
	deadline := time.Now().Add(s3ReadyTimeout)
	for {
		conn, err := net.DialTimeout("tcp", srv.s3addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("S3 listener %s did not accept connections within %v: %v\n%s", srv.s3addr, s3ReadyTimeout, err, srv.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// awsEnv returns the environment for the AWS CLI, boto3, s3cmd and rclone against srv: the
// root credentials, region us-east-1, a private HOME and AWS configuration files in the
// test's temporary folder, so nothing reads or writes ~/.aws. The configuration files do not
// exist until a test writes one. With https, AWS_CA_BUNDLE names the server's test CA.
// Otherwise it is unset, because the machine sets it to the system bundle.
func awsEnv(t *testing.T, srv *server, https bool) []string {
	t.Helper()
	home := t.TempDir()
	dropped := []string{"HOME", "AWS_", "BOTO_", "BOTO3_", "RCLONE_", "S3CMD_", "PYTHONPATH", "REQUESTS_CA_BUNDLE", "SSL_CERT_"}
	env := environWithout(dropped...)
	env = append(env,
		"HOME="+home,
		"AWS_ACCESS_KEY_ID="+rootUser,
		"AWS_SECRET_ACCESS_KEY="+rootPassword,
		"AWS_DEFAULT_REGION="+s3Region,
		"AWS_REGION="+s3Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "aws-credentials"),
		"AWS_PAGER=",
	)
	if https {
		if srv.caPath == "" {
			t.Fatalf("awsEnv: https requested, but the server at %s runs plain HTTP", srv.s3addr)
		}
		env = append(env, "AWS_CA_BUNDLE="+srv.caPath)
	}
	return env
}

// withS3v4Presign writes an AWS configuration file that makes the AWS CLI and boto3 presign
// with SigV4 instead of their default SigV2, and returns env unchanged: awsEnv already
// points AWS_CONFIG_FILE at that file.
func withS3v4Presign(t *testing.T, env []string) []string {
	t.Helper()
	config := "[default]\nregion = " + s3Region + "\ns3 =\n    signature_version = s3v4\n    addressing_style = path\n"
	path := envValue(env, "AWS_CONFIG_FILE")
	if path == "" {
		t.Fatal("withS3v4Presign: AWS_CONFIG_FILE is not set in the environment")
	}
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatalf("write AWS config %s: %v", path, err)
	}
	return env
}

// envValue returns the last value of name in env, which is the value a child process gets.
func envValue(env []string, name string) string {
	value := ""
	for _, entry := range env {
		if key, v, ok := strings.Cut(entry, "="); ok && key == name {
			value = v
		}
	}
	return value
}

// envWithout returns env less the variables named in names.
func envWithout(env []string, names ...string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(entry string) bool {
		key, _, _ := strings.Cut(entry, "=")
		return slices.Contains(names, key)
	})
}

// cli runs command-line S3 clients with one environment.
type cli struct {
	t   *testing.T
	srv *server
	env []string
}

func newCLI(t *testing.T, srv *server, env []string) *cli {
	return &cli{t: t, srv: srv, env: env}
}

// s3ToolPath finds a client binary. rclone and s3cmd come from the folder that
// install-tools.sh fills. The AWS CLI, python3 (with boto3) and curl come with the machine
// image and are found on PATH.
func s3ToolPath(t *testing.T, name string) string {
	t.Helper()
	if name == "rclone" || name == "s3cmd" {
		bin := os.Getenv(toolsBinEnv)
		if bin == "" {
			t.Fatalf("%s is not set: run test/e2e/install-tools.sh, then set %s to the folder it printed (make e2e does both)",
				toolsBinEnv, toolsBinEnv)
		}
		path := filepath.Join(bin, name)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s not found in %s=%s (%v): run test/e2e/install-tools.sh", name, toolsBinEnv, bin, err)
		}
		return path
	}
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found on PATH: %v", name, err)
	}
	return path
}

// exec runs a client with the cli's environment and returns its output and exit error.
func (c *cli) exec(name string, args ...string) (stdout, stderr []byte, err error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), commandTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, s3ToolPath(c.t, name), args...)
	cmd.Env = c.env
	cmd.Dir = c.t.TempDir()
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf
	err = cmd.Run()
	if ctx.Err() != nil {
		c.t.Fatalf("%s did not finish within %v\nstdout:\n%s\nstderr:\n%s", maskedCommand(name, args), commandTimeout,
			tail(outBuf.Bytes()), tail(errBuf.Bytes()))
	}
	return outBuf.Bytes(), errBuf.Bytes(), err
}

// run runs a client and fails the test with its output unless it exits with status 0.
func (c *cli) run(name string, args ...string) []byte {
	c.t.Helper()
	stdout, stderr, err := c.exec(name, args...)
	if err != nil {
		c.t.Fatalf("%s failed: %v\nstdout:\n%s\nstderr:\n%s", maskedCommand(name, args), err, tail(stdout), tail(stderr))
	}
	return stdout
}

// fail runs a client that is expected to fail and returns its standard output and error
// together. The test fails when the client exits with status 0.
func (c *cli) fail(name string, args ...string) string {
	c.t.Helper()
	stdout, stderr, err := c.exec(name, args...)
	if err == nil {
		c.t.Fatalf("%s succeeded, expected it to fail\nstdout:\n%s\nstderr:\n%s", maskedCommand(name, args), tail(stdout), tail(stderr))
	}
	if !isExitError(err) {
		c.t.Fatalf("%s did not run: %v", maskedCommand(name, args), err)
	}
	return string(stdout) + string(stderr)
}

// aws runs the AWS CLI against the server's S3 endpoint.
func (c *cli) aws(args ...string) []byte {
	c.t.Helper()
	return c.run("aws", append([]string{"--endpoint-url", c.srv.s3Endpoint()}, args...)...)
}

// awsFail runs the AWS CLI against the server's S3 endpoint and expects it to fail.
func (c *cli) awsFail(args ...string) string {
	c.t.Helper()
	return c.fail("aws", append([]string{"--endpoint-url", c.srv.s3Endpoint()}, args...)...)
}

// awsJSON runs an `aws s3api` command and decodes its JSON output into a value of type T.
func awsJSON[T any](c *cli, args ...string) T {
	c.t.Helper()
	out := c.aws(append([]string{"--output", "json", "s3api"}, args...)...)
	var value T
	if len(bytes.TrimSpace(out)) == 0 {
		return value
	}
	if err := json.Unmarshal(out, &value); err != nil {
		c.t.Fatalf("decode output of aws s3api %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return value
}

// maskedCommand formats a command line for failure messages with the root password masked.
func maskedCommand(name string, args []string) string {
	return strings.ReplaceAll(name+" "+strings.Join(args, " "), rootPassword, "***")
}

// tail returns the last 16 KiB of a client's output, which holds the error of a failed run.
func tail(output []byte) string {
	const limit = 16 << 10
	if len(output) <= limit {
		return string(output)
	}
	return "(earlier output cut)\n" + string(output[len(output)-limit:])
}

// writeRandomFile writes size random bytes to path, streaming them so that large files do
// not sit in memory, and returns their hex SHA-256.
func writeRandomFile(t *testing.T, path string, size int64) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("create folder of %s: %v", path, err)
	}
	file, err := os.Create(path)
	if err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
	defer file.Close()
	hash := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(file, hash), rand.Reader, size); err != nil {
		t.Fatalf("write %d random bytes to %s: %v", size, path, err)
	}
	if err := file.Close(); err != nil {
		t.Fatalf("close %s: %v", path, err)
	}
	return hex.EncodeToString(hash.Sum(nil))
}

// fileSHA256 returns the hex SHA-256 of a file's content.
func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer file.Close()
	hash := sha256.New()
	if _, err := io.Copy(hash, file); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return hex.EncodeToString(hash.Sum(nil))
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func md5Hex(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

// quotedETag returns the ETag S3 gives a single-part object: its hex MD5 in double quotes.
func quotedETag(data []byte) string {
	return `"` + md5Hex(data) + `"`
}

func md5Digest(data []byte) []byte {
	sum := md5.Sum(data)
	return sum[:]
}

// multipartETag returns the ETag S3 gives a multipart object: the hex MD5 of the
// concatenated binary MD5s of the parts, then "-" and the part count, in double quotes.
func multipartETag(parts ...[]byte) string {
	var partMD5s [][]byte
	for _, part := range parts {
		partMD5s = append(partMD5s, md5Digest(part))
	}
	return multipartETagFromMD5s(partMD5s)
}

// multipartETagFromMD5s is multipartETag for parts given by their binary MD5s.
func multipartETagFromMD5s(partMD5s [][]byte) string {
	return fmt.Sprintf(`"%s-%d"`, md5Hex(bytes.Join(partMD5s, nil)), len(partMD5s))
}

// treeFiles returns the files under root, by slash-separated relative path, with their
// content.
func treeFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, entry os.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return files
}

// treeModTime is the modification time writeTree gives every file. `aws s3 sync` uploads a
// file whose modification time is newer than the object's LastModified. S3 reports
// LastModified in whole seconds, so a file written in the second of its upload would be
// uploaded again.
var treeModTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// writeTree writes files, keyed by slash-separated relative path, under root, with
// modification time treeModTime.
func writeTree(t *testing.T, root string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("create folder of %s: %v", path, err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
		if err := os.Chtimes(path, treeModTime, treeModTime); err != nil {
			t.Fatalf("set modification time of %s: %v", path, err)
		}
	}
}

// smallTree returns count small random files spread over nested folders, keyed by
// slash-separated relative path.
func smallTree(t *testing.T, count int) map[string][]byte {
	t.Helper()
	folders := []string{"", "docs/", "docs/api/", "src/main/", "src/main/deep/er/"}
	files := map[string][]byte{}
	for i := range count {
		name := fmt.Sprintf("%sfile-%02d.txt", folders[i%len(folders)], i)
		files[name] = randomText(t, 100+i*37)
	}
	return files
}

// checkSameTree fails the test unless got has exactly the files of want with the same bytes.
func checkSameTree(t *testing.T, description string, got, want map[string][]byte) {
	t.Helper()
	gotNames, wantNames := fileNames(got), fileNames(want)
	if !slices.Equal(gotNames, wantNames) {
		t.Errorf("%s has files %q, expected %q", description, gotNames, wantNames)
		return
	}
	for _, name := range wantNames {
		if !bytes.Equal(got[name], want[name]) {
			t.Errorf("%s: %s has SHA-256 %s, expected %s", description, name, sha256Hex(got[name]), sha256Hex(want[name]))
		}
	}
}

// s3ErrorBody is the XML error document of the S3 API.
type s3ErrorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
}

// parseS3Error decodes an S3 error document and fails the test when body is not one.
func parseS3Error(t *testing.T, body []byte) s3ErrorBody {
	t.Helper()
	var doc s3ErrorBody
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("response body is not an S3 error document: %v\n%s", err, body)
	}
	return doc
}
