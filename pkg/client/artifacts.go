package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
)

// emptyConfig is the config blob of an artifact without one.
var emptyConfig = Descriptor{
	MediaType: MediaTypeEmptyJSON,
	Digest:    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
	Size:      2,
}

// PushFilesOptions configures [Client.PushFiles].
type PushFilesOptions struct {
	// ArtifactType is the manifest's artifactType. Empty uses
	// "application/vnd.coffer.files.v1".
	ArtifactType string
	// MediaType is every layer's media type. Empty uses
	// application/octet-stream.
	MediaType string
	// Annotations are set on the manifest. Nil sets none.
	Annotations map[string]string
	// Subject, when not nil, attaches the artifact to that manifest, so it
	// appears among the subject's referrers.
	Subject *Descriptor
	// Progress, when not nil, is called with the file's path and the bytes
	// of it the server holds or is receiving.
	Progress func(path string, transferred int64)
}

// DefaultArtifactType is the artifactType of [Client.PushFiles] when the
// caller names none.
const DefaultArtifactType = "application/vnd.coffer.files.v1"

// PushFiles pushes local files as one OCI artifact: each file a layer
// titled with its base name, an empty config, and a manifest tagged tag
// (or untagged when tag is empty). It returns the manifest's descriptor.
// Clients such as oras pull the result with the same file names.
func (c *Client) PushFiles(ctx context.Context, repo, tag string, paths []string, opts PushFilesOptions) (Descriptor, error) {
	manifest := Manifest{
		SchemaVersion: 2,
		MediaType:     MediaTypeImageManifest,
		ArtifactType:  opts.ArtifactType,
		Config:        emptyConfig,
		Subject:       opts.Subject,
		Annotations:   opts.Annotations,
		Layers:        []Descriptor{},
	}
	if manifest.ArtifactType == "" {
		manifest.ArtifactType = DefaultArtifactType
	}
	mediaType := opts.MediaType
	if mediaType == "" {
		mediaType = MediaTypeFile
	}
	titles := map[string]bool{}
	for _, path := range paths {
		title := filepath.Base(path)
		if titles[title] {
			return Descriptor{}, fmt.Errorf("push %s: two files are named %s; an artifact's layers need distinct names", repo, title)
		}
		titles[title] = true
	}

	for _, path := range paths {
		layer, err := c.pushFile(ctx, repo, path, opts.Progress)
		if err != nil {
			return Descriptor{}, err
		}
		layer.MediaType = mediaType
		layer.Annotations = map[string]string{AnnotationTitle: filepath.Base(path)}
		manifest.Layers = append(manifest.Layers, layer)
	}
	if _, err := c.PushBlob(ctx, repo, bytes.NewReader([]byte("{}")), PushBlobOptions{Size: 2, Digest: emptyConfig.Digest}); err != nil {
		return Descriptor{}, err
	}

	body, err := json.Marshal(manifest)
	if err != nil {
		return Descriptor{}, fmt.Errorf("encode manifest: %w", err)
	}
	desc, err := c.PushManifest(ctx, repo, tag, MediaTypeImageManifest, body)
	if err != nil {
		return Descriptor{}, err
	}
	desc.ArtifactType = manifest.ArtifactType
	return desc, nil
}

func (c *Client) pushFile(ctx context.Context, repo, path string, progress func(string, int64)) (Descriptor, error) {
	file, err := os.Open(path)
	if err != nil {
		return Descriptor{}, fmt.Errorf("push %s: %w", path, err)
	}
	defer file.Close()
	opts := PushBlobOptions{}
	if progress != nil {
		opts.Progress = func(n int64) { progress(path, n) }
	}
	desc, err := c.PushBlob(ctx, repo, file, opts)
	if err != nil {
		return Descriptor{}, fmt.Errorf("push %s: %w", path, err)
	}
	return desc, nil
}

// PullFilesOptions configures [Client.PullFiles].
type PullFilesOptions struct {
	// Progress, when not nil, is called with each file's path and the bytes
	// of it written so far.
	Progress func(path string, transferred int64)
	// Size, when not nil, is called with each file's path and size before
	// its transfer starts.
	Size func(path string, size int64)
}

// PullFiles writes the layers of an artifact into dir, each under its
// title annotation, and returns the paths written. Each file is verified
// against its digest before it replaces an existing file, and a pull
// interrupted earlier continues from its partial file. A title that is
// not a plain relative path (absolute, or with "..") is rejected.
func (c *Client) PullFiles(ctx context.Context, repo, reference, dir string, opts PullFilesOptions) ([]string, error) {
	body, _, err := c.FetchManifest(ctx, repo, reference)
	if err != nil {
		return nil, err
	}
	var manifest Manifest
	if err := json.Unmarshal(body, &manifest); err != nil {
		return nil, fmt.Errorf("pull %s:%s: decode manifest: %w", repo, reference, err)
	}
	if manifest.MediaType == MediaTypeImageIndex {
		return nil, fmt.Errorf("pull %s:%s: the reference is an index, not an artifact manifest; pull one of its manifests by digest", repo, reference)
	}
	var paths []string
	for _, layer := range manifest.Layers {
		title := layer.Annotations[AnnotationTitle]
		if err := checkTitle(title); err != nil {
			return paths, fmt.Errorf("pull %s:%s: layer %s: %w", repo, reference, layer.Digest, err)
		}
		path := filepath.Join(dir, filepath.FromSlash(title))
		if err := c.pullFile(ctx, repo, layer, path, opts); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// checkTitle accepts a title that names a file below the target folder.
func checkTitle(title string) error {
	switch {
	case title == "":
		return errors.New("no " + AnnotationTitle + " annotation names its file")
	case filepath.IsAbs(title) || strings.HasPrefix(title, "/") || !filepath.IsLocal(filepath.FromSlash(title)):
		return fmt.Errorf("title %q is not a relative path inside the target folder", title)
	}
	return nil
}

func (c *Client) pullFile(ctx context.Context, repo string, layer Descriptor, path string, opts PullFilesOptions) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("pull %s: %w", path, err)
	}
	if opts.Size != nil {
		opts.Size(path, layer.Size)
	}
	var report func(int64)
	if opts.Progress != nil {
		report = func(n int64) { opts.Progress(path, n) }
	}
	open := func(offset int64, prefix hash.Hash, progress func(int64)) (*ObjectReader, error) {
		r, err := c.FetchBlob(ctx, repo, layer.Digest, offset)
		if err != nil {
			return nil, err
		}
		r.h, r.progress, r.info.Size = prefix, progress, layer.Size
		return r, nil
	}
	if err := fetchToFile(path, layer.Digest, layer.Size, open, report); err != nil {
		return fmt.Errorf("pull %s: %w", path, err)
	}
	return nil
}
