package expiry

import (
	"strings"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	day := 24 * time.Hour
	valid := func(key string, left time.Duration) Validity {
		return Validity{Key: key, NotBefore: t0.Add(-day), NotAfter: t0.Add(left)}
	}
	for name, tc := range map[string]struct {
		vs       []Validity
		warning  time.Duration
		mem      Memory
		reasons  []string
		contains string
		wake     time.Time
		warned   time.Time
	}{
		"far from expiry: wake at the threshold": {
			vs: []Validity{valid("tls.crt", 90*day)}, warning: 30 * day,
			wake: t0.Add(60 * day),
		},
		"earliest of two keys": {
			vs: []Validity{valid("tls.crt", 90*day), valid("ca.crt", 40*day)}, warning: 30 * day,
			wake: t0.Add(10 * day),
		},
		"inside the threshold: warn, wake in a day": {
			vs: []Validity{valid("tls.crt", 10*day)}, warning: 30 * day,
			reasons: []string{ReasonExpiringSoon}, contains: "tls.crt expires on 2026-12-11T12:00:00Z (in 10d)",
			wake: t0.Add(day), warned: t0,
		},
		"warned an hour ago: silent until a day has passed": {
			vs: []Validity{valid("tls.crt", 10*day)}, warning: 30 * day, mem: Memory{Warned: t0.Add(-time.Hour)},
			wake: t0.Add(23 * time.Hour), warned: t0.Add(-time.Hour),
		},
		"warned a day ago: warn again": {
			vs: []Validity{valid("tls.crt", 10*day)}, warning: 30 * day, mem: Memory{Warned: t0.Add(-day)},
			reasons: []string{ReasonExpiringSoon}, wake: t0.Add(day), warned: t0,
		},
		"less than a day left: wake at expiry": {
			vs: []Validity{valid("tls.crt", 2*time.Hour)}, warning: 30 * day,
			reasons: []string{ReasonExpiringSoon}, contains: "(in 2h0m0s)", wake: t0.Add(2 * time.Hour), warned: t0,
		},
		"expired: told once": {
			vs: []Validity{valid("tls.crt", -time.Hour)}, warning: 30 * day,
			reasons: []string{ReasonExpired}, contains: "tls.crt expired on 2026-12-01T11:00:00Z",
		},
		"expired and already told": {
			vs: []Validity{valid("tls.crt", -time.Hour)}, warning: 30 * day,
			mem: Memory{Expired: map[string]time.Time{"tls.crt": t0.Add(-time.Hour)}},
		},
		"expired at exactly now": {
			vs: []Validity{valid("tls.crt", 0)}, warning: 30 * day, reasons: []string{ReasonExpired},
		},
		"a renewed key that expired again is told again": {
			vs: []Validity{valid("tls.crt", -time.Minute)}, warning: 30 * day,
			mem:     Memory{Expired: map[string]time.Time{"tls.crt": t0.Add(-40 * day)}},
			reasons: []string{ReasonExpired},
		},
		"one expired, one soon": {
			vs: []Validity{valid("ca.crt", -time.Hour), valid("tls.crt", 3*day)}, warning: 30 * day,
			reasons: []string{ReasonExpired, ReasonExpiringSoon}, wake: t0.Add(day), warned: t0,
		},
		"no threshold (bad annotation): only expiry": {
			vs: []Validity{valid("tls.crt", 3*day)}, warning: 0,
			wake: t0.Add(3 * day),
		},
		"unreadable keys are ignored": {
			vs: []Validity{{Key: "tls.crt", Unreadable: true}}, warning: 30 * day,
		},
		"threshold crossed exactly now": {
			vs: []Validity{valid("tls.crt", 30*day)}, warning: 30 * day,
			reasons: []string{ReasonExpiringSoon}, wake: t0.Add(day), warned: t0,
		},
	} {
		t.Run(name, func(t *testing.T) {
			notices, mem, wake := Decide(tc.vs, tc.warning, t0, tc.mem)
			var reasons []string
			for _, n := range notices {
				reasons = append(reasons, n.Reason)
				if tc.contains != "" && !strings.Contains(n.Message, tc.contains) && len(notices) == 1 {
					t.Errorf("message %q does not contain %q", n.Message, tc.contains)
				}
			}
			if strings.Join(reasons, ",") != strings.Join(tc.reasons, ",") {
				t.Errorf("reasons = %v, want %v", reasons, tc.reasons)
			}
			if !wake.Equal(tc.wake) {
				t.Errorf("wake = %v, want %v", wake, tc.wake)
			}
			if !mem.Warned.Equal(tc.warned) {
				t.Errorf("warned = %v, want %v", mem.Warned, tc.warned)
			}
			// Deciding again at the same moment with what was remembered
			// tells nothing more: no Event twice.
			if again, _, _ := Decide(tc.vs, tc.warning, t0, mem); len(again) != 0 {
				t.Errorf("second decision at the same time told %+v", again)
			}
		})
	}
}

func TestDays(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * 24 * time.Hour: "30d", 47 * time.Hour: "1d", 90 * time.Minute: "1h30m0s",
	} {
		if got := Days(d); got != want {
			t.Errorf("Days(%v) = %q, want %q", d, got, want)
		}
	}
}
