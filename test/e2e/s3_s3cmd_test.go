package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// s3cmdPartSize is the multipart chunk size the test gives s3cmd, which is also its default.
const s3cmdPartSize = 15 * mib

// TestS3S3cmd puts, gets, lists and deletes objects with s3cmd, including a 20 MiB file that
// goes up as a multipart upload in 15 MiB parts.
func TestS3S3cmd(t *testing.T) {
	forEachScheme(t, func(t *testing.T, srv *server) {
		s3cmd := newS3cmd(t, srv)
		const bucket = "s3://s3cmd-bucket"
		dir := t.TempDir()
		s3cmd.run("mb", bucket)

		small := randomText(t, 1000)
		s3cmd.run("put", writeFile(t, dir, "small.txt", small), bucket+"/dir/small.txt")
		smallCopy := filepath.Join(dir, "small-download.txt")
		s3cmd.run("get", bucket+"/dir/small.txt", smallCopy)
		if got := readFile(t, smallCopy); !bytes.Equal(got, small) {
			t.Errorf("s3cmd get of dir/small.txt returned SHA-256 %s, expected %s", sha256Hex(got), sha256Hex(small))
		}

		const bigURL = bucket + "/dir/20mib.bin"
		big := filepath.Join(dir, "20mib.bin")
		bigSum := writeRandomFile(t, big, 20*mib)
		// --progress makes s3cmd print a line for each part.
		output := string(s3cmd.run("put", "--progress", fmt.Sprintf("--multipart-chunk-size-mb=%d", s3cmdPartSize/mib), big, bigURL))
		if !strings.Contains(output, "[part 2 of 2, 5MB]") {
			t.Errorf("s3cmd put of 20 MiB did not report a second part of 5 MiB after 15 MiB:\n%s", tail([]byte(output)))
		}
		bigCopy := filepath.Join(dir, "20mib-download.bin")
		s3cmd.run("get", bigURL, bigCopy)
		if got := fileSHA256(t, bigCopy); got != bigSum {
			t.Errorf("s3cmd get of dir/20mib.bin returned SHA-256 %s, expected %s", got, bigSum)
		}

		want := []string{bigURL, bucket + "/dir/small.txt"}
		if got := s3cmdListing(t, s3cmd.run("ls", bucket+"/dir/")); !slices.Equal(got, want) {
			t.Errorf("s3cmd ls %s/dir/ lists %q, expected %q", bucket, got, want)
		}

		s3cmd.run("del", bucket+"/dir/small.txt")
		if got := s3cmdListing(t, s3cmd.run("ls", bucket+"/dir/")); !slices.Equal(got, want[:1]) {
			t.Errorf("s3cmd ls after s3cmd del lists %q, expected %q", got, want[:1])
		}
		s3cmd.run("del", bigURL)
		if got := s3cmdListing(t, s3cmd.run("ls", bucket+"/dir/")); len(got) != 0 {
			t.Errorf("s3cmd ls after deleting every object lists %q, expected nothing", got)
		}
		s3cmd.run("rb", bucket)
	})
}

// s3cmdListing returns the object URLs in `s3cmd ls` output, whose lines are
// "DATE TIME SIZE URL" for objects and "DIR URL" for common prefixes.
func s3cmdListing(t *testing.T, output []byte) []string {
	t.Helper()
	var urls []string
	for _, line := range nonEmptyLines(string(output)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[len(fields)-1], "s3://") {
			t.Fatalf("s3cmd ls printed %q, expected a line that ends with an s3:// URL", line)
		}
		urls = append(urls, fields[len(fields)-1])
	}
	return urls
}

// s3cmdRunner runs s3cmd with a configuration file for one server.
type s3cmdRunner struct {
	*cli
	flags []string
}

func newS3cmd(t *testing.T, srv *server) *s3cmdRunner {
	t.Helper()
	https := srv.scheme() == "https"
	// host_bucket without %(bucket)s makes s3cmd use path-style requests.
	config := fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
bucket_location = %s
signature_v2 = False
use_https = %s
check_ssl_certificate = True
check_ssl_hostname = True
multipart_chunk_size_mb = %d
progress_meter = False
`, rootUser, rootPassword, srv.s3addr, srv.s3addr, s3Region, pythonBool(https), s3cmdPartSize/mib)
	configPath := filepath.Join(t.TempDir(), "s3cfg")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatalf("write s3cmd config: %v", err)
	}

	flags := []string{"--config", configPath}
	if https {
		flags = append(flags, "--ssl", "--ca-certs", srv.caPath)
	} else {
		flags = append(flags, "--no-ssl")
	}
	return &s3cmdRunner{cli: newCLI(t, srv, awsEnv(t, srv, https)), flags: flags}
}

// run runs an s3cmd command with the runner's flags and returns its standard output.
func (r *s3cmdRunner) run(args ...string) []byte {
	r.t.Helper()
	return r.cli.run("s3cmd", append(slices.Clone(r.flags), args...)...)
}

func pythonBool(value bool) string {
	if value {
		return "True"
	}
	return "False"
}
