package expiry

import (
	"fmt"
	"strings"
	"time"
)

// Event reasons of section 5.
const (
	ReasonExpiringSoon = "CertificateExpiringSoon"
	ReasonExpired      = "CertificateExpired"
)

// WarnEvery is the least time between two CertificateExpiringSoon Events
// about one Secret.
const WarnEvery = 24 * time.Hour

// Notice is an Event the Secret's owner should see.
type Notice struct {
	Reason  string
	Message string
}

// Memory is what is remembered of one Secret between decisions.
type Memory struct {
	// Warned is when CertificateExpiringSoon was last emitted.
	Warned time.Time
	// Expired holds, per key, the expiry already announced by
	// CertificateExpired, so that each expired certificate is told once.
	Expired map[string]time.Time
}

// Decide says what to tell about a Secret's certificates at now, what to
// remember, and when something will next have to be told (zero: never,
// unless the Secret changes). warning is the threshold of
// CertificateExpiringSoon; zero turns that Event off (a bad
// certinel.io/expiry-warning) while CertificateExpired still fires.
func Decide(vs []Validity, warning time.Duration, now time.Time, m Memory) ([]Notice, Memory, time.Time) {
	next := Memory{Warned: m.Warned}
	var notices []Notice
	var wake time.Time
	later := func(t time.Time) {
		if t.After(now) && (wake.IsZero() || t.Before(wake)) {
			wake = t
		}
	}
	var expired, soon []string
	for _, v := range vs {
		if v.Unreadable {
			continue
		}
		if !v.NotAfter.After(now) {
			if next.Expired == nil {
				next.Expired = map[string]time.Time{}
			}
			next.Expired[v.Key] = v.NotAfter
			if !m.Expired[v.Key].Equal(v.NotAfter) {
				expired = append(expired, fmt.Sprintf("%s expired on %s", v.Key, v.NotAfter.Format(time.RFC3339)))
			}
			continue
		}
		later(v.NotAfter)
		if warning <= 0 {
			continue
		}
		if at := v.NotAfter.Add(-warning); at.After(now) {
			later(at)
			continue
		}
		soon = append(soon, fmt.Sprintf("%s expires on %s (in %s)", v.Key, v.NotAfter.Format(time.RFC3339), Days(v.NotAfter.Sub(now))))
	}
	if len(expired) > 0 {
		notices = append(notices, Notice{Reason: ReasonExpired, Message: "certificate " + strings.Join(expired, "; ") + "; renew it"})
	}
	if len(soon) > 0 {
		if m.Warned.IsZero() || !now.Before(m.Warned.Add(WarnEvery)) {
			next.Warned = now
			notices = append(notices, Notice{Reason: ReasonExpiringSoon, Message: fmt.Sprintf(
				"certificate %s, less than the warning threshold of %s", strings.Join(soon, "; "), Days(warning))})
		}
		later(next.Warned.Add(WarnEvery))
	}
	return notices, next, wake
}

// Days writes d in whole days when it is at least a day ("29d"), and as a
// Go duration rounded to the minute otherwise ("3h20m0s").
func Days(d time.Duration) string {
	if d >= 24*time.Hour {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.Round(time.Minute).String()
}
