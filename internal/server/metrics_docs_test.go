package server

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// scrapedFamilies starts a server, pushes an image and stores an object,
// so that every metric family has a series, and returns the names of the
// families of one authenticated scrape.
func scrapedFamilies(t *testing.T) []string {
	t.Helper()
	srv := startServer(t, false)
	pushImage(t, srv.api)
	putAndGetObject(t, srv.s3)
	families := scrape(t, newRequest(t, "GET", srv.api+"/metrics", nil))
	names := make([]string, 0, len(families))
	for name := range families {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// TestMetricsDocsListEveryFamily keeps docs/metrics.md complete: every
// coffer_* family the server exports must appear in it.
func TestMetricsDocsListEveryFamily(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatalf("read docs: %v", err)
	}
	count := 0
	for _, name := range scrapedFamilies(t) {
		if !strings.HasPrefix(name, "coffer_") {
			continue
		}
		count++
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/metrics.md does not list %s", name)
		}
	}
	if count != 21 {
		t.Errorf("the scrape has %d coffer_* families, want 21", count)
	}
}

// dashboard is the part of a Grafana dashboard the test checks.
type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	} `json:"panels"`
}

var familyInQuery = regexp.MustCompile(`coffer_[a-z_]+`)

// TestGrafanaDashboardQueriesExportedFamilies parses
// docs/grafana-dashboard.json and checks that it has the expected panels
// and that every query names a family the server exports.
func TestGrafanaDashboardQueriesExportedFamilies(t *testing.T) {
	data, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatalf("read dashboard: %v", err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("parse dashboard: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard title %q, uid %q: want both set", d.Title, d.UID)
	}

	exported := scrapedFamilies(t)
	var titles []string
	for _, panel := range d.Panels {
		titles = append(titles, panel.Title)
		if panel.Type == "row" {
			continue
		}
		if len(panel.Targets) == 0 {
			t.Errorf("panel %q has no query", panel.Title)
		}
		for _, target := range panel.Targets {
			if target.RefID == "" {
				t.Errorf("panel %q: a query has no refId", panel.Title)
			}
			for _, name := range familyInQuery.FindAllString(target.Expr, -1) {
				family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
				if !slices.Contains(exported, family) {
					t.Errorf("panel %q queries %s, which the server does not export", panel.Title, name)
				}
			}
		}
	}
	for _, want := range []string{
		"Request rate", "Error rate", "Latency p50 by operation", "Latency p99 by operation",
		"Bytes in and out", "Storage latency p99", "Storage bytes read and written",
	} {
		if !slices.Contains(titles, want) {
			t.Errorf("dashboard lacks panel %q", want)
		}
	}
}
