package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the number of clock ticks per second in the utime and stime fields
// of /proc/PID/stat. Linux fixes this USER_HZ at 100 on x86-64 and arm64, and
// `getconf CLK_TCK` prints it.
const userHZ = 100

// procFS is the proc file system, from which the probe reads. Rooting the
// reads there keeps every path inside /proc.
var procFS = os.DirFS("/proc")

// serverProbe reads the CPU time and memory of the server process from /proc.
type serverProbe struct {
	pid int
}

// cpuTime returns the user plus system CPU time the process has used so far,
// without its children: neither server starts any.
func (p serverProbe) cpuTime() (time.Duration, error) {
	path := fmt.Sprintf("%d/stat", p.pid)
	stat, err := fs.ReadFile(procFS, path)
	if err != nil {
		return 0, fmt.Errorf("read server CPU time: %w", err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return 0, fmt.Errorf("parse /proc/%s: %w", path, err)
	}
	return cpu, nil
}

// parseStatCPU returns utime plus stime from the contents of /proc/PID/stat.
func parseStatCPU(stat []byte) (time.Duration, error) {
	// The command name in field 2 may contain spaces and parentheses, so the
	// fields are counted from its last closing parenthesis. Field 3 (state)
	// comes first, which puts utime (field 14) and stime (field 15) at
	// indexes 11 and 12.
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
	path := fmt.Sprintf("%d/status", p.pid)
	status, err := fs.ReadFile(procFS, path)
	if err != nil {
		return 0, fmt.Errorf("read server memory status: %w", err)
	}
	rss, err := parseStatusHWM(string(status))
	if err != nil {
		return 0, fmt.Errorf("parse /proc/%s: %w", path, err)
	}
	return rss, nil
}

// resetPeakRSS sets the process's VmHWM back to its current RSS, so the next
// peakRSS reading covers only what happened in between. Writing "5" to
// /proc/PID/clear_refs does this since Linux 4.0 (see proc(5)).
func (p serverProbe) resetPeakRSS() error {
	path := fmt.Sprintf("/proc/%d/clear_refs", p.pid)
	if err := os.WriteFile(path, []byte("5"), 0); err != nil {
		return fmt.Errorf("reset server peak RSS: %w", err)
	}
	return nil
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

// measurement is the wall clock and server CPU time at the start of a timed
// step. Starting one also resets the server's peak RSS.
type measurement struct {
	probe serverProbe
	start time.Time
	cpu   time.Duration
}

// begin resets the peak RSS and starts timing a step.
func (p serverProbe) begin() (measurement, error) {
	if err := p.resetPeakRSS(); err != nil {
		return measurement{}, err
	}
	cpu, err := p.cpuTime()
	if err != nil {
		return measurement{}, err
	}
	return measurement{probe: p, start: time.Now(), cpu: cpu}, nil
}

// end finishes timing a step and fills in the time, CPU and memory fields of r.
func (m measurement) end(r result) (result, error) {
	elapsed := time.Since(m.start)
	cpu, err := m.probe.cpuTime()
	if err != nil {
		return result{}, err
	}
	rss, err := m.probe.peakRSS()
	if err != nil {
		return result{}, err
	}
	r.Seconds = elapsed.Seconds()
	// Both readings are whole ticks, so rounding only drops float noise.
	r.CPUSeconds = math.Round((cpu-m.cpu).Seconds()*userHZ) / userHZ
	r.PeakRSSBytes = rss
	return r, nil
}
