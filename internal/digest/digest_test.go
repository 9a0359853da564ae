package digest

import (
	"errors"
	"strings"
	"testing"
)

const (
	hex64  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	hex128 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)

func TestParseAccepts(t *testing.T) {
	for _, s := range []string{"sha256:" + hex64, "sha512:" + hex128} {
		d, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if string(d) != s {
			t.Errorf("Parse(%q) = %q", s, d)
		}
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		input string
		want  error
	}{
		{"", ErrInvalid},
		{"sha256", ErrInvalid},
		{"sha256:", ErrInvalid},
		{":" + hex64, ErrInvalid},
		{"sha256:" + hex64[:63], ErrInvalid},
		{"sha256:" + hex64 + "0", ErrInvalid},
		{"sha256:" + strings.ToUpper(hex64), ErrInvalid},
		{"sha256:" + hex64[:63] + "g", ErrInvalid},
		{"sha256:" + hex64 + ":x", ErrInvalid},
		{"SHA256:" + hex64, ErrInvalid},
		{"sha256 :" + hex64, ErrInvalid},
		{"sha512:" + hex64, ErrInvalid},
		{"sha256:" + hex128, ErrInvalid},
		{"-sha256:" + hex64, ErrInvalid},
		{"sha256+:" + hex64, ErrInvalid},
		{"sha256++b64:" + hex64, ErrInvalid},
		{"md5:d41d8cd98f00b204e9800998ecf8427e", ErrUnsupported},
		{"sha384:" + hex64, ErrUnsupported},
		{"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", ErrUnsupported},
		{"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", ErrUnsupported},
	}
	for _, c := range cases {
		d, err := Parse(c.input)
		if !errors.Is(err, c.want) {
			t.Errorf("Parse(%q) = %q, %v; want %v", c.input, d, err, c.want)
		}
	}
}

func TestAlgorithmFromBytes(t *testing.T) {
	if got := SHA256.FromBytes(nil); got != Digest("sha256:"+hex64) {
		t.Errorf("SHA256 of nothing = %s", got)
	}
	if got := SHA512.FromBytes(nil); got != Digest("sha512:"+hex128) {
		t.Errorf("SHA512 of nothing = %s", got)
	}
	d := SHA256.FromBytes([]byte("{}"))
	if d != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" {
		t.Errorf("SHA256 of {} = %s", d)
	}
	if d.Algorithm() != SHA256 || len(d.Encoded()) != 64 || d.String() != string(d) {
		t.Errorf("parts of %s: %q, %q", d, d.Algorithm(), d.Encoded())
	}
}

func TestAlgorithmAvailable(t *testing.T) {
	for _, c := range []struct {
		a    Algorithm
		want bool
	}{{SHA256, true}, {SHA512, true}, {"md5", false}, {"", false}} {
		if got := c.a.Available(); got != c.want {
			t.Errorf("%q.Available() = %t, want %t", c.a, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"sha256:" + hex64, "sha512:" + hex128, "md5:abc", "sha256:", ":", "sha256+b64:abc=",
		"SHA256:" + hex64, "sha256:" + strings.ToUpper(hex64), "a.b_c-d+e:AZaz09=_-",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Parse(%q) error %v is neither ErrInvalid nor ErrUnsupported", s, err)
			}
			return
		}
		if string(d) != s {
			t.Fatalf("Parse(%q) = %q, not the input", s, d)
		}
		again, err := Parse(d.String())
		if err != nil || again != d {
			t.Fatalf("Parse(%q) again = %q, %v", d, again, err)
		}
		a := d.Algorithm()
		if !a.Available() {
			t.Fatalf("Parse(%q) accepted unavailable algorithm %q", s, a)
		}
		if want := a.New().Size() * 2; len(d.Encoded()) != want {
			t.Fatalf("Parse(%q): %d encoded characters, %s needs %d", s, len(d.Encoded()), a, want)
		}
		if string(a)+":"+d.Encoded() != s {
			t.Fatalf("Parse(%q): parts %q and %q do not rebuild the input", s, a, d.Encoded())
		}
	})
}
