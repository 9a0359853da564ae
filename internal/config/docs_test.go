package config

import (
	"os"
	"strings"
	"testing"
)

// TestDocsListEveryVariable keeps docs/configuration.md complete: every
// configuration key's environment variable must appear in it.
func TestDocsListEveryVariable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatalf("read docs: %v", err)
	}
	for _, name := range EnvNames() {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/configuration.md does not list %s", name)
		}
	}
}
