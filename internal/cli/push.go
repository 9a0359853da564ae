package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// pushFlags are the flags of coffer push.
type pushFlags struct {
	artifactType string
	mediaType    string
	annotations  []string
}

func newPushCommand(a *app) *cobra.Command {
	var f pushFlags
	cmd := &cobra.Command{
		Use:   "push REPOSITORY:TAG FILE...",
		Short: "Push files as an OCI artifact",
		Long: `Push files as one OCI artifact: each file becomes a layer titled with its
base name, under an empty config, in a manifest tagged TAG. oras and other
OCI clients pull the same files back.`,
		Example: `  coffer push team/app/model:v3 model.onnx tokenizer.json --artifact-type application/vnd.example.model`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runPush(cmd.Context(), f, args[0], args[1:])
		},
	}
	cmd.Flags().StringVar(&f.artifactType, "artifact-type", "", "artifactType of the manifest (default "+client.DefaultArtifactType+")")
	cmd.Flags().StringVar(&f.mediaType, "media-type", "", "media type of every layer (default "+client.MediaTypeFile+")")
	cmd.Flags().StringArrayVar(&f.annotations, "annotation", nil, "manifest annotation as key=value; repeat for more")
	return cmd
}

// pushResult is the JSON output of push.
type pushResult struct {
	Reference    string `json:"reference"`
	Digest       string `json:"digest"`
	MediaType    string `json:"media_type"`
	ArtifactType string `json:"artifact_type"`
	Size         int64  `json:"size"`
}

func (a *app) runPush(ctx context.Context, f pushFlags, refArg string, files []string) error {
	ref, err := parseReference(refArg, a.settings.Server, true)
	if err != nil {
		return err
	}
	annotations, err := parseAnnotations(f.annotations)
	if err != nil {
		return err
	}
	sizes := make([]int64, len(files))
	for i, file := range files {
		info, err := os.Stat(file)
		if err != nil {
			return err
		}
		sizes[i] = info.Size()
	}
	c, err := a.newClient(ctx)
	if err != nil {
		return err
	}

	bars := a.newProgress()
	tracker := newBarTracker(bars)
	for i, file := range files {
		tracker.add(file, filepath.Base(file), sizes[i])
	}
	desc, err := c.PushFiles(ctx, ref.repo, tagOrEmpty(ref), files, client.PushFilesOptions{
		ArtifactType: f.artifactType, MediaType: f.mediaType, Annotations: annotations, Progress: tracker.update,
	})
	tracker.finish(err == nil)
	bars.wait()
	if err != nil {
		return err
	}

	result := pushResult{Reference: ref.String(), Digest: desc.Digest, MediaType: desc.MediaType, ArtifactType: desc.ArtifactType, Size: desc.Size}
	if a.jsonOutput() {
		return a.printJSON(result)
	}
	fmt.Fprintf(a.streams.Out, "pushed %s@%s\n", ref, desc.Digest)
	return nil
}

// parseAnnotations reads key=value pairs; none gives a nil map.
func parseAnnotations(entries []string) (map[string]string, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	annotations := map[string]string{}
	for _, entry := range entries {
		key, value, ok := strings.Cut(entry, "=")
		if !ok || key == "" {
			return nil, usageError{fmt.Errorf("annotation %q: expected key=value", entry)}
		}
		annotations[key] = value
	}
	return annotations, nil
}

// tagOrEmpty returns the tag of ref, or empty when ref names a digest.
func tagOrEmpty(ref reference) string {
	if strings.HasPrefix(ref.tag, "sha256:") {
		return ""
	}
	return ref.tag
}

// barTracker keeps one progress bar per file of a push or pull.
type barTracker struct {
	bars    *progress
	mu      sync.Mutex
	updates map[string]func(int64)
	dones   []func(bool)
}

func newBarTracker(bars *progress) *barTracker {
	return &barTracker{bars: bars, updates: map[string]func(int64){}}
}

func (t *barTracker) add(path, name string, size int64) {
	update, done := t.bars.bar(name, size)
	t.mu.Lock()
	t.updates[path] = update
	t.dones = append(t.dones, done)
	t.mu.Unlock()
}

func (t *barTracker) update(path string, n int64) {
	t.mu.Lock()
	update := t.updates[path]
	t.mu.Unlock()
	if update != nil {
		update(n)
	}
}

func (t *barTracker) finish(ok bool) {
	for _, done := range t.dones {
		done(ok)
	}
}
