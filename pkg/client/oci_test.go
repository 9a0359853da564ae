package client_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cofferhq/coffer/pkg/client"
)

func TestPushPullFiles(t *testing.T) {
	c := newClient(t, nil, client.Options{ChunkSize: 64 << 10})
	ctx := t.Context()
	repo := "test/files-" + strconv.FormatInt(bucketCounter.Add(1), 10)
	dir := t.TempDir()
	small, large := []byte("release notes"), randomBytes(t, 200<<10)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), small, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.bin"), large, 0o644); err != nil {
		t.Fatal(err)
	}

	desc, err := c.PushFiles(ctx, repo, "v1", []string{filepath.Join(dir, "notes.txt"), filepath.Join(dir, "app.bin")}, client.PushFilesOptions{})
	if err != nil {
		t.Fatalf("push: %v", err)
	}

	out := t.TempDir()
	paths, err := c.PullFiles(ctx, repo, "v1", out, client.PullFilesOptions{})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if len(paths) != 2 {
		t.Fatalf("pulled %v, want 2 files", paths)
	}
	for name, want := range map[string][]byte{"notes.txt": small, "app.bin": large} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("pulled %s: %d bytes (%v), want %d", name, len(got), err, len(want))
		}
	}

	tags, err := c.Tags(ctx, repo, client.TagOptions{})
	if err != nil || len(tags.Tags) != 1 || tags.Tags[0] != "v1" {
		t.Errorf("tags: %v, %v; want [v1]", tags, err)
	}

	body, fetched, err := c.FetchManifest(ctx, repo, "v1")
	if err != nil || fetched.Digest != desc.Digest {
		t.Fatalf("fetch manifest: %v, digest %s; want %s", err, fetched.Digest, desc.Digest)
	}
	var manifest client.Manifest
	if err := json.Unmarshal(body, &manifest); err != nil || manifest.ArtifactType != client.DefaultArtifactType {
		t.Errorf("manifest artifactType %q (%v), want %s", manifest.ArtifactType, err, client.DefaultArtifactType)
	}

	sbom := filepath.Join(dir, "sbom.json")
	if err := os.WriteFile(sbom, []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	subject := desc
	if _, err := c.PushFiles(ctx, repo, "", []string{sbom}, client.PushFilesOptions{ArtifactType: "application/spdx+json", Subject: &subject}); err != nil {
		t.Fatalf("push referrer: %v", err)
	}
	referrers, err := c.Referrers(ctx, repo, desc.Digest, client.ReferrersOptions{})
	if err != nil || len(referrers) != 1 || referrers[0].ArtifactType != "application/spdx+json" {
		t.Errorf("referrers: %+v, %v; want one application/spdx+json", referrers, err)
	}
	filtered, err := c.Referrers(ctx, repo, desc.Digest, client.ReferrersOptions{ArtifactType: "application/other"})
	if err != nil || len(filtered) != 0 {
		t.Errorf("filtered referrers: %+v, %v; want none", filtered, err)
	}

	usage, err := c.RepositoryUsage(ctx, repo)
	if err != nil || usage.Manifests != 2 || usage.Tags != 1 {
		t.Errorf("usage: %+v, %v; want 2 manifests and 1 tag", usage, err)
	}

	if err := c.DeleteManifest(ctx, repo, "v1"); err != nil {
		t.Errorf("delete tag: %v", err)
	}
}
