package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPUParenthesesInName(t *testing.T) {
	// After the name: state, ppid, pgrp, session, tty_nr, tpgid, flags,
	// minflt, cminflt, majflt, cmajflt, utime=300, stime=45, cutime, cstime.
	stat := []byte("77 (a) b (c)) R 1 77 77 0 -1 0 5 0 0 0 300 45 800 800 20 0 4 0 9 0 0\n")
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatalf("parseStatCPU: %v", err)
	}
	if want := 3450 * time.Millisecond; got != want {
		t.Errorf("parseStatCPU = %v, expected %v", got, want)
	}
}

func TestParseStatCPUInvalid(t *testing.T) {
	for _, stat := range []string{"77 (a) R 1 2", "77 a R 1 2 3 4 5 6 7 8 9 10 11 12 13", "77 (a) R 1 2 3 4 5 6 7 8 9 10 x 12 13"} {
		if _, err := parseStatCPU([]byte(stat)); err == nil {
			t.Errorf("parseStatCPU(%q) succeeded", stat)
		}
	}
}

func TestParseStatusHWMValue(t *testing.T) {
	got, err := parseStatusHWM("Name:\tcofferd\nVmHWM:\t   51200 kB\nVmRSS:\t 1 kB\n")
	if err != nil {
		t.Fatalf("parseStatusHWM: %v", err)
	}
	if want := int64(50 << 20); got != want {
		t.Errorf("parseStatusHWM = %d, expected %d", got, want)
	}
}

func TestParseStatusHWMInvalid(t *testing.T) {
	for _, status := range []string{"VmRSS:\t1 kB\n", "VmHWM:\t12 MB\n", "VmHWM:\tx kB\n"} {
		if _, err := parseStatusHWM(status); err == nil {
			t.Errorf("parseStatusHWM(%q) succeeded", status)
		}
	}
}

// TestProbeOwnProcess reads the test's own /proc entries, which is what the
// probe does with a server started by the same user.
func TestProbeOwnProcess(t *testing.T) {
	probe := serverProbe{pid: os.Getpid()}
	m, err := probe.begin()
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	r, err := m.end(result{Workload: "self"})
	if err != nil {
		t.Fatalf("end: %v", err)
	}
	if r.PeakRSSBytes <= 0 {
		t.Errorf("peak RSS = %d, expected a positive size", r.PeakRSSBytes)
	}
	if r.CPUSeconds < 0 {
		t.Errorf("CPU seconds = %v, expected zero or more", r.CPUSeconds)
	}
}
