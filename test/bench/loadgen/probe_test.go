package main

import (
	"testing"
	"time"
)

func TestParseStatCPUCommandWithSpaces(t *testing.T) {
	// Fields after the command name: state, ppid, pgrp, session, tty_nr,
	// tpgid, flags, minflt, cminflt, majflt, cmajflt, utime=250, stime=125,
	// cutime=999, cstime=999.
	stat := []byte("4242 (odd) name)) S 1 4242 4242 0 -1 4194560 10 0 0 0 250 125 999 999 20 0 8 0 100 0 0\n")
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatalf("parseStatCPU: %v", err)
	}
	if want := 3750 * time.Millisecond; got != want {
		t.Errorf("parseStatCPU = %v, want %v", got, want)
	}
}

func TestParseStatCPUTruncated(t *testing.T) {
	if _, err := parseStatCPU([]byte("4242 (x) S 1 2 3")); err == nil {
		t.Error("parseStatCPU accepted a line with too few fields")
	}
	if _, err := parseStatCPU([]byte("4242 x S 1 2 3")); err == nil {
		t.Error("parseStatCPU accepted a line without a command name")
	}
}

func TestParseStatusHWM(t *testing.T) {
	status := "Name:\tregistry\nVmPeak:\t  900000 kB\nVmHWM:\t  268304 kB\nVmRSS:\t  100 kB\n"
	got, err := parseStatusHWM(status)
	if err != nil {
		t.Fatalf("parseStatusHWM: %v", err)
	}
	if want := int64(268304) * 1024; got != want {
		t.Errorf("parseStatusHWM = %d, want %d", got, want)
	}
}

func TestParseStatusHWMMissing(t *testing.T) {
	if _, err := parseStatusHWM("Name:\tregistry\nVmRSS:\t100 kB\n"); err == nil {
		t.Error("parseStatusHWM accepted status without VmHWM")
	}
}

func TestIsBackendOf(t *testing.T) {
	cases := []struct {
		title string
		want  bool
	}{
		{"postgres: 15/main: postgres coffer_bench_1a2b 127.0.0.1(41650) idle", true},
		{"postgres: postgres coffer_bench_1a2b 127.0.0.1(41650) SELECT\x00\x00", true},
		{"postgres: 15/main: postgres coffer_bench_ffff 127.0.0.1(41650) idle", false},
		{"postgres: 15/main: walwriter ", false},
		{"/usr/bin/cofferd coffer_bench_1a2b", false},
	}
	for _, c := range cases {
		if got := isBackendOf(c.title, "coffer_bench_1a2b"); got != c.want {
			t.Errorf("isBackendOf(%q) = %v, want %v", c.title, got, c.want)
		}
	}
}
