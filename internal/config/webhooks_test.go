package config

import (
	"strings"
	"testing"
	"time"
)

func TestWebhookSubscriptionsFromEnv(t *testing.T) {
	env := []string{
		`COFFER_WEBHOOKS_SUBSCRIPTIONS=[{"name":"ci","url":"http://127.0.0.1:8080/hook","secret":"0123456789abcdef","types":["io.coffer.tag.*"]}]`,
		"COFFER_WEBHOOKS_BASE_BACKOFF=50ms",
		"COFFER_WEBHOOKS_MAX_BACKOFF=200ms",
	}
	cfg, unknown, err := Load(Flags{}, env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(unknown) != 0 {
		t.Errorf("unknown variables %q, want none", unknown)
	}
	subs := cfg.Webhooks.Subscriptions
	if len(subs) != 1 || subs[0].Name != "ci" || subs[0].URL != "http://127.0.0.1:8080/hook" || subs[0].Types[0] != "io.coffer.tag.*" {
		t.Errorf("subscriptions = %+v, want the ci subscription", subs)
	}
	if cfg.Webhooks.BaseBackoff != 50*time.Millisecond || cfg.Webhooks.MaxAttempts != 10 {
		t.Errorf("base_backoff %s, max_attempts %d; want 50ms and the default 10", cfg.Webhooks.BaseBackoff, cfg.Webhooks.MaxAttempts)
	}
}

func TestWebhookSubscriptionsRejected(t *testing.T) {
	cases := []struct {
		name, env, want string
	}{
		{"short secret", `[{"name":"ci","url":"http://h/x","secret":"short"}]`, "secret is 5 characters long"},
		{"missing secret", `[{"name":"ci","url":"http://h/x"}]`, "secret must be set"},
		{"bad url", `[{"name":"ci","url":"ftp://h/x","secret":"0123456789abcdef"}]`, `invalid url "ftp://h/x"`},
		{"bad name", `[{"name":"CI","url":"http://h/x","secret":"0123456789abcdef"}]`, `invalid name "CI"`},
		{"unknown field", `[{"name":"ci","uri":"http://h/x"}]`, "uri"},
	}
	for _, c := range cases {
		_, _, err := Load(Flags{}, []string{"COFFER_WEBHOOKS_SUBSCRIPTIONS=" + c.env})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error = %v, want one containing %q", c.name, err, c.want)
		}
	}
}
