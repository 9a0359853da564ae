package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReferenceDocsCurrent fails when docs/cli differs from the commands.
// Regenerate with: go run ./cmd/coffer gen-docs docs/cli
func TestReferenceDocsCurrent(t *testing.T) {
	root := NewRootCommand(Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
	pages := ReferencePages(root)
	dir := filepath.Join("..", "..", "docs", "cli")
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("docs/cli/%s is stale or missing (%v); run: go run ./cmd/coffer gen-docs docs/cli", name, err)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "coffer*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if _, ok := pages[filepath.Base(file)]; !ok {
			t.Errorf("docs/cli/%s documents no command; delete it", filepath.Base(file))
		}
	}
}
