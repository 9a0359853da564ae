package e2e

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestS3Rclone copies a folder to a bucket with rclone, checks it with rclone check and
// rclone md5sum, syncs a changed folder over it and copies everything back.
func TestS3Rclone(t *testing.T) {
	forEachScheme(t, func(t *testing.T, srv *server) {
		rc := newRclone(t, srv)
		const remote = "coffer:rclone-bucket/data"
		rc.run("mkdir", "coffer:rclone-bucket")

		tree := smallTree(t, 12)
		// rclone 1.60 sends files below its 200 MiB upload cutoff as one PUT, so this one
		// checks a larger single PUT.
		tree["big/6mib.bin"] = randomBytes(t, 6*mib)
		source := t.TempDir()
		writeTree(t, source, tree)

		rc.run("copy", source, remote)
		rc.run("check", source, remote)
		checkRcloneListing(t, rc, remote, tree)

		// sync makes the bucket match a changed folder: one file removed, one rewritten with a
		// new length, one added.
		changed := maps.Clone(tree)
		delete(changed, "file-00.txt")
		changed["docs/file-01.txt"] = randomText(t, len(tree["docs/file-01.txt"])+10)
		changed["added/new.txt"] = randomText(t, 500)
		changedSource := t.TempDir()
		writeTree(t, changedSource, changed)

		rc.run("sync", changedSource, remote)
		rc.run("check", changedSource, remote)
		checkRcloneListing(t, rc, remote, changed)

		target := t.TempDir()
		rc.run("copy", remote, target)
		checkSameTree(t, "folder copied down with rclone", treeFiles(t, target), changed)
	})
}

// checkRcloneListing checks that rclone lsf and rclone md5sum list exactly the files of
// tree with their MD5s.
func checkRcloneListing(t *testing.T, rc *rcloneRunner, remote string, tree map[string][]byte) {
	t.Helper()
	listed := nonEmptyLines(string(rc.run("lsf", "--recursive", "--files-only", remote)))
	slices.Sort(listed)
	if want := fileNames(tree); !slices.Equal(listed, want) {
		t.Errorf("rclone lsf %s lists %q, expected %q", remote, listed, want)
	}

	sums := map[string]string{}
	for _, line := range nonEmptyLines(string(rc.run("md5sum", remote))) {
		sum, name, found := strings.Cut(line, "  ")
		if !found {
			t.Fatalf("rclone md5sum printed %q, expected MD5, two spaces and a path", line)
		}
		sums[name] = sum
	}
	want := map[string]string{}
	for name, data := range tree {
		want[name] = md5Hex(data)
	}
	if !maps.Equal(sums, want) {
		t.Errorf("rclone md5sum %s = %v, expected %v", remote, sums, want)
	}
}

// rcloneRunner runs rclone with a configuration file for one server, in which the remote
// "coffer" is the server's S3 API.
type rcloneRunner struct {
	*cli
	flags []string
}

func newRclone(t *testing.T, srv *server) *rcloneRunner {
	t.Helper()
	https := srv.scheme() == "https"
	// rclone 1.60 fails with "unsupported transport" whenever AWS_CA_BUNDLE is set, so the
	// test CA goes to --ca-cert instead.
	env := envWithout(awsEnv(t, srv, https), "AWS_CA_BUNDLE")
	configPath := filepath.Join(t.TempDir(), "rclone.conf")
	config := fmt.Sprintf(`[coffer]
type = s3
provider = Other
access_key_id = %s
secret_access_key = %s
endpoint = %s
region = %s
force_path_style = true
`, rootUser, rootPassword, srv.s3Endpoint(), s3Region)
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatalf("write rclone config: %v", err)
	}

	// One try per operation, so a failure shows the first error and not three retries.
	flags := []string{"--config", configPath, "--retries", "1", "--low-level-retries", "1"}
	if https {
		flags = append(flags, "--ca-cert", srv.caPath)
	}
	return &rcloneRunner{cli: newCLI(t, srv, env), flags: flags}
}

// run runs an rclone subcommand with the runner's flags and returns its standard output.
func (r *rcloneRunner) run(args ...string) []byte {
	r.t.Helper()
	return r.cli.run("rclone", append(slices.Clone(r.flags), args...)...)
}
