package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// gcStressDuration is how long the writers push, pull and delete while garbage
	// collection runs every second.
	gcStressDuration = 2 * time.Minute
	// gcStressWriters is the number of concurrent writers.
	gcStressWriters = 8
	// gcStressSharedLayers is the number of layers that every writer's images draw from.
	gcStressSharedLayers = 6
	// gcStressLayerSize is the size of one layer.
	gcStressLayerSize = 32 << 10
	// gcStressRepo holds every image of the test.
	gcStressRepo = "e2e/gc-stress"
)

// gcStressEnv runs garbage collection every second with a grace period of a few seconds,
// and deletes untagged manifests as soon as the grace period allows.
var gcStressEnv = []string{
	"COFFER_GC_INTERVAL=1s",
	"COFFER_GC_GRACE_PERIOD=3s",
	"COFFER_GC_UNTAGGED_DELETE_AFTER=3s",
}

// gcImage is an image a writer pushed: its tag, manifest digest and blobs.
type gcImage struct {
	tag, digest string
	blobs       map[string][]byte // config and layers, by digest
}

// TestGCStress runs 8 writers that push images sharing layers, pull their own images and
// delete tags and manifests, while garbage collection runs every second. No pull of a tag
// that exists may fail, and once the writers stop, storage must hold exactly the blobs that
// the remaining tagged images reference.
func TestGCStress(t *testing.T) {
	srv := startCofferWith(t, t.TempDir(), "", nil, gcStressEnv...)
	client := newOCIClient(srv.addr)
	rng := rand.New(rand.NewPCG(4, 4))
	shared := make([][]byte, gcStressSharedLayers)
	for i := range shared {
		shared[i] = randomData(rng, gcStressLayerSize)
	}

	// The writers finish the operation in progress when the time is up, so no request is
	// cut off while the server may still complete it.
	stop := time.Now().Add(gcStressDuration)
	var wg sync.WaitGroup
	live := make([][]gcImage, gcStressWriters)
	stats := make([]gcWriterStats, gcStressWriters)
	for w := range gcStressWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			live[w] = runGCWriter(t.Context(), t, client, w, shared, stop, &stats[w])
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	var total gcWriterStats
	for w := range gcStressWriters {
		total.add(stats[w])
	}
	t.Logf("%d pushes (%d retried after a blob went away), %d pulls, %d deleted tags, %d deleted manifests",
		total.pushes, total.retries, total.pulls, total.tagDeletes, total.manifestDeletes)
	if total.pulls == 0 || total.tagDeletes == 0 || total.manifestDeletes == 0 {
		t.Fatalf("the writers did not exercise every operation: %+v", total)
	}
	checkStorageConverges(t, srv, referencedBlobs(t, client, live))
}

// referencedBlobs returns the blobs that the tagged manifests in the registry's metadata
// reference. It checks that every image a writer still holds is among them; a push that
// the end of the test interrupted may have created a tag, too.
func referencedBlobs(t *testing.T, client *ociClient, live [][]gcImage) map[string]bool {
	t.Helper()
	status, body, err := sendOCI(t.Context(), client, http.MethodGet, "/v2/"+gcStressRepo+"/tags/list?n=100000", nil, "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("list tags: status %d, error %v", status, err)
	}
	var list struct{ Tags []string }
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("decode tag list: %v", err)
	}
	for _, images := range live {
		for _, img := range images {
			if !slices.Contains(list.Tags, img.tag) {
				t.Errorf("tag %s, never deleted, is missing from the tag list", img.tag)
			}
		}
	}

	want := map[string]bool{}
	for _, tag := range list.Tags {
		status, body, err := sendOCI(t.Context(), client, http.MethodGet, "/v2/"+gcStressRepo+"/manifests/"+tag, nil, "")
		if err != nil || status != http.StatusOK {
			t.Fatalf("GET manifest %s: status %d, error %v", tag, status, err)
		}
		m := decodeJSON[manifest](t, "manifest "+tag, body)
		want[m.Config.Digest] = true
		for _, layer := range m.Layers {
			want[layer.Digest] = true
		}
	}
	return want
}

