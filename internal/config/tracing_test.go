package config

import (
	"strings"
	"testing"
)

func TestTracingDefaultsOff(t *testing.T) {
	cfg, _, err := Load(Flags{DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Tracing != (Tracing{}) {
		t.Errorf("tracing = %+v, want off with every key empty", cfg.Tracing)
	}
}

func TestTracingFromEnvironment(t *testing.T) {
	cfg, unknown, err := Load(Flags{DataDir: t.TempDir()}, []string{
		"COFFER_TRACING_ENABLED=true",
		"COFFER_TRACING_ENDPOINT=http://collector:4317",
		"COFFER_TRACING_PROTOCOL=grpc",
		"COFFER_TRACING_SAMPLER=parentbased_traceidratio",
		"COFFER_TRACING_SAMPLER_ARG=0.1",
		"COFFER_TRACING_SERVICE_NAME=coffer-eu",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(unknown) != 0 {
		t.Errorf("unknown variables %v", unknown)
	}
	want := Tracing{
		Enabled: true, Endpoint: "http://collector:4317", Protocol: "grpc",
		Sampler: "parentbased_traceidratio", SamplerArg: "0.1", ServiceName: "coffer-eu",
	}
	if cfg.Tracing != want {
		t.Errorf("tracing = %+v, want %+v", cfg.Tracing, want)
	}
}

func TestTracingRejectsInvalidKeys(t *testing.T) {
	tests := []struct {
		env, want string
	}{
		{"COFFER_TRACING_ENDPOINT=collector:4318", `tracing.endpoint: invalid endpoint "collector:4318"`},
		{"COFFER_TRACING_ENDPOINT=http://collector:4318?x=1", "tracing.endpoint: the endpoint must not have a query"},
		{"COFFER_TRACING_PROTOCOL=http/json", `tracing.protocol: invalid value "http/json"`},
		{"COFFER_TRACING_SAMPLER=sometimes", `tracing.sampler: invalid value "sometimes"`},
		{"COFFER_TRACING_SAMPLER_ARG=2", `tracing.sampler_arg: invalid ratio "2"`},
	}
	for _, tt := range tests {
		_, _, err := Load(Flags{DataDir: t.TempDir()}, []string{tt.env})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tt.env, err, tt.want)
		}
	}
}
