package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestPrintTableKinds(t *testing.T) {
	reports := []report{
		{
			Server: "A",
			Results: []result{
				{Workload: "put", Kind: kindTransfer, Bytes: 1 << 30, Requests: 1, Seconds: 2, CPUSeconds: 4, PeakRSSBytes: 100 << 20},
				{Workload: "get", Kind: kindRequests, Requests: 1000, Seconds: 2, CPUSeconds: 1, P50Seconds: 0.002, P99Seconds: 0.01, PeakRSSBytes: 10 << 20},
				{Workload: "fill", Kind: kindFill, Requests: 5000, Seconds: 10, CPUSeconds: 5, PeakRSSBytes: 10 << 20},
				{Workload: "list", Kind: kindLatency, Requests: 200, Seconds: 4, CPUSeconds: 2, P50Seconds: 0.02, P99Seconds: 0.05, PeakRSSBytes: 10 << 20},
			},
		},
		{
			Server: "B",
			Results: []result{
				{Workload: "put", Kind: kindTransfer, Bytes: 1 << 30, Requests: 1, Seconds: 1, CPUSeconds: 2, PeakRSSBytes: 50 << 20},
				{Workload: "list", Kind: kindLatency, Requests: 200, Seconds: 2, CPUSeconds: 1, P50Seconds: 0.01, P99Seconds: 0.1, PeakRSSBytes: 20 << 20},
			},
		},
	}
	var out strings.Builder
	if err := printTable(&out, reports); err != nil {
		t.Fatalf("printTable: %v", err)
	}

	want := `| workload | A | B | ratio |
|---|---:|---:|---:|
| put, MB/s | 537 | 1074 | 2 |
| put, server CPU s per GiB | 4 | 2 | 0.5 |
| put, server peak RSS (VmHWM), MiB | 100 | 50 | 0.5 |
| get, req/s | 500 | n/a | n/a |
| get, p50 ms | 2 | n/a | n/a |
| get, p99 ms | 10 | n/a | n/a |
| get, server CPU s per 1,000 requests | 1 | n/a | n/a |
| get, server peak RSS (VmHWM), MiB | 10 | n/a | n/a |
| fill, seconds | 10 | n/a | n/a |
| fill, req/s | 500 | n/a | n/a |
| fill, server CPU s per 1,000 requests | 1 | n/a | n/a |
| fill, server peak RSS (VmHWM), MiB | 10 | n/a | n/a |
| list, p50 ms | 20 | 10 | 0.5 |
| list, p99 ms | 50 | 100 | 2 |
| list, server CPU s per 1,000 requests | 10 | 5 | 0.5 |
| list, server peak RSS (VmHWM), MiB | 10 | 20 | 2 |
`
	if got := out.String(); got != want {
		t.Errorf("printTable output:\n%s\nexpected:\n%s", got, want)
	}
}

func TestReportRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	written := report{Server: "Coffer", Results: []result{
		{Workload: "list", Kind: kindLatency, Requests: 200, Seconds: 1.5, CPUSeconds: 0.3, P50Seconds: 0.004, P99Seconds: 0.009, PeakRSSBytes: 1 << 20},
	}}
	if err := writeReport(path, written); err != nil {
		t.Fatalf("writeReport: %v", err)
	}
	read, err := readReport(path)
	if err != nil {
		t.Fatalf("readReport: %v", err)
	}
	if read.Server != written.Server {
		t.Errorf("server = %q, expected %q", read.Server, written.Server)
	}
	if len(read.Results) != 1 || read.Results[0] != written.Results[0] {
		t.Errorf("results = %+v, expected %+v", read.Results, written.Results)
	}
}

func TestFormatCountAndSize(t *testing.T) {
	counts := map[int]string{0: "0", 999: "999", 1000: "1,000", 20000: "20,000", 1000000: "1,000,000"}
	for n, want := range counts {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, expected %q", n, got, want)
		}
	}
	sizes := map[int64]string{4 << 10: "4 KiB", 64 << 20: "64 MiB", 1 << 30: "1 GiB", 1000: "1000 B"}
	for n, want := range sizes {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, expected %q", n, got, want)
		}
	}
}
