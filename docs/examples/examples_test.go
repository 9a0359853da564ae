// Package examples holds the CI/CD examples of docs/ci-cd.md. Its test
// parses every YAML file below it and checks the keys and kinds that
// GitHub Actions and Tekton require.
package examples

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// documents decodes every YAML document of a file.
func documents(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		docs = append(docs, doc)
	}
}

// yamlFiles lists the YAML files below dir.
func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return files
}

func TestGitHubWorkflows(t *testing.T) {
	files := yamlFiles(t, "github-actions")
	if len(files) == 0 {
		t.Fatal("no workflow in github-actions/")
	}
	for _, path := range files {
		for _, doc := range documents(t, path) {
			for _, key := range []string{"name", "on", "jobs"} {
				if _, ok := doc[key]; !ok {
					t.Errorf("%s lacks the top-level key %q", path, key)
				}
			}
			jobs, _ := doc["jobs"].(map[string]any)
			for name, job := range jobs {
				fields, _ := job.(map[string]any)
				if _, ok := fields["runs-on"]; !ok {
					t.Errorf("%s: job %s lacks runs-on", path, name)
				}
				if steps, _ := fields["steps"].([]any); len(steps) == 0 {
					t.Errorf("%s: job %s has no steps", path, name)
				}
			}
		}
	}
}

func TestTektonResources(t *testing.T) {
	files := yamlFiles(t, "tekton")
	var kinds []string
	for _, path := range files {
		for _, doc := range documents(t, path) {
			for _, key := range []string{"apiVersion", "kind", "metadata", "spec"} {
				if _, ok := doc[key]; !ok {
					t.Errorf("%s: a document lacks the top-level key %q", path, key)
				}
			}
			apiVersion, _ := doc["apiVersion"].(string)
			if !strings.HasPrefix(apiVersion, "tekton.dev/") && !strings.HasPrefix(apiVersion, "triggers.tekton.dev/") {
				t.Errorf("%s: apiVersion %q is not a Tekton API", path, apiVersion)
			}
			metadata, _ := doc["metadata"].(map[string]any)
			if name, _ := metadata["name"].(string); name == "" {
				t.Errorf("%s: %v has no metadata.name", path, doc["kind"])
			}
			kind, _ := doc["kind"].(string)
			kinds = append(kinds, kind)
		}
	}
	for _, want := range []string{"Pipeline", "Task", "EventListener", "TriggerBinding", "TriggerTemplate"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no Tekton %s in tekton/ (kinds: %q)", want, kinds)
		}
	}
}
