package migrate_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
)

// Media types of the manifests a fixture builds.
const (
	imageType     = "application/vnd.oci.image.manifest.v1+json"
	indexType     = "application/vnd.oci.image.index.v1+json"
	configType    = "application/vnd.oci.image.config.v1+json"
	layerType     = "application/vnd.oci.image.layer.v1.tar+gzip"
	signatureType = "application/vnd.example.signature.v1+json"
)

// created is the time fixture records start from.
var created = time.Date(2026, 11, 30, 8, 0, 0, 123456789, time.UTC)

// source is a single-node deployment a test built: filesystem storage and
// SQLite metadata in a temp dir.
type source struct {
	cfg   config.Config
	root  string
	store *sqlite.Store
	t     *testing.T

	// Expected counts of what a migration copies.
	manifests, tags, objects, blobs int64
	// unlinked counts blobs that a manifest references and no repository links.
	unlinked int64
}

// shape is the size of a source to build.
type shape struct {
	repositories, imagesPerRepo, layers, buckets, objectsPerBucket int
}

// buildSource writes a source deployment of the given shape. To keep the
// fixture fast, blob content goes straight into the filesystem layout that
// a committed upload leaves. Metadata goes through the SQLite store's own
// methods.
func buildSource(t *testing.T, s shape) *source {
	t.Helper()
	dir := memoryDir(t)
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Storage.Filesystem.Root = filepath.Join(dir, "storage")
	cfg.Metadata.SQLite.Path = filepath.Join(dir, "metadata.db")
	store, err := sqlite.Open(t.Context(), cfg.Metadata.SQLite.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	src := &source{cfg: cfg, root: cfg.Storage.Filesystem.Root, store: store, t: t}

	layers := make([]metadata.Blob, s.layers)
	for i := range layers {
		layers[i] = src.writeBlob(fmt.Appendf(nil, "shared layer %d %0*d", i, 1024+i*16, i))
	}
	for r := range s.repositories {
		src.buildRepository(fmt.Sprintf("team/app-%02d", r), s.imagesPerRepo, layers)
	}
	for b := range s.buckets {
		src.buildBucket(fmt.Sprintf("bucket-%d", b), s.objectsPerBucket, layers[0])
	}
	src.openUploads()
	return src
}

// writeBlob stores content at its blob key and returns its identity.
func (s *source) writeBlob(content []byte) metadata.Blob {
	s.t.Helper()
	d := digest.SHA256.FromBytes(content)
	path := filepath.Join(s.root, filepath.FromSlash(blob.Key(d)))
	if _, err := os.Stat(path); err != nil {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			s.t.Fatal(err)
		}
		s.blobs++
	}
	return metadata.Blob{Digest: d, Size: int64(len(content))}
}

// link links a blob to repo.
func (s *source) link(repo string, b metadata.Blob) {
	s.t.Helper()
	if err := s.store.LinkBlob(s.t.Context(), repo, b); err != nil {
		s.t.Fatal(err)
	}
}

// put stores a manifest with tags.
func (s *source) put(m *metadata.Manifest, tags ...string) {
	s.t.Helper()
	if err := s.store.PutManifest(s.t.Context(), m, tags...); err != nil {
		s.t.Fatalf("put manifest %s in %s: %v", m.Digest, m.Repository, err)
	}
	s.manifests++
	s.tags += int64(len(tags))
}

// descriptor is the JSON of an OCI descriptor.
func descriptor(mediaType string, b metadata.Blob) map[string]any {
	return map[string]any{"mediaType": mediaType, "digest": b.Digest, "size": b.Size}
}

// manifest builds a manifest record whose content is the JSON of body.
func manifest(repo, mediaType string, body map[string]any, at time.Time) *metadata.Manifest {
	body["schemaVersion"] = 2
	body["mediaType"] = mediaType
	content, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return &metadata.Manifest{Repository: repo, Digest: digest.SHA256.FromBytes(content),
		MediaType: mediaType, Content: content, Created: at}
}

