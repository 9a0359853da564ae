package storage

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateKeyAccepts(t *testing.T) {
	keys := []string{
		"a",
		"blobs/sha256/ab/abcdef0123",
		"_uploads/0f3c-44/data",
		"A-Z_0.9",
		"a..b/...",
		".hidden/x",
		"-",
	}
	for _, key := range keys {
		if err := ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", key, err)
		}
	}
}

func TestValidateKeyRejects(t *testing.T) {
	tests := []struct {
		key     string
		message string
	}{
		{"", `invalid storage key: key is empty`},
		{"/abs", `invalid storage key "/abs": segment 1 is empty`},
		{"a/", `invalid storage key "a/": segment 2 is empty`},
		{"a//b", `invalid storage key "a//b": segment 2 is empty`},
		{".", `invalid storage key ".": segment 1 is ".", which is not allowed`},
		{"a/./b", `invalid storage key "a/./b": segment 2 is ".", which is not allowed`},
		{"../x", `invalid storage key "../x": segment 1 is "..", which is not allowed`},
		{"a/..", `invalid storage key "a/..": segment 2 is "..", which is not allowed`},
		{"a b", `invalid storage key "a b": segment 1 contains character ' '; keys use only [a-zA-Z0-9._/-]`},
		{`a\b`, `invalid storage key "a\\b": segment 1 contains character '\\'; keys use only [a-zA-Z0-9._/-]`},
		{"a\x00", `invalid storage key "a\x00": segment 1 contains character '\x00'; keys use only [a-zA-Z0-9._/-]`},
		{"é", `invalid storage key "é": segment 1 contains non-ASCII byte 0xc3; keys use only [a-zA-Z0-9._/-]`},
	}
	for _, tt := range tests {
		err := ValidateKey(tt.key)
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", tt.key, err)
			continue
		}
		if err.Error() != tt.message {
			t.Errorf("ValidateKey(%q) message = %q, want %q", tt.key, err.Error(), tt.message)
		}
	}
}

func FuzzValidateKey(f *testing.F) {
	seeds := []string{"", "a", "a/b", "../x", "/abs", "a//b", "a/./b", "a/..", "a..b", "a/", `a\b`, "é", "a\x00b"}
	for _, seed := range seeds {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, key string) {
		err := ValidateKey(key)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("ValidateKey(%q) = %v, which does not wrap ErrInvalidKey", key, err)
			}
			return
		}

		if key == "" {
			t.Fatal("ValidateKey accepted the empty key")
		}
		if strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
			t.Fatalf("ValidateKey accepted %q, which starts or ends with a slash", key)
		}
		if strings.Contains(key, "//") {
			t.Fatalf("ValidateKey accepted %q, which contains an empty segment", key)
		}
		for _, segment := range strings.Split(key, "/") {
			if segment == "." || segment == ".." {
				t.Fatalf("ValidateKey accepted %q, which contains segment %q", key, segment)
			}
		}
		for i := 0; i < len(key); i++ {
			if key[i] != '/' && !isKeyByte(key[i]) {
				t.Fatalf("ValidateKey accepted %q, which contains byte %#x", key, key[i])
			}
		}
		native := filepath.FromSlash(key)
		if !filepath.IsLocal(native) || filepath.Clean(native) != native {
			t.Fatalf("ValidateKey accepted %q, which is not a clean local path", key)
		}
	})
}
