package s3

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestNewRejectsOptions(t *testing.T) {
	isolateAWSConfig(t)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no bucket", Options{Endpoint: "http://127.0.0.1:1"}, "bucket is empty"},
		{"access key alone", Options{Bucket: "b", AccessKey: "a"}, "both the access key and the secret key"},
		{"secret key alone", Options{Bucket: "b", SecretKey: "s"}, "both the access key and the secret key"},
		{"missing CA file", Options{Bucket: "b", CACertFile: filepath.Join(t.TempDir(), "missing.pem")}, "read CA certificate file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(t.Context(), tt.opts)
			if err == nil {
				t.Fatalf("New(%+v) succeeded, want an error", tt.opts)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
