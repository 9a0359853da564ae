package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
)

// result is one timed step of a workload.
type result struct {
	// Workload is the row label, the same for every server.
	Workload string `json:"workload"`
	// Bytes is the payload moved, or zero for request-rate workloads.
	Bytes int64 `json:"bytes"`
	// Requests is the number of HTTP requests in the timed step.
	Requests int `json:"requests"`
	// Seconds is the wall-clock time of the step.
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the server's user plus system CPU time during the step.
	CPUSeconds float64 `json:"cpu_seconds"`
	// DatabaseCPUSeconds is the CPU time of the PostgreSQL backends serving
	// the server's metadata during the step, or nil when not measured.
	DatabaseCPUSeconds *float64 `json:"database_cpu_seconds,omitempty"`
}

// report is everything measured against one server.
type report struct {
	Server  string   `json:"server"`
	Results []result `json:"results"`
	// PeakRSSBytes is the server's VmHWM after the last workload.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

func writeReport(path string, r report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report for %s: %w", r.Server, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

func readReport(path string) (report, error) {
	var r report
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("read report: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("decode report %s: %w", path, err)
	}
	return r, nil
}

// tableRow is one line of the comparison table. ok[i] is false when report i
// has no value for the row, and the cell prints as "n/a".
type tableRow struct {
	label  string
	values []float64
	ok     []bool
}

func (row *tableRow) add(value float64, ok bool) {
	row.values = append(row.values, value)
	row.ok = append(row.ok, ok)
}

// buildRows turns the reports into rows: a rate row and a CPU row per
// workload, in the order the workloads first appear, then a peak RSS row.
func buildRows(reports []report) []tableRow {
	var labels []string
	seen := map[string]bool{}
	for _, r := range reports {
		for _, res := range r.Results {
			if !seen[res.Workload] {
				seen[res.Workload] = true
				labels = append(labels, res.Workload)
			}
		}
	}

	var rows []tableRow
	for _, label := range labels {
		rate, cpu, total := workloadRows(label, reports)
		rows = append(rows, rate, cpu)
		if total != nil {
			rows = append(rows, *total)
		}
	}

	rss := tableRow{label: "server peak RSS (VmHWM), MiB"}
	for _, r := range reports {
		rss.add(float64(r.PeakRSSBytes)/(1<<20), r.PeakRSSBytes > 0)
	}
	return append(rows, rss)
}

// workloadRows returns the rate and CPU rows of one workload. Workloads that
// move payload show MB/s (10^6 bytes per second) and CPU seconds per GiB, the
// others requests per second and CPU seconds per 1,000 requests. When a
// report measured its PostgreSQL backends, total is a third row with the
// server's CPU time plus theirs. A server without PostgreSQL counts only its
// own, which includes any in-process database.
func workloadRows(label string, reports []report) (rate, cpu tableRow, total *tableRow) {
	movesPayload := false
	for _, r := range reports {
		if res, found := findResult(r, label); found {
			movesPayload = res.Bytes > 0
			break
		}
	}

	unit := "per 1,000 requests"
	if movesPayload {
		unit = "per GiB"
		rate.label = label + ", MB/s"
	} else {
		rate.label = label + ", req/s"
	}
	cpu.label = label + ", server CPU s " + unit
	sum := tableRow{label: label + ", server + PostgreSQL backend CPU s " + unit}
	measuredDatabase := false
	for _, r := range reports {
		res, found := findResult(r, label)
		if !found {
			rate.add(0, false)
			cpu.add(0, false)
			sum.add(0, false)
			continue
		}
		per := float64(res.Requests) / 1000
		if movesPayload {
			per = float64(res.Bytes) / (1 << 30)
			rate.add(float64(res.Bytes)/1e6/res.Seconds, true)
		} else {
			rate.add(float64(res.Requests)/res.Seconds, true)
		}
		cpu.add(res.CPUSeconds/per, true)
		databaseCPU := 0.0
		if res.DatabaseCPUSeconds != nil {
			measuredDatabase = true
			databaseCPU = *res.DatabaseCPUSeconds
		}
		sum.add((res.CPUSeconds+databaseCPU)/per, true)
	}
	if measuredDatabase {
		total = &sum
	}
	return rate, cpu, total
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
