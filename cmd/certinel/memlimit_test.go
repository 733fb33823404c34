package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v2, v1 := file("memory.max", "134217728\n"), file("memory.limit_in_bytes", "268435456\n")
	missing := filepath.Join(dir, "missing")
	noEnv := func(string) string { return "" }
	cases := map[string]struct {
		getenv func(string) string
		files  []string
		want   int64
	}{
		"cgroup v2 limit":           {noEnv, []string{v2, v1}, 134217728 / 10 * 9},
		"cgroup v1 limit":           {noEnv, []string{missing, v1}, 268435456 / 10 * 9},
		"v2 without a limit":        {noEnv, []string{file("max", "max\n"), v1}, 0},
		"v1 without a limit":        {noEnv, []string{missing, file("v1max", "9223372036854771712\n")}, 0},
		"no cgroup files":           {noEnv, []string{missing}, 0},
		"garbage":                   {noEnv, []string{file("garbage", "lots\n")}, 0},
		"GOMEMLIMIT set by a human": {func(k string) string { return map[string]string{"GOMEMLIMIT": "200MiB"}[k] }, []string{v2}, 0},
	}
	for name, tc := range cases {
		if got := memoryLimit(tc.getenv, tc.files); got != tc.want {
			t.Errorf("%s: memoryLimit = %d, want %d", name, got, tc.want)
		}
	}
}

func TestHeapSampleRate(t *testing.T) {
	env := func(godebug string) func(string) string {
		return func(k string) string { return map[string]string{"GODEBUG": godebug}[k] }
	}
	cases := map[string]struct {
		pprof   string
		godebug string
		want    int
	}{
		"no pprof endpoint: nobody reads the samples": {"", "", 0},
		"other GODEBUG settings":                      {"", "http2client=0", 0},
		"pprof endpoint serves the heap profile":      {":8082", "", 512 * 1024},
		"GODEBUG memprofilerate set by a human":       {"", "gctrace=1,memprofilerate=4096", 512 * 1024},
	}
	for name, tc := range cases {
		if got := heapSampleRate(tc.pprof, env(tc.godebug), 512*1024); got != tc.want {
			t.Errorf("%s: heapSampleRate = %d, want %d", name, got, tc.want)
		}
	}
}

func TestGCPercent(t *testing.T) {
	cases := map[string]struct {
		gogc string
		want int
	}{
		"GOGC not set: certinel's":   {"", defaultGCPercent},
		"GOGC set by a human":        {"100", -1},
		"GOGC=off set by a human":    {"off", -1},
		"GOGC of 200 set by a human": {"200", -1},
	}
	for name, tc := range cases {
		getenv := func(k string) string { return map[string]string{"GOGC": tc.gogc}[k] }
		if got := gcPercent(getenv); got != tc.want {
			t.Errorf("%s: gcPercent = %d, want %d", name, got, tc.want)
		}
	}
}
