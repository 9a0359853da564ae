package cli

import "testing"

func TestParseLocation(t *testing.T) {
	cases := []struct {
		arg  string
		want location
	}{
		{"s3://bucket/dir/key.txt", location{remote: true, bucket: "bucket", key: "dir/key.txt"}},
		{"s3://bucket", location{remote: true, bucket: "bucket"}},
		{"s3://bucket/", location{remote: true, bucket: "bucket"}},
		{"./local/file", location{path: "./local/file"}},
	}
	for _, c := range cases {
		if got := parseLocation(c.arg); got != c.want {
			t.Errorf("parseLocation(%q) = %+v, want %+v", c.arg, got, c.want)
		}
	}
}

func TestSingleDestination(t *testing.T) {
	source := location{path: "/tmp/app.tar"}
	if got := singleDestination(source, location{remote: true, bucket: "b", key: "releases/"}); got.key != "releases/app.tar" {
		t.Errorf("prefix destination: key %q, want releases/app.tar", got.key)
	}
	if got := singleDestination(source, location{remote: true, bucket: "b"}); got.key != "app.tar" {
		t.Errorf("bucket destination: key %q, want app.tar", got.key)
	}
	if got := singleDestination(source, location{remote: true, bucket: "b", key: "named"}); got.key != "named" {
		t.Errorf("key destination: key %q, want named", got.key)
	}
	remote := location{remote: true, bucket: "b", key: "dir/report.pdf"}
	dir := t.TempDir()
	if got := singleDestination(remote, location{path: dir}); got.path != dir+"/report.pdf" {
		t.Errorf("folder destination: path %q, want %s/report.pdf", got.path, dir)
	}
}

func TestParseReference(t *testing.T) {
	cases := []struct {
		arg, server string
		want        reference
	}{
		{"team/app:v1", "http://127.0.0.1:5000", reference{repo: "team/app", tag: "v1"}},
		{"127.0.0.1:5000/team/app:v1", "http://127.0.0.1:5000", reference{repo: "team/app", tag: "v1"}},
		{"team/app@sha256:abc", "http://h", reference{repo: "team/app", tag: "sha256:abc"}},
		{"team/app", "http://h", reference{repo: "team/app", tag: "latest"}},
	}
	for _, c := range cases {
		got, err := parseReference(c.arg, c.server, false)
		if err != nil || got != c.want {
			t.Errorf("parseReference(%q) = %+v, %v; want %+v", c.arg, got, err, c.want)
		}
	}
	if _, err := parseReference("team/app", "http://h", true); ExitCode(err) != ExitUsage {
		t.Errorf("reference without a tag where one is required: %v, want a usage error", err)
	}
}