// buildRepository stores images tagged v<N>, an index of two of them, an
// index of that index, a signature of the first image, and an image whose
// config blob a client deleted after the push.
func (s *source) buildRepository(repo string, images int, layers []metadata.Blob) {
	var digests []*metadata.Manifest
	for i := range images {
		config := s.writeBlob(fmt.Appendf(nil, `{"architecture":"amd64","repo":%q,"image":%d}`, repo, i))
		a, b := layers[i%len(layers)], layers[(i*7+3)%len(layers)]
		for _, l := range []metadata.Blob{config, a, b} {
			s.link(repo, l)
		}
		m := manifest(repo, imageType, map[string]any{
			"config": descriptor(configType, config),
			"layers": []any{descriptor(layerType, a), descriptor(layerType, b)},
		}, created.Add(time.Duration(i)*time.Second))
		m.ArtifactType = configType
		m.Blobs = []digest.Digest{config.Digest, a.Digest, b.Digest}
		s.put(m, fmt.Sprintf("v%d", i))
		digests = append(digests, m)
	}

	idx := manifest(repo, indexType, map[string]any{"manifests": []any{
		map[string]any{"mediaType": imageType, "digest": digests[0].Digest, "size": len(digests[0].Content)},
		map[string]any{"mediaType": imageType, "digest": digests[1].Digest, "size": len(digests[1].Content)},
	}}, created)
	idx.Children = []digest.Digest{digests[0].Digest, digests[1].Digest}
	s.put(idx, "multi")
	nested := manifest(repo, indexType, map[string]any{"manifests": []any{
		map[string]any{"mediaType": indexType, "digest": idx.Digest, "size": len(idx.Content)},
	}}, created)
	nested.Children = []digest.Digest{idx.Digest}
	s.put(nested, "nested")

	sigConfig := s.writeBlob([]byte("{}"))
	sigLayer := s.writeBlob(fmt.Appendf(nil, "signature of %s", digests[0].Digest))
	s.link(repo, sigConfig)
	s.link(repo, sigLayer)
	sig := manifest(repo, imageType, map[string]any{
		"artifactType": signatureType,
		"config":       descriptor("application/vnd.oci.empty.v1+json", sigConfig),
		"layers":       []any{descriptor(signatureType, sigLayer)},
		"subject":      map[string]any{"mediaType": imageType, "digest": digests[0].Digest, "size": len(digests[0].Content)},
		"annotations":  map[string]any{"org.example.signer": repo},
	}, created)
	sig.ArtifactType, sig.Subject = signatureType, digests[0].Digest
	sig.Annotations = map[string]string{"org.example.signer": repo}
	sig.Blobs = []digest.Digest{sigConfig.Digest, sigLayer.Digest}
	s.put(sig)

	// A client deleted the config blob of the last image but kept the image.
	last := digests[len(digests)-1]
	if err := s.store.UnlinkBlob(s.t.Context(), repo, last.Blobs[0]); err != nil {
		s.t.Fatal(err)
	}
	s.unlinked++
}

// distinctObjectContents is how many different contents the objects of a
// bucket have: many files with the same bytes, as repeated release
// artifacts are, stored once.
const distinctObjectContents = 1000

// buildBucket stores objects with distinct content and a variety of the
// fields the objects domain keeps; the first shares its content with a
// layer, as a file pushed by both protocols does.
func (s *source) buildBucket(name string, objects int, shared metadata.Blob) {
	ctx := s.t.Context()
	if err := s.store.CreateBucket(ctx, metadata.Bucket{Name: name, Region: "eu-west-1", Created: created}); err != nil {
		s.t.Fatal(err)
	}
	for i := range objects {
		content := fmt.Appendf(nil, "object %d payload %0*d", i%distinctObjectContents, i%512, i%distinctObjectContents)
		if i == 0 {
			content, _ = os.ReadFile(filepath.Join(s.root, filepath.FromSlash(blob.Key(shared.Digest))))
		}
		b := s.writeBlob(content)
		sum := md5.Sum(content)
		o := &metadata.Object{
			Bucket: name, Key: fmt.Sprintf("releases/%03d/file-%05d.bin", i%100, i), Blob: b.Digest, Size: b.Size,
			ETag: hex.EncodeToString(sum[:]), ContentType: "application/octet-stream",
			Modified: created.Add(time.Duration(i) * time.Millisecond),
		}
		if i%3 == 0 {
			o.UserMetadata = map[string]string{"build": fmt.Sprint(i), "owner": "ci"}
		}
		if i%5 == 0 {
			o.Checksums, o.ChecksumType = map[string]string{"CRC32": "AAAAAA=="}, "FULL_OBJECT"
		}
		if i%7 == 0 {
			o.Headers = map[string]string{"Cache-Control": "max-age=60", "Content-Disposition": "attachment"}
		}
		if i%100 == 1 {
			o.ETag += "-2"
			o.Parts = []metadata.ObjectPart{{Number: 1, Size: b.Size / 2}, {Number: 2, Size: b.Size - b.Size/2}}
		}
		if _, err := s.store.PutObject(ctx, o, metadata.Precondition{}); err != nil {
			s.t.Fatal(err)
		}
		s.objects++
	}
}

// openUploads starts one OCI upload session and one multipart upload,
// which a migration reports and does not copy.
func (s *source) openUploads() {
	ctx := s.t.Context()
	now := time.Now()
	err := s.store.CreateUpload(ctx, metadata.Upload{ID: "session-1", Repository: "team/app-00", Created: now, Updated: now})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.store.CreateBucket(ctx, metadata.Bucket{Name: "uploads", Region: "eu-west-1", Created: created}); err != nil {
		s.t.Fatal(err)
	}
	err = s.store.CreateMultipartUpload(ctx, metadata.MultipartUpload{ID: "mpu-1", Bucket: "uploads", Key: "big.iso", Created: now})
	if err != nil {
		s.t.Fatal(err)
	}
}

// memoryDir returns a new folder in /dev/shm when the system has one, else
// in the test's temp dir. The source's SQLite database syncs every write,
// and on a memory file system that costs nothing, which keeps building
// 11,000 records fast.
func memoryDir(t *testing.T) string {
	t.Helper()
	if info, err := os.Stat("/dev/shm"); err != nil || !info.IsDir() {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "coffer-migrate-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
