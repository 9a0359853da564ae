package authz

import (
	"errors"
	"strings"
	"testing"
)

func TestManagementResourceMatch(t *testing.T) {
	tests := []struct {
		pattern, resource string
		want              bool
	}{
		{"coffer:robots/ci", "coffer:robots/ci", true},
		{"coffer:robots/ci", "coffer:robots/cd", false},
		{"coffer:robots/*", "coffer:robots/ci", true},
		{"coffer:robots/*", "coffer:policies/ci", false},
		{"coffer:tokens/*", "coffer:tokens/https://id.example/realms/r#alice", true},
		{"coffer:tokens/https://id.example/realms/r#*", "coffer:tokens/https://id.example/realms/r#alice", true},
		{"coffer:tokens/https://id.example/realms/r#*", "coffer:tokens/https://other/realms/r#alice", false},
		{"coffer:system", "coffer:system", true},
		{"coffer:*", "coffer:system", true},
		{"coffer:*", "repo:coffer", false},
		{"coffer:robots/CI", "coffer:robots/ci", false},
		{"repo:robots", "coffer:robots/ci", false},
	}
	for _, tt := range tests {
		if got := matchResource(tt.pattern, tt.resource); got != tt.want {
			t.Errorf("matchResource(%q, %q) = %v, want %v", tt.pattern, tt.resource, got, tt.want)
		}
	}
}

func TestManagementResourceName(t *testing.T) {
	if got := ManagementResource("robots", "ci"); got != "coffer:robots/ci" {
		t.Errorf(`ManagementResource("robots", "ci") = %q`, got)
	}
	if got := ManagementResource("system", ""); got != "coffer:system" {
		t.Errorf(`ManagementResource("system", "") = %q`, got)
	}
}

func TestValidateManagement(t *testing.T) {
	valid := []string{"coffer:robots/ci", "coffer:tokens/*", "coffer:policies/team-*", "coffer:webhooks/w1", "coffer:system", "coffer:*"}
	for _, pattern := range valid {
		if err := validateResource(pattern); err != nil {
			t.Errorf("validateResource(%q) = %v, want nil", pattern, err)
		}
	}
	invalid := []struct{ pattern, text string }{
		{"coffer:users/a", "unknown management resource"},
		{"coffer:robots", "want coffer:robots/<name>"},
		{"coffer:robots/", "the name is empty"},
		{"coffer:system/x", "want coffer:system"},
		{"coffer:", "unknown management resource"},
	}
	for _, tt := range invalid {
		err := validateResource(tt.pattern)
		if err == nil || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("validateResource(%q) = %v, want an error containing %q", tt.pattern, err, tt.text)
		}
	}
}

func TestValidateManagementActions(t *testing.T) {
	for _, action := range []string{"coffer:tokens.create", "coffer:*", "coffer:tokens.*", "COFFER:Robots.List"} {
		if err := validateAction(action); err != nil {
			t.Errorf("validateAction(%q) = %v, want nil", action, err)
		}
	}
	for _, action := range []string{"coffer:tokens.steal", "coffer:users.*", "iam:*"} {
		if err := validateAction(action); err == nil {
			t.Errorf("validateAction(%q) = nil, want an error", action)
		}
	}
	err := Validate([]Statement{{ID: "s", Effect: Allow, Principals: []string{"*"}, Actions: []string{"coffer:tokens.*"}, Resources: []string{"coffer:users/a"}}})
	if !errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("Validate with an unknown management kind = %v, want ErrInvalidPolicy", err)
	}
}