// gcWriterStats counts what one writer did.
type gcWriterStats struct {
	pushes, retries, pulls, tagDeletes, manifestDeletes int
}

func (s *gcWriterStats) add(o gcWriterStats) {
	s.pushes += o.pushes
	s.retries += o.retries
	s.pulls += o.pulls
	s.tagDeletes += o.tagDeletes
	s.manifestDeletes += o.manifestDeletes
}

// runGCWriter pushes, pulls and deletes images of writer w until the stop time, and returns
// the images whose tags still exist. Only this writer touches its tags, so a tag it has not
// deleted exists and every pull of it must succeed.
func runGCWriter(ctx context.Context, t *testing.T, client *ociClient, w int, shared [][]byte, stop time.Time, stats *gcWriterStats) []gcImage {
	rng := rand.New(rand.NewPCG(uint64(w), 99))
	var live []gcImage
	for n := 0; time.Now().Before(stop); n++ {
		img := newGCImage(rng, fmt.Sprintf("w%d-%d", w, n), shared)
		retries, err := pushGCImage(ctx, client, img)
		if err != nil {
			t.Errorf("writer %d: push %s: %v", w, img.tag, err)
			return nil
		}
		stats.pushes++
		stats.retries += retries
		live = append(live, img)

		pulled := live[rng.IntN(len(live))]
		if err := pullGCImage(ctx, client, pulled); err != nil {
			t.Errorf("writer %d: pull of existing tag %s: %v", w, pulled.tag, err)
			return nil
		}
		stats.pulls++

		if len(live) > 3 {
			i := rng.IntN(len(live))
			byDigest := rng.IntN(2) == 0
			if err := deleteGCImage(ctx, client, live[i], byDigest); err != nil {
				t.Errorf("writer %d: delete %s: %v", w, live[i].tag, err)
				return nil
			}
			if byDigest {
				stats.manifestDeletes++
			} else {
				stats.tagDeletes++
			}
			live = slices.Delete(live, i, i+1)
		}
	}
	return live
}

// newGCImage returns an image with a unique config, one unique layer and two shared layers.
func newGCImage(rng *rand.Rand, tag string, shared [][]byte) gcImage {
	config := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","tag":%q}`, tag))
	layers := [][]byte{randomData(rng, gcStressLayerSize), shared[rng.IntN(len(shared))], shared[rng.IntN(len(shared))]}
	img := gcImage{tag: tag, blobs: map[string][]byte{sha256Digest(config): config}}
	descriptors := make([]any, 0, len(layers))
	seen := map[string]bool{}
	for _, layer := range layers {
		d := sha256Digest(layer)
		if seen[d] {
			continue
		}
		seen[d] = true
		img.blobs[d] = layer
		descriptors = append(descriptors, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": len(layer)})
	}
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256Digest(config), "size": len(config)},
		"layers":        descriptors,
	})
	img.digest = sha256Digest(manifest)
	img.blobs["manifest"] = manifest
	return img
}

// pushGCImage pushes an image as registry clients do: each blob the registry does not
// report with HEAD, then the manifest. When a blob went away between the HEAD and the
// manifest (garbage collection took it), the manifest is rejected with MANIFEST_BLOB_UNKNOWN
// and the push starts again. It returns the number of such retries.
func pushGCImage(ctx context.Context, client *ociClient, img gcImage) (int, error) {
	for retries := 0; retries < 10; retries++ {
		for d, data := range img.blobs {
			if d == "manifest" {
				continue
			}
			if err := pushBlobUnlessPresent(ctx, client, d, data); err != nil {
				return retries, err
			}
		}
		status, body, err := sendOCI(ctx, client, http.MethodPut, "/v2/"+gcStressRepo+"/manifests/"+img.tag,
			img.blobs["manifest"], "application/vnd.oci.image.manifest.v1+json")
		switch {
		case err != nil:
			return retries, err
		case status == http.StatusCreated:
			return retries, nil
		case status != http.StatusBadRequest || !strings.Contains(string(body), "MANIFEST_BLOB_UNKNOWN"):
			return retries, fmt.Errorf("PUT manifest: status %d: %s", status, body)
		}
	}
	return 10, fmt.Errorf("PUT manifest: blobs went away ten times in a row")
}

