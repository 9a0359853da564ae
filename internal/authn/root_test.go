package authn

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestLoadRootGeneratesOnce(t *testing.T) {
	dir := t.TempDir()
	var announce bytes.Buffer
	root, err := LoadRoot(dir, "", "", &announce)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	match := regexp.MustCompile(`user:\s+(\S+)\n\s+password:\s+(\S+)`).FindStringSubmatch(announce.String())
	if match == nil {
		t.Fatalf("first start printed no credentials: %q", announce.String())
	}
	user, password := match[1], match[2]
	if user != root.User() {
		t.Errorf("printed user %q, root user is %q", user, root.User())
	}
	if len(password) != 32 {
		t.Errorf("generated password has %d characters, want 32", len(password))
	}

	stored, err := os.ReadFile(filepath.Join(dir, credentialsFile))
	if err != nil {
		t.Fatalf("read stored credentials: %v", err)
	}
	if strings.Contains(string(stored), password) {
		t.Error("stored credentials contain the plain password")
	}
	info, _ := os.Stat(filepath.Join(dir, credentialsFile))
	if info.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode = %v, want 0600", info.Mode().Perm())
	}

	announce.Reset()
	again, err := LoadRoot(dir, "", "", &announce)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if announce.Len() != 0 {
		t.Errorf("second start printed %q, want nothing", announce.String())
	}
	if _, err := again.Verify(user, password); err != nil {
		t.Errorf("generated credentials rejected after restart: %v", err)
	}
}

func TestVerifyRoot(t *testing.T) {
	root, err := LoadRoot(t.TempDir(), "admin", "correct-horse", nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, user, password string
		ok                   bool
	}{
		{"right credentials", "admin", "correct-horse", true},
		{"right credentials again (cached)", "admin", "correct-horse", true},
		{"wrong password", "admin", "correct-horse!", false},
		{"wrong user", "root", "correct-horse", false},
		{"empty password", "admin", "", false},
	}
	for _, tc := range cases {
		p, err := root.Verify(tc.user, tc.password)
		if tc.ok && (err != nil || p.Subject != "root" || p.Method != "basic") {
			t.Errorf("%s: Verify = %+v, %v; want root via basic", tc.name, p, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("%s: Verify error = %v, want ErrInvalidCredentials", tc.name, err)
		}
	}
}

func TestLoadRootRejectsDamagedFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, credentialsFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadRoot(dir, "", "", nil)
	if err == nil || !strings.Contains(err.Error(), "delete the file") {
		t.Errorf("LoadRoot with a damaged file: %v, want an error telling how to recover", err)
	}
}
