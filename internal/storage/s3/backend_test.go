package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// versitygwModule is the versitygw release the tests build when no binary is given.
const versitygwModule = "github.com/versity/versitygw"

const versitygwVersion = "v1.8.0"

// serverStartTimeout bounds the wait for a started server to accept HTTP
// requests. It only turns a hung start into a failure, and no result depends on it.
const serverStartTimeout = 2 * time.Minute

// testBackend is an S3-compatible server that a test started on 127.0.0.1.
type testBackend struct {
	endpoint  string
	accessKey string
	secretKey string
	// responseOverrides is true when the server sends the headers that the
	// response-* parameters of a GET request name. moto 5.2.1 ignores them.
	responseOverrides bool
}

// startMoto starts moto_server on a free port and stops it when the test ends.
func startMoto(t *testing.T) testBackend {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("moto_server is not installed, so the moto backend cannot run: %v", err)
	}
	port := freePort(t)
	startServer(t, "moto_server", exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port)), port)
	return testBackend{endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), accessKey: "moto-access", secretKey: "moto-secret"}
}

// startVersityGW starts versitygw over a posix folder in a temp dir on a
// free port and stops it when the test ends.
func startVersityGW(t *testing.T) testBackend {
	t.Helper()
	path := versitygwBinary(t)
	port := freePort(t)
	backend := testBackend{
		endpoint:          fmt.Sprintf("http://127.0.0.1:%d", port),
		accessKey:         "coffer-test-access",
		secretKey:         "coffer-test-secret",
		responseOverrides: true,
	}
	cmd := exec.Command(path,
		"--port", fmt.Sprintf("127.0.0.1:%d", port),
		"--access", backend.accessKey,
		"--secret", backend.secretKey,
		"--quiet",
		"posix", t.TempDir())
	startServer(t, "versitygw", cmd, port)
	return backend
}

// versitygwBinary returns the path of a versitygw binary: COFFER_VERSITYGW
// when set, else bin/bench/versitygw of the repository when it exists, else
// one built from the Go module proxy into a temp dir.
func versitygwBinary(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("COFFER_VERSITYGW"); path != "" {
		return path
	}
	if root, err := repositoryRoot(); err == nil {
		path := filepath.Join(root, "bin", "bench", "versitygw")
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	return buildVersityGW(t)
}

// repositoryRoot returns the nearest parent directory with a go.mod file.
func repositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// buildVersityGW builds versitygw in a throwaway module and returns the binary.
func buildVersityGW(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("find the go command to build versitygw: %v", err)
	}
	dir := t.TempDir()
	binary := filepath.Join(t.TempDir(), "versitygw")
	steps := [][]string{
		{"mod", "init", "coffer.test/versitygw"},
		{"get", versitygwModule + "/cmd/versitygw@" + versitygwVersion},
		{"build", "-o", binary, versitygwModule + "/cmd/versitygw"},
	}
	for _, args := range steps {
		cmd := exec.Command(goTool, args...)
		cmd.Dir = dir
		if output, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build versitygw %s: go %v: %v\n%s", versitygwVersion, args, err, output)
		}
	}
	return binary
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port
}

// startServer starts cmd, waits until it responds to HTTP on port and kills it
// by its process ID when the test ends. Its output goes to a log file that
// a failed start prints.
func startServer(t *testing.T, name string, cmd *exec.Cmd, port int) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create %s log: %v", name, err)
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
	})

	if err := waitForHTTP(t.Context(), port, exited); err != nil {
		output, _ := os.ReadFile(logPath)
		t.Fatalf("%s (pid %d) did not start: %v\n%s", name, cmd.Process.Pid, err, output)
	}
}

// waitForHTTP polls http://127.0.0.1:port/ until any HTTP response arrives,
// the server process exits or serverStartTimeout passes.
func waitForHTTP(ctx context.Context, port int, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, serverStartTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("server exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("no HTTP response on port %d: %w", port, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// isolateAWSConfig points the SDK's shared files into a temp dir and turns
// off instance metadata, so no test reads ~/.aws or the network for credentials.
func isolateAWSConfig(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// adminClient returns an SDK client of backend for test setup and checks.
func (b testBackend) adminClient() *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       defaultRegion,
		BaseEndpoint: aws.String(b.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(b.accessKey, b.secretKey, ""),
	})
}

// createBucket creates a bucket that no other test uses.
func (b testBackend) createBucket(t *testing.T, buckets *int) string {
	t.Helper()
	*buckets++
	bucket := fmt.Sprintf("coffer-test-%d", *buckets)
	_, err := b.adminClient().CreateBucket(t.Context(), &awss3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("create bucket %q: %v", bucket, err)
	}
	return bucket
}

// newDriver creates a bucket and returns a driver that stores keys below
// prefix in it.
func (b testBackend) newDriver(t *testing.T, buckets *int, prefix string) *Driver {
	t.Helper()
	bucket := b.createBucket(t, buckets)
	d, err := New(t.Context(), b.options(bucket, prefix))
	if err != nil {
		t.Fatalf("New for bucket %q: %v", bucket, err)
	}
	return d
}

// options returns the driver options for bucket of b.
func (b testBackend) options(bucket, prefix string) Options {
	return Options{
		Endpoint:  b.endpoint,
		Region:    defaultRegion,
		Bucket:    bucket,
		Prefix:    prefix,
		PathStyle: true,
		AccessKey: b.accessKey,
		SecretKey: b.secretKey,
	}
}

// objectNames returns the names of every object in bucket, in listing order.
func (b testBackend) objectNames(t *testing.T, bucket string) []string {
	t.Helper()
	names := []string{}
	pages := awss3.NewListObjectsV2Paginator(b.adminClient(), &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(t.Context())
		if err != nil {
			t.Fatalf("list bucket %q: %v", bucket, err)
		}
		for _, obj := range page.Contents {
			names = append(names, aws.ToString(obj.Key))
		}
	}
	return names
}

// putObject stores content as the object name of bucket, bypassing the driver.
func (b testBackend) putObject(t *testing.T, bucket, name string, content []byte) {
	t.Helper()
	_, err := b.adminClient().PutObject(t.Context(), &awss3.PutObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(name),
		Body:   bytes.NewReader(content),
	})
	if err != nil {
		t.Fatalf("put object %q: %v", name, err)
	}
}
