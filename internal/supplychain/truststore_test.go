package supplychain

import (
	"errors"
	"strings"
	"testing"
)

func TestTrustStoreScopes(t *testing.T) {
	tests := []struct {
		glob string
		repo string
		want bool
	}{
		{"demo/*", "demo/app", true},
		{"demo/*", "demo/app/sub", false},
		{"demo/**", "demo/app/sub", true},
		{"demo/app", "demo/app", true},
		{"demo/app", "demo/app2", false},
		{"**", "anything/at/all", true},
		{"*/app", "team/app", true},
		{"demo.x/*", "demoax/app", false},
	}
	for _, tt := range tests {
		ts, err := NewTrustStore("s", TrustStoreConfig{Scope: Scope{Repositories: tt.glob}, CosignKeys: []PEMEntry{{Name: "k", PEM: string(readVector(t, "cosign.pub"))}}})
		if err != nil {
			t.Fatalf("NewTrustStore(%q): %v", tt.glob, err)
		}
		if got := ts.CoversRepository(tt.repo); got != tt.want {
			t.Errorf("glob %q covers %q = %v, want %v", tt.glob, tt.repo, got, tt.want)
		}
		if ts.CoversObject("bucket", "key") {
			t.Errorf("repository scope %q covers an object", tt.glob)
		}
	}

	ts, err := NewTrustStore("files", TrustStoreConfig{Scope: Scope{Bucket: "releases", Prefix: "v1/"}, CosignKeys: []PEMEntry{{Name: "k", PEM: string(readVector(t, "cosign.pub"))}}})
	if err != nil {
		t.Fatal(err)
	}
	if !ts.CoversObject("releases", "v1/app.tar") || ts.CoversObject("releases", "v2/app.tar") || ts.CoversObject("other", "v1/app.tar") || ts.CoversRepository("releases") {
		t.Error("bucket scope matched the wrong objects")
	}
}

func TestTrustStoreRejects(t *testing.T) {
	key := `{"name":"k","pem":` + jsonString(string(readVector(t, "cosign.pub"))) + `}`
	cert := `{"name":"c","pem":` + jsonString(string(readVector(t, "notation-demo.example.crt"))) + `}`
	tests := []struct {
		name     string
		store    string
		document string
		text     string
	}{
		{"bad name", "Prod!", `{"scope":{"repositories":"a"},"cosign_keys":[` + key + `]}`, "the name must be"},
		{"unknown field", "s", `{"scope":{"repositories":"a"},"keys":[]}`, `unknown field "keys"`},
		{"no scope", "s", `{"cosign_keys":[` + key + `]}`, "scope needs repositories"},
		{"two scopes", "s", `{"scope":{"repositories":"a","bucket":"bbb"},"cosign_keys":[` + key + `]}`, "both repositories and a bucket"},
		{"bad glob", "s", `{"scope":{"repositories":"A B"},"cosign_keys":[` + key + `]}`, "is not a repository name glob"},
		{"bad bucket", "s", `{"scope":{"bucket":"B"},"cosign_keys":[` + key + `]}`, "is not a bucket name"},
		{"empty", "s", `{"scope":{"repositories":"a"}}`, "holds no cosign key"},
		{"bad key", "s", `{"scope":{"repositories":"a"},"cosign_keys":[{"name":"k","pem":"x"}]}`, "cosign_keys[0]"},
		{"unnamed key", "s", `{"scope":{"repositories":"a"},"cosign_keys":[{"pem":"x"}]}`, "cosign_keys[0].name is missing"},
		{"bad certificate", "s", `{"scope":{"repositories":"a"},"notation_certificates":[{"name":"c","pem":"x"}],"notation_policy":{"trusted_identities":["*"]}}`, "notation_certificates[0]"},
		{"no identities", "s", `{"scope":{"repositories":"a"},"notation_certificates":[` + cert + `]}`, "trusted_identities is required"},
		{"bad identity", "s", `{"scope":{"repositories":"a"},"notation_certificates":[` + cert + `],"notation_policy":{"trusted_identities":["CN=x"]}}`, `is neither "*" nor "x509.subject: <DN>"`},
		{"bad level", "s", `{"scope":{"repositories":"a"},"notation_certificates":[` + cert + `],"notation_policy":{"level":"lax","trusted_identities":["*"]}}`, `verification level "lax"`},
		{"bad trusted root", "s", `{"scope":{"repositories":"a"},"sigstore_trusted_root":{"mediaType":"x"}}`, "sigstore_trusted_root is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTrustStoreConfig(tt.store, []byte(tt.document))
			if !errors.Is(err, ErrInvalidTrustStore) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %v, want ErrInvalidTrustStore mentioning %q", err, tt.text)
			}
		})
	}

	root := `{"scope":{"repositories":"a"},"sigstore_trusted_root":` + string(readVector(t, "empty-trusted-root.json")) + `}`
	if _, err := ParseTrustStoreConfig("s", []byte(root)); err != nil {
		t.Errorf("trusted root only: %v", err)
	}
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer("\n", `\n`, `"`, `\"`).Replace(s) + `"`
}
