package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Kinds of workload, which decide the table rows of a result.
const (
	// kindTransfer moves large objects: MB/s, CPU per GiB, peak RSS.
	kindTransfer = "transfer"
	// kindRequests is many small requests from concurrent clients: req/s,
	// p50 and p99 latency, CPU per 1,000 requests, peak RSS.
	kindRequests = "requests"
	// kindFill writes many empty objects: total seconds, req/s, CPU per
	// 1,000 requests, peak RSS.
	kindFill = "fill"
	// kindLatency is sequential requests: p50 and p99 latency, CPU per
	// 1,000 requests, peak RSS.
	kindLatency = "latency"
)

// result is one timed step of a workload.
type result struct {
	// Workload is the row label, the same for every server.
	Workload string `json:"workload"`
	// Kind is one of the kind constants.
	Kind string `json:"kind"`
	// Bytes is the payload moved, or zero.
	Bytes int64 `json:"bytes"`
	// Requests is the number of S3 requests in the timed step.
	Requests int `json:"requests"`
	// Seconds is the wall-clock time of the step.
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the server's user plus system CPU time during the step.
	CPUSeconds float64 `json:"cpu_seconds"`
	// P50Seconds and P99Seconds are request latency percentiles, or zero
	// for transfers.
	P50Seconds float64 `json:"p50_seconds,omitempty"`
	P99Seconds float64 `json:"p99_seconds,omitempty"`
	// PeakRSSBytes is the server's VmHWM during the step: it is reset when
	// the step starts and read when it ends.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// report is everything measured against one server.
type report struct {
	Server  string   `json:"server"`
	Results []result `json:"results"`
}

func writeReport(path string, r report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report for %s: %w", r.Server, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

func readReport(path string) (report, error) {
	var r report
	data, err := os.ReadFile(path) //nolint:gosec // the operator names the report on the command line
	if err != nil {
		return r, fmt.Errorf("read report: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("decode report %s: %w", path, err)
	}
	return r, nil
}

// metric is one table row derived from a result.
type metric struct {
	suffix string
	value  func(result) float64
}

var (
	mbPerSecond  = metric{"MB/s", func(r result) float64 { return float64(r.Bytes) / 1e6 / r.Seconds }}
	cpuPerGiB    = metric{"server CPU s per GiB", func(r result) float64 { return r.CPUSeconds / (float64(r.Bytes) / (1 << 30)) }}
	reqPerSecond = metric{"req/s", func(r result) float64 { return float64(r.Requests) / r.Seconds }}
	p50Millis    = metric{"p50 ms", func(r result) float64 { return r.P50Seconds * 1000 }}
	p99Millis    = metric{"p99 ms", func(r result) float64 { return r.P99Seconds * 1000 }}
	cpuPer1000   = metric{"server CPU s per 1,000 requests", func(r result) float64 { return r.CPUSeconds / float64(r.Requests) * 1000 }}
	totalSeconds = metric{"seconds", func(r result) float64 { return r.Seconds }}
	peakRSSMiB   = metric{"server peak RSS (VmHWM), MiB", func(r result) float64 { return float64(r.PeakRSSBytes) / (1 << 20) }}
)

// metricsOf returns the rows to print for a workload of the given kind.
func metricsOf(kind string) []metric {
	switch kind {
	case kindTransfer:
		return []metric{mbPerSecond, cpuPerGiB, peakRSSMiB}
	case kindRequests:
		return []metric{reqPerSecond, p50Millis, p99Millis, cpuPer1000, peakRSSMiB}
	case kindFill:
		return []metric{totalSeconds, reqPerSecond, cpuPer1000, peakRSSMiB}
	case kindLatency:
		return []metric{p50Millis, p99Millis, cpuPer1000, peakRSSMiB}
	default:
		return nil
	}
}

// tableRow is one line of the comparison table. ok[i] is false when report i
// has no value for the row, and the cell prints as "n/a".
type tableRow struct {
	label  string
	values []float64
	ok     []bool
}

// buildRows turns the reports into rows: the metrics of each workload's kind,
// in the order the workloads first appear.
func buildRows(reports []report) []tableRow {
	var order []result
	seen := map[string]bool{}
	for _, r := range reports {
		for _, res := range r.Results {
			if !seen[res.Workload] {
				seen[res.Workload] = true
				order = append(order, res)
			}
		}
	}

	var rows []tableRow
	for _, first := range order {
		for _, m := range metricsOf(first.Kind) {
			row := tableRow{label: first.Workload + ", " + m.suffix}
			for _, r := range reports {
				res, found := findResult(r, first.Workload)
				value := 0.0
				if found {
					value = m.value(res)
				}
				row.values = append(row.values, value)
				row.ok = append(row.ok, found)
			}
			rows = append(rows, row)
		}
	}
	return rows
}

func findResult(r report, workload string) (result, bool) {
	for _, res := range r.Results {
		if res.Workload == workload {
			return res, true
		}
	}
	return result{}, false
}

// printTable writes a Markdown table with one column per report and, when
// there are two reports, the ratio of the second to the first.
func printTable(w io.Writer, reports []report) error {
	header := "| workload |"
	rule := "|---|"
	for _, r := range reports {
		header += " " + r.Server + " |"
		rule += "---:|"
	}
	if len(reports) == 2 {
		header += " ratio |"
		rule += "---:|"
	}
	if _, err := fmt.Fprintln(w, header+"\n"+rule); err != nil {
		return fmt.Errorf("write table: %w", err)
	}

	for _, row := range buildRows(reports) {
		line := "| " + row.label + " |"
		for i, value := range row.values {
			line += " " + formatCell(value, row.ok[i]) + " |"
		}
		if len(reports) == 2 {
			ratioOK := row.ok[0] && row.ok[1] && row.values[0] != 0
			ratio := 0.0
			if ratioOK {
				ratio = row.values[1] / row.values[0]
			}
			line += " " + formatCell(ratio, ratioOK) + " |"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	return nil
}

// formatCell prints three significant digits, which is more than the run-to-run
// noise on a shared machine allows anyway.
func formatCell(value float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	if value >= 1000 {
		return strconv.FormatFloat(value, 'f', 0, 64)
	}
	return strconv.FormatFloat(value, 'g', 3, 64)
}

// formatSize prints a byte count in the largest binary unit that divides it.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// formatCount prints n with commas between groups of three digits.
func formatCount(n int) string {
	digits := strconv.Itoa(n)
	var out []byte
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i])
	}
	return string(out)
}
