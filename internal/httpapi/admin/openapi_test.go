package admin

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// TestOpenAPIDocsCopy keeps docs/openapi.json identical to the served document.
func TestOpenAPIDocsCopy(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/openapi.json")
	if err != nil {
		t.Fatalf("read docs/openapi.json: %v", err)
	}
	if !bytes.Equal(doc, OpenAPI) {
		t.Fatal("docs/openapi.json differs from internal/httpapi/admin/openapi.json; copy one over the other")
	}
	var parsed struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI, &parsed); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if parsed.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", parsed.OpenAPI)
	}
	for _, path := range []string{"/api/v1/repositories", "/api/v1/system/info", "/api/v1/openapi.json",
		"/api/v1/repositories/{name}/usage", "/api/v1/buckets/{bucket}/usage", "/api/v1/trust", "/api/v1/trust/{name}",
		"/api/v1/artifacts/{digest}/trust", "/api/v1/buckets/{bucket}/objects/{key}/attachments",
		"/api/v1/buckets/{bucket}/objects/{key}/attachments/{digest}", "/api/v1/buckets/{bucket}/objects/{key}/trust",
		"/api/v1/tokens", "/api/v1/robots", "/api/v1/policies/{id}", "/api/v1/policies/explain"} {
		if _, ok := parsed.Paths[path]; !ok {
			t.Errorf("openapi.json does not document %s", path)
		}
	}
}
