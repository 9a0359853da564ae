package keycloak

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSampleRealmFileLoads(t *testing.T) {
	cfg, err := LoadConfig("cmd/mock-keycloak/realm.yaml")
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	s := New(Options{})
	for _, realm := range cfg.Realms {
		if err := s.AddRealm(realm); err != nil {
			t.Fatalf("AddRealm %s: %v", realm.Name, err)
		}
	}
	if _, err := s.UserID("coffer", "service-account-ci"); err != nil {
		t.Errorf("service account of ci: %v", err)
	}
	if _, err := s.UserID("coffer", "alice"); err != nil {
		t.Errorf("user alice: %v", err)
	}
}

func TestRealmFileRejectsMistakes(t *testing.T) {
	cases := []struct {
		name, content, want string
	}{
		{"unknown key", "realms:\n  - name: a\n    colour: blue\n", "field colour not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "realm.yaml")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadConfig error = %v, want it to contain %q", err, tc.want)
			}
		})
	}

	realmErrors := []struct {
		name string
		cfg  RealmConfig
		want string
	}{
		{"unknown group", RealmConfig{Name: "a", Users: []UserConfig{{Username: "u", Groups: []string{"/nope"}}}}, `group "/nope" not found`},
		{"unknown role", RealmConfig{Name: "a", Users: []UserConfig{{Username: "u", RealmRoles: []string{"nope"}}}}, `realm role "nope" not found`},
		{"public service account", RealmConfig{Name: "a", Clients: []ClientConfig{{ClientID: "c", ServiceAccount: true}}}, "needs a confidential client"},
		{"relative group path", RealmConfig{Name: "a", Groups: []string{"eng"}}, `invalid group path "eng"`},
		{"unknown algorithm", RealmConfig{Name: "a", SignatureAlgorithm: "HS256"}, `unsupported key algorithm "HS256"`},
	}
	for _, tc := range realmErrors {
		t.Run(tc.name, func(t *testing.T) {
			if err := New(Options{}).AddRealm(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AddRealm error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
