package config_test

import (
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/config"
)

func TestMetricsDefaults(t *testing.T) {
	m := config.Default().Metrics
	if !m.Enabled || m.Path != "/metrics" || m.Listen != "" || m.Public {
		t.Errorf("metrics defaults = %+v, want enabled on /metrics, main listener, not public", m)
	}
}

func TestMetricsFromEnvironment(t *testing.T) {
	cfg, unknown, err := config.Load(config.Flags{}, []string{
		"COFFER_METRICS_ENABLED=true",
		"COFFER_METRICS_PATH=/internal/metrics",
		"COFFER_METRICS_LISTEN=127.0.0.1:9100",
		"COFFER_METRICS_PUBLIC=true",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(unknown) != 0 {
		t.Errorf("unknown variables = %q, want none", unknown)
	}
	want := config.Metrics{Enabled: true, Path: "/internal/metrics", Listen: "127.0.0.1:9100", Public: true}
	if cfg.Metrics != want {
		t.Errorf("metrics = %+v, want %+v", cfg.Metrics, want)
	}
}

func TestMetricsRejectsInvalidValues(t *testing.T) {
	cases := []struct {
		name    string
		environ []string
		want    string
	}{
		{"relative path", []string{"COFFER_METRICS_PATH=metrics"}, `metrics.path: invalid path "metrics"`},
		{"root path", []string{"COFFER_METRICS_PATH=/"}, `metrics.path: invalid path "/"`},
		{"path of the OCI API", []string{"COFFER_METRICS_PATH=/v2/metrics"}, `metrics.path: "/v2/metrics" is taken by /v2`},
		{"path of a probe", []string{"COFFER_METRICS_PATH=/readyz"}, `metrics.path: "/readyz" is taken by /readyz`},
		{"invalid address", []string{"COFFER_METRICS_LISTEN=9100"}, `metrics.listen: invalid address "9100"`},
		{"address of the main listener", []string{"COFFER_METRICS_LISTEN=127.0.0.1:5000"}, "metrics.listen: 127.0.0.1:5000 is already the address of another listener"},
		{"address of the S3 listener", []string{"COFFER_METRICS_LISTEN=127.0.0.1:9000"}, "metrics.listen: 127.0.0.1:9000 is already the address of another listener"},
	}
	for _, tc := range cases {
		_, _, err := config.Load(config.Flags{}, tc.environ)
		if err == nil {
			t.Errorf("%s: Load succeeded, want an error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestMetricsAcceptedWhenDisabledOrSeparate(t *testing.T) {
	cases := []struct {
		name    string
		environ []string
	}{
		{"disabled with a reserved path", []string{"COFFER_METRICS_ENABLED=false", "COFFER_METRICS_PATH=/v2"}},
		{"separate listener with a reserved path", []string{"COFFER_METRICS_LISTEN=127.0.0.1:9100", "COFFER_METRICS_PATH=/livez"}},
		{"S3 address while S3 is disabled", []string{"COFFER_S3_ENABLED=false", "COFFER_METRICS_LISTEN=127.0.0.1:9000"}},
	}
	for _, tc := range cases {
		if _, _, err := config.Load(config.Flags{}, tc.environ); err != nil {
			t.Errorf("%s: Load: %v", tc.name, err)
		}
	}
}
