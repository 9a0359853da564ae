package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// userHZ is the number of clock ticks per second in the utime and stime fields
// of /proc/PID/stat. Linux fixes this USER_HZ at 100 on x86-64 and arm64, and
// `getconf CLK_TCK` prints it.
const userHZ = 100

// serverProbe reads the CPU time and memory of the server process from /proc.
type serverProbe struct {
	pid int
	// database, when set, names the PostgreSQL database that the server
	// keeps its metadata in, so that the probe also reads the CPU time of
	// the backends serving it.
	database string
}

// cpuTime returns the user plus system CPU time the process has used so far.
// It excludes children, which neither registry starts.
func (p serverProbe) cpuTime() (time.Duration, error) {
	path := fmt.Sprintf("/proc/%d/stat", p.pid)
	stat, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read server CPU time: %w", err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return cpu, nil
}

// parseStatCPU returns utime plus stime from the contents of /proc/PID/stat.
func parseStatCPU(stat []byte) (time.Duration, error) {
	// The command name in field 2 may contain spaces and parentheses, so count
	// fields after its last closing parenthesis: field 3 (state) comes first,
	// which puts utime (field 14) and stime (field 15) at indexes 11 and 12.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("missing ')' after the command name")
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, expected at least 13", len(fields))
	}
	var ticks int64
	for _, field := range fields[11:13] {
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("CPU time field %q: %w", field, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func (p serverProbe) peakRSS() (int64, error) {
	path := fmt.Sprintf("/proc/%d/status", p.pid)
	status, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read server memory status: %w", err)
	}
	rss, err := parseStatusHWM(string(status))
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return rss, nil
}

// parseStatusHWM returns VmHWM in bytes from the contents of /proc/PID/status.
func parseStatusHWM(status string) (int64, error) {
	for line := range strings.Lines(status) {
		value, found := strings.CutPrefix(line, "VmHWM:")
		if !found {
			continue
		}
		value = strings.TrimSpace(value)
		kib, found := strings.CutSuffix(value, " kB")
		if !found {
			return 0, fmt.Errorf("VmHWM %q is not in kB", value)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(kib), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM %q: %w", value, err)
		}
		return n << 10, nil
	}
	return 0, errors.New("no VmHWM line")
}

// databaseCPUTime returns the user plus system CPU time used so far by the
// PostgreSQL backends of p.database on this machine: the processes whose
// title, as ps shows it, starts with "postgres:" and names the database. A
// backend that exits between two readings takes its CPU time with it.
func (p serverProbe) databaseCPUTime() time.Duration {
	var total time.Duration
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		title, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || !isBackendOf(string(title), p.database) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue // the backend has exited
		}
		if cpu, err := parseStatCPU(stat); err == nil {
			total += cpu
		}
	}
	return total
}

// isBackendOf reports whether a process title belongs to a PostgreSQL
// backend connected to database, such as
// "postgres: 15/main: postgres coffer_bench_1a2b 127.0.0.1(5432) idle".
func isBackendOf(title, database string) bool {
	rest, found := strings.CutPrefix(title, "postgres: ")
	return found && slices.Contains(strings.Fields(strings.ReplaceAll(rest, "\x00", " ")), database)
}

// measurement is the wall clock, server CPU time and database CPU time at
// the start of a timed step.
type measurement struct {
	probe       serverProbe
	start       time.Time
	cpu         time.Duration
	databaseCPU time.Duration
}

// begin starts timing a step.
func (p serverProbe) begin() (measurement, error) {
	cpu, err := p.cpuTime()
	if err != nil {
		return measurement{}, err
	}
	m := measurement{probe: p, start: time.Now(), cpu: cpu}
	if p.database != "" {
		m.databaseCPU = p.databaseCPUTime()
	}
	return m, nil
}

// end finishes timing a step that moved payloadBytes in requests requests.
func (m measurement) end(workload string, payloadBytes int64, requests int) (result, error) {
	elapsed := time.Since(m.start)
	cpu, err := m.probe.cpuTime()
	if err != nil {
		return result{}, err
	}
	r := result{
		Workload: workload,
		Bytes:    payloadBytes,
		Requests: requests,
		Seconds:  elapsed.Seconds(),
		// Both readings are whole ticks, so rounding only drops float noise.
		CPUSeconds: roundTicks(cpu - m.cpu),
	}
	if m.probe.database != "" {
		databaseCPU := roundTicks(m.probe.databaseCPUTime() - m.databaseCPU)
		r.DatabaseCPUSeconds = &databaseCPU
	}
	return r, nil
}

// roundTicks returns d in seconds, rounded to whole clock ticks.
func roundTicks(d time.Duration) float64 {
	return math.Round(d.Seconds()*userHZ) / userHZ
}
