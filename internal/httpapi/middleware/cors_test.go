package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCORS(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := CORS(CORSOptions{AllowedOrigins: []string{"https://app.example"}, MaxAge: 10 * time.Minute}, inner)

	cases := []struct {
		name, method, origin, requestMethod string
		status                              int
		allowOrigin, allowMethods, maxAge   string
	}{
		{"preflight from allowed origin", http.MethodOptions, "https://app.example", "PUT", http.StatusNoContent, "https://app.example", corsAllowedMethods, "600"},
		{"request from allowed origin", http.MethodGet, "https://app.example", "", http.StatusTeapot, "https://app.example", "", ""},
		{"preflight from other origin", http.MethodOptions, "https://evil.example", "PUT", http.StatusTeapot, "", "", ""},
		{"request without origin", http.MethodGet, "", "", http.StatusTeapot, "", "", ""},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(tc.method, "/bucket/key", nil)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.requestMethod != "" {
			req.Header.Set("Access-Control-Request-Method", tc.requestMethod)
			req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.status)
		}
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.allowOrigin {
			t.Errorf("%s: Allow-Origin %q, want %q", tc.name, got, tc.allowOrigin)
		}
		if got := rec.Header().Get("Access-Control-Allow-Methods"); got != tc.allowMethods {
			t.Errorf("%s: Allow-Methods %q, want %q", tc.name, got, tc.allowMethods)
		}
		if got := rec.Header().Get("Access-Control-Max-Age"); got != tc.maxAge {
			t.Errorf("%s: Max-Age %q, want %q", tc.name, got, tc.maxAge)
		}
	}
}

func TestCORSDisabledPassesThrough(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	req := httptest.NewRequest(http.MethodOptions, "/", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	rec := httptest.NewRecorder()
	CORS(CORSOptions{}, inner).ServeHTTP(rec, req)
	if rec.Code != http.StatusTeapot || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("disabled CORS answered %d with Allow-Origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
}
