package registry_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/registry"
)

const hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestValidateName(t *testing.T) {
	valid := []string{
		"a", "library/ubuntu", "a/b/c/d", "a.b", "a_b", "a__b", "a-b", "a---b", "0", "my-org/my_app.v2",
		strings.Repeat("a", registry.MaxNameLength),
		strings.Repeat("ab/", 84) + "abc",
	}
	for _, name := range valid {
		if err := registry.ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q): %v", name, err)
		}
	}
	invalid := []string{
		"", "A", "Library/ubuntu", "a/", "/a", "a//b", "..", "a/../b", "a/./b", ".a", "a.", "a..b", "_a", "a_", "a___b",
		"-a", "a-", "a.-b", "a/%2e%2e", "a%2Fb", "a b", "a:b", "a@b", "a\x00b", "é",
		strings.Repeat("a", registry.MaxNameLength+1),
	}
	for _, name := range invalid {
		if err := registry.ValidateName(name); !errors.Is(err, registry.ErrNameInvalid) {
			t.Errorf("ValidateName(%q) = %v, want ErrNameInvalid", name, err)
		}
	}
}

func TestValidateTag(t *testing.T) {
	for _, tag := range []string{"latest", "v1.2.3", "_private", "A", "sha256-" + hex64, strings.Repeat("t", 128), "1"} {
		if err := registry.ValidateTag(tag); err != nil {
			t.Errorf("ValidateTag(%q): %v", tag, err)
		}
	}
	for _, tag := range []string{"", ".v1", "-v1", "v1/x", "v:1", "v 1", "é", strings.Repeat("t", 129)} {
		if err := registry.ValidateTag(tag); !errors.Is(err, registry.ErrTagInvalid) {
			t.Errorf("ValidateTag(%q) = %v, want ErrTagInvalid", tag, err)
		}
	}
}

func TestParseReference(t *testing.T) {
	cases := []struct {
		input string
		want  registry.Reference
		err   error
	}{
		{"latest", registry.Reference{Tag: "latest"}, nil},
		{"sha256-" + hex64, registry.Reference{Tag: "sha256-" + hex64}, nil},
		{"sha256:" + hex64, registry.Reference{Digest: digest.Digest("sha256:" + hex64)}, nil},
		{"sha256:abc", registry.Reference{}, registry.ErrDigestInvalid},
		{"md5:d41d8cd98f00b204e9800998ecf8427e", registry.Reference{}, registry.ErrDigestUnsupported},
		{"", registry.Reference{}, registry.ErrTagInvalid},
		{".hidden", registry.Reference{}, registry.ErrTagInvalid},
	}
	for _, c := range cases {
		got, err := registry.ParseReference(c.input)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("ParseReference(%q) = %+v, %v; want %v", c.input, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseReference(%q) = %+v, %v; want %+v", c.input, got, err, c.want)
		}
		if got.String() != c.input {
			t.Errorf("ParseReference(%q).String() = %q", c.input, got.String())
		}
	}
}

func FuzzValidateName(f *testing.F) {
	for _, seed := range []string{"library/ubuntu", "a__b/c-d", "a/../b", "A", "a//b", "a%2Fb", strings.Repeat("ab/", 90)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := registry.ValidateName(name)
		if err != nil {
			if !errors.Is(err, registry.ErrNameInvalid) {
				t.Fatalf("ValidateName(%q) error %v does not wrap ErrNameInvalid", name, err)
			}
			return
		}
		if len(name) > registry.MaxNameLength {
			t.Fatalf("ValidateName accepted %d bytes", len(name))
		}
		for _, bad := range []string{"..", "//", "%", "\\"} {
			if strings.Contains(name, bad) {
				t.Fatalf("ValidateName accepted %q, which contains %q", name, bad)
			}
		}
		if strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
			t.Fatalf("ValidateName accepted %q with a leading or trailing slash", name)
		}
		for _, component := range strings.Split(name, "/") {
			if component == "." || component == "" {
				t.Fatalf("ValidateName accepted %q with component %q", name, component)
			}
		}
		for _, r := range name {
			if unicode.IsUpper(r) || r > unicode.MaxASCII {
				t.Fatalf("ValidateName accepted %q, which contains %q", name, r)
			}
		}
	})
}

func FuzzParseReference(f *testing.F) {
	for _, seed := range []string{"latest", "sha256:" + hex64, "sha256-" + hex64, "md5:abc", "", ".x", "a:b:c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := registry.ParseReference(s)
		if err != nil {
			if !errors.Is(err, registry.ErrTagInvalid) && !errors.Is(err, registry.ErrDigestInvalid) &&
				!errors.Is(err, registry.ErrDigestUnsupported) {
				t.Fatalf("ParseReference(%q) error %v has no registry error kind", s, err)
			}
			return
		}
		if (ref.Tag == "") == (ref.Digest == "") {
			t.Fatalf("ParseReference(%q) = %+v, want exactly one of tag and digest", s, ref)
		}
		if ref.String() != s {
			t.Fatalf("ParseReference(%q).String() = %q", s, ref.String())
		}
		if ref.Digest != "" {
			if _, err := digest.Parse(string(ref.Digest)); err != nil {
				t.Fatalf("ParseReference(%q) returned invalid digest: %v", s, err)
			}
			return
		}
		if err := registry.ValidateTag(ref.Tag); err != nil || strings.ContainsAny(ref.Tag, ":/%") {
			t.Fatalf("ParseReference(%q) returned invalid tag %q", s, ref.Tag)
		}
	})
}
