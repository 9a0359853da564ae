package config

import (
	"strings"
	"testing"
)

func TestSigningValidation(t *testing.T) {
	cases := []struct {
		name    string
		environ []string
		err     string
	}{
		{"key without scope", []string{"COFFER_SUPPLY_CHAIN_SIGNING_KEY_FILE=/k.pem"}, "key_file is set but no repositories or buckets are"},
		{"scope without key", []string{"COFFER_SUPPLY_CHAIN_SIGNING_REPOSITORIES=prod/**"}, "supply_chain.signing.key_file: missing"},
		{"complete", []string{"COFFER_SUPPLY_CHAIN_SIGNING_KEY_FILE=/k.pem", "COFFER_SUPPLY_CHAIN_SIGNING_REPOSITORIES=prod/**,demo/*", "COFFER_SUPPLY_CHAIN_SIGNING_BUCKETS=releases/dist/"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := Load(Flags{DataDir: t.TempDir()}, tc.environ)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got := cfg.SupplyChain.Signing.Repositories; len(got) != 2 || got[1] != "demo/*" {
					t.Errorf("repositories = %q", got)
				}
				if got := cfg.SupplyChain.Signing.Buckets; len(got) != 1 || got[0] != "releases/dist/" {
					t.Errorf("buckets = %q", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Load error = %v, want it to contain %q", err, tc.err)
			}
		})
	}
}
