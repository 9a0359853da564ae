package main

import (
	"strings"
	"testing"
)

func TestPrintTableTwoServers(t *testing.T) {
	reports := []report{
		{
			Server: "A",
			Results: []result{
				{Workload: "push", Bytes: 1 << 30, Requests: 2, Seconds: 2, CPUSeconds: 3},
				{Workload: "head", Requests: 10000, Seconds: 2, CPUSeconds: 1},
			},
			PeakRSSBytes: 100 << 20,
		},
		{
			Server: "B",
			Results: []result{
				{Workload: "push", Bytes: 1 << 30, Requests: 2, Seconds: 1, CPUSeconds: 1.5},
			},
			PeakRSSBytes: 50 << 20,
		},
	}
	var out strings.Builder
	if err := printTable(&out, reports); err != nil {
		t.Fatalf("printTable: %v", err)
	}

	want := `| workload | A | B | ratio |
|---|---:|---:|---:|
| push, MB/s | 537 | 1074 | 2 |
| push, server CPU s per GiB | 3 | 1.5 | 0.5 |
| head, req/s | 5000 | n/a | n/a |
| head, server CPU s per 1,000 requests | 0.1 | n/a | n/a |
| server peak RSS (VmHWM), MiB | 100 | 50 | 0.5 |
`
	if got := out.String(); got != want {
		t.Errorf("printTable output:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatCount(t *testing.T) {
	cases := map[int]string{0: "0", 999: "999", 1000: "1,000", 50000: "50,000", 1234567: "1,234,567"}
	for n, want := range cases {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	cases := map[int64]string{1 << 30: "1 GiB", 64 << 20: "64 MiB", 4096: "4 KiB", 1536: "1536 B", 100: "100 B"}
	for n, want := range cases {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPrintTableDatabaseCPU(t *testing.T) {
	databaseCPU := 0.5
	reports := []report{
		{Server: "SQLite", Results: []result{{Workload: "head", Requests: 10000, Seconds: 2, CPUSeconds: 1}}},
		{Server: "PostgreSQL", Results: []result{
			{Workload: "head", Requests: 10000, Seconds: 2, CPUSeconds: 0.5, DatabaseCPUSeconds: &databaseCPU},
		}},
	}
	var out strings.Builder
	if err := printTable(&out, reports); err != nil {
		t.Fatalf("printTable: %v", err)
	}

	want := `| workload | SQLite | PostgreSQL | ratio |
|---|---:|---:|---:|
| head, req/s | 5000 | 5000 | 1 |
| head, server CPU s per 1,000 requests | 0.1 | 0.05 | 0.5 |
| head, server + PostgreSQL backend CPU s per 1,000 requests | 0.1 | 0.1 | 1 |
| server peak RSS (VmHWM), MiB | n/a | n/a | n/a |
`
	if got := out.String(); got != want {
		t.Errorf("printTable output:\n%s\nwant:\n%s", got, want)
	}
}
