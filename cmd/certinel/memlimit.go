package main

import (
	"os"
	"strconv"
	"strings"
)

// cgroupMemoryFiles hold the memory limit of certinel's container: cgroup
// v2, then v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// memoryLimit is the soft memory limit certinel gives the Go runtime when
// GOMEMLIMIT is not set: 90% of its container's memory limit, so that the
// garbage collector works harder as certinel nears the limit instead of the
// kernel killing it (a renewal storm or a cold start on a large cluster
// allocates in bursts). 0 when there is no limit to follow: GOMEMLIMIT set,
// no cgroup limit, or one that cannot be read.
func memoryLimit(getenv func(string) string, files []string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		// "max" (v2) and v1's "no limit" (close to 2^63) are no limit.
		if err != nil || n <= 0 || n >= 1<<50 {
			return 0
		}
		return n / 10 * 9
	}
	return 0
}

// heapSampleRate is the Go runtime's heap sampling rate for the manager:
// 0 (no sampling) unless --pprof-bind-address serves the heap profile or
// GODEBUG sets memprofilerate. Nothing else reads the samples, and they
// are not free: the runtime fills a hash table of up to 1.4 MB and keeps a
// record per sampled call stack for as long as the process lives.
func heapSampleRate(pprofAddr string, getenv func(string) string, current int) int {
	if pprofAddr != "" || strings.Contains(getenv("GODEBUG"), "memprofilerate=") {
		return current
	}
	return 0
}

// defaultGCPercent is the garbage collector's target certinel runs with
// when GOGC is not set, instead of Go's 100.
const defaultGCPercent = 50

// gcPercent is the GC percent certinel sets: defaultGCPercent, or -1 (leave
// the runtime's) when GOGC is set.
func gcPercent(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		return -1
	}
	return defaultGCPercent
}