// pushBlobUnlessPresent pushes data unless HEAD finds the blob.
func pushBlobUnlessPresent(ctx context.Context, client *ociClient, digest string, data []byte) error {
	status, _, err := sendOCI(ctx, client, http.MethodHead, "/v2/"+gcStressRepo+"/blobs/"+digest, nil, "")
	if err != nil || status == http.StatusOK {
		return err
	}
	status, body, err := sendOCI(ctx, client, http.MethodPost, "/v2/"+gcStressRepo+"/blobs/uploads/?digest="+digest, data, "application/octet-stream")
	if err == nil && status != http.StatusCreated {
		err = fmt.Errorf("push blob %s: status %d: %s", digest, status, body)
	}
	return err
}

// pullGCImage pulls the manifest of the image's tag and every blob, and checks the bytes.
func pullGCImage(ctx context.Context, client *ociClient, img gcImage) error {
	for d, want := range img.blobs {
		path := "/v2/" + gcStressRepo + "/blobs/" + d
		if d == "manifest" {
			path = "/v2/" + gcStressRepo + "/manifests/" + img.tag
		}
		status, body, err := sendOCI(ctx, client, http.MethodGet, path, nil, "")
		if err != nil {
			return err
		}
		if status != http.StatusOK || !bytes.Equal(body, want) {
			return fmt.Errorf("GET %s: status %d, %d bytes hashing to %s, want 200 and %s", path, status, len(body), sha256Digest(body), sha256Digest(want))
		}
	}
	return nil
}

// deleteGCImage deletes the image's tag, or its manifest with every tag when byDigest.
func deleteGCImage(ctx context.Context, client *ociClient, img gcImage, byDigest bool) error {
	ref := img.tag
	if byDigest {
		ref = img.digest
	}
	status, body, err := sendOCI(ctx, client, http.MethodDelete, "/v2/"+gcStressRepo+"/manifests/"+ref, nil, "")
	if err == nil && status != http.StatusAccepted {
		err = fmt.Errorf("DELETE manifest %s: status %d: %s", ref, status, body)
	}
	return err
}

// send sends an authenticated request and returns the status and body.
func sendOCI(ctx context.Context, client *ociClient, method, path string, body []byte, contentType string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, client.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(rootUser, rootPassword)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method == http.MethodGet {
		req.Header.Set("Accept", manifestMediaTypes)
	}
	resp, err := client.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// checkStorageConverges polls until the blobs under the filesystem storage of srv are
// exactly want, which garbage collection reaches once the grace periods of the last
// deletions have passed, and fails the test after a generous deadline.
func checkStorageConverges(t *testing.T, srv *server, want map[string]bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		stored := storedBlobs(t, filepath.Join(srv.dataDir, "storage", "blobs"))
		var missing, extra []string
		for d := range want {
			if !stored[d] {
				missing = append(missing, d)
			}
		}
		for d := range stored {
			if !want[d] {
				extra = append(extra, d)
			}
		}
		if len(missing) > 0 {
			t.Fatalf("storage lost %d blobs that remaining tags reference: %q", len(missing), missing)
		}
		if len(extra) == 0 {
			t.Logf("storage holds exactly the %d referenced blobs", len(want))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after two minutes storage still holds %d blobs that no tag references: %q", len(extra), extra)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// storedBlobs walks the blob folder of the filesystem driver and returns the digests that
// the file paths name.
func storedBlobs(t *testing.T, root string) map[string]bool {
	t.Helper()
	stored := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // garbage collection removed it during the walk
		}
		if err != nil || d.IsDir() {
			return err
		}
		parts := strings.Split(filepath.ToSlash(path), "/")
		stored[parts[len(parts)-3]+":"+parts[len(parts)-1]] = true
		return nil
	})
	if err != nil {
		t.Fatalf("walk stored blobs: %v", err)
	}
	return stored
}
