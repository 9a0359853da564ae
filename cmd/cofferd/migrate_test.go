package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes a configuration file and returns its path.
func writeConfig(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// singleNode returns a configuration of a deployment in its own data dir.
func singleNode(t *testing.T, dir, name string) string {
	t.Helper()
	return writeConfig(t, dir, name+".yaml", "data_dir: "+filepath.Join(dir, name)+"\n")
}

func TestMigrateRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	good := singleNode(t, dir, "source")
	other := singleNode(t, dir, "target")
	unknownKey := writeConfig(t, dir, "unknown.yaml", "storage:\n  drivr: s3\n")
	noBucket := writeConfig(t, dir, "nobucket.yaml", "storage:\n  driver: s3\nmetadata:\n  driver: postgres\n  postgres:\n    url: postgres://db/coffer\n")
	memory := writeConfig(t, dir, "memory.yaml", "storage:\n  driver: memory\n")

	tests := []struct {
		name string
		args []string
		want []string // substrings of the error
	}{
		{"no target", []string{"--from", good}, []string{"--from and --to"}},
		{"argument", []string{"--from", good, "--to", other, "extra"}, []string{`unexpected argument "extra"`}},
		{"workers", []string{"--from", good, "--to", other, "--workers", "0"}, []string{"--workers must be at least 1"}},
		{"missing file", []string{"--from", filepath.Join(dir, "absent.yaml"), "--to", other}, []string{"--from", "absent.yaml"}},
		{"unknown key", []string{"--from", good, "--to", unknownKey}, []string{"--to", unknownKey, "drivr"}},
		{"invalid value", []string{"--from", good, "--to", noBucket}, []string{"--to", noBucket, "storage.s3.bucket"}},
		{"memory", []string{"--from", memory, "--to", other}, []string{"--from", memory, "storage.driver memory"}},
		{"same deployment", []string{"--from", good, "--to", good}, []string{"same storage and metadata store"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			if code := runMigrate(tt.args, &stdout, &stderr); code != exitUsageError {
				t.Errorf("exit code %d, want %d; stderr: %s", code, exitUsageError, stderr.String())
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q does not contain %q", stderr.String(), want)
				}
			}
		})
	}
}

func TestMigrateEmptyDeployment(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr strings.Builder
	code := runMigrate([]string{"--from", singleNode(t, dir, "source"), "--to", singleNode(t, dir, "target")}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr: %s", code, stderr.String())
	}
	want := "stored or already in the target: 0 buckets, 0 repositories, 0 blob links, 0 manifests, 0 tags, 0 objects\n" +
		"blob content: 0 blobs (0 bytes) copied and verified, 0 already in the target\n" +
		"not copied: 0 open upload sessions, 0 open multipart uploads\n"
	if stdout.String() != want {
		t.Errorf("stdout =\n%s\nwant\n%s", stdout.String(), want)
	}
}

func TestMigrateUnreachableTargetExitsOne(t *testing.T) {
	dir := t.TempDir()
	// Port 1 on the loopback address refuses connections at once.
	target := writeConfig(t, dir, "target.yaml", "data_dir: "+filepath.Join(dir, "target")+"\n"+
		"metadata:\n  driver: postgres\n  postgres:\n    url: postgres://coffer@127.0.0.1:1/coffer?connect_timeout=5\n")
	var stdout, stderr strings.Builder
	code := runMigrate([]string{"--from", singleNode(t, dir, "source"), "--to", target}, &stdout, &stderr)
	if code != exitFound {
		t.Fatalf("exit code %d, want %d; stderr: %s", code, exitFound, stderr.String())
	}
	if !strings.Contains(stderr.String(), "open the target deployment") {
		t.Errorf("stderr %q does not say the target could not be opened", stderr.String())
	}
}
