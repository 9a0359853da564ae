package cli

import (
	"fmt"
	"net/url"
	"strings"
)

// remotePrefix starts an object location.
const remotePrefix = "s3://"

// location is a local path or an object location s3://bucket/key.
type location struct {
	remote bool
	bucket string
	key    string // may be empty or a prefix ending in /
	path   string // local path
}

func parseLocation(arg string) location {
	if !strings.HasPrefix(arg, remotePrefix) {
		return location{path: arg}
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(arg, remotePrefix), "/")
	return location{remote: true, bucket: bucket, key: key}
}

func (l location) String() string {
	if !l.remote {
		return l.path
	}
	return remotePrefix + l.bucket + "/" + l.key
}

// parseRemote parses an argument that must be an object location.
func parseRemote(arg string, needKey bool) (location, error) {
	l := parseLocation(arg)
	switch {
	case !l.remote:
		return l, usageError{fmt.Errorf("%q is not an object location: expected s3://bucket/key", arg)}
	case l.bucket == "":
		return l, usageError{fmt.Errorf("%q names no bucket: expected s3://bucket/key", arg)}
	case needKey && l.key == "":
		return l, usageError{fmt.Errorf("%q names no key: expected s3://bucket/key", arg)}
	}
	return l, nil
}

// reference is an OCI repository with a tag or digest.
type reference struct {
	repo string
	tag  string // tag or digest
}

func (r reference) String() string {
	if strings.HasPrefix(r.tag, "sha256:") {
		return r.repo + "@" + r.tag
	}
	return r.repo + ":" + r.tag
}

// parseReference reads "repo:tag", "repo@sha256:<hex>" or "repo" (tag
// latest when allowed). A leading host that is the server's is dropped, so
// references copied from docker or oras work.
func parseReference(arg, server string, tagRequired bool) (reference, error) {
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		arg = strings.TrimPrefix(arg, u.Host+"/")
	}
	if repo, digest, ok := strings.Cut(arg, "@"); ok {
		return reference{repo: repo, tag: digest}, nil
	}
	slash := strings.LastIndex(arg, "/")
	if colon := strings.LastIndex(arg, ":"); colon > slash {
		return reference{repo: arg[:colon], tag: arg[colon+1:]}, nil
	}
	if tagRequired {
		return reference{}, usageError{fmt.Errorf("%q names no tag: expected repository:tag or repository@sha256:<hex>", arg)}
	}
	return reference{repo: arg, tag: "latest"}, nil
}
