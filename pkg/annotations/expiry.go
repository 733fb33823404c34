package annotations

import (
	"strconv"
	"strings"
	"time"
)

// DefaultExpiryWarning is how long before a certificate expires certinel
// warns, when neither certinel.io/expiry-warning nor --expiry-warning says.
const DefaultExpiryWarning = 30 * 24 * time.Hour

// ExpirySpec is what the section 5 annotations of a Secret ask for.
type ExpirySpec struct {
	// Monitored is false when the Secret opted out (certinel.io/monitor: "false").
	Monitored bool
	// Warning is how long before expiry CertificateExpiringSoon is emitted.
	Warning time.Duration
}

// ParseExpirySpec reads certinel.io/monitor and certinel.io/expiry-warning;
// def is the --expiry-warning default. An opted-out Secret is not read
// further. A bad value is an error (an
// InvalidAnnotation Warning), and the spec returned with it still holds
// what could be read: a bad expiry-warning leaves Warning zero (no
// CertificateExpiringSoon until it is fixed), never a silent default.
func ParseExpirySpec(ann map[string]string, def time.Duration) (ExpirySpec, error) {
	spec := ExpirySpec{Monitored: true, Warning: def}
	if v, ok := ann[Monitor]; ok {
		on, err := parseBool(Monitor, strings.TrimSpace(v))
		if err != nil {
			return spec, err
		}
		if spec.Monitored = on || strings.TrimSpace(v) == ""; !spec.Monitored {
			return spec, nil // opted out: nothing else is read
		}
	}
	if v, ok := ann[ExpiryWarning]; ok {
		d, err := ParseDays(strings.TrimSpace(v))
		if err != nil || d <= 0 {
			spec.Warning = 0
			return spec, invalid(ExpiryWarning, v, `a positive Go duration ("720h") or a number of days ("30d")`)
		}
		spec.Warning = d
	}
	return spec, nil
}

// ParseDays reads a Go duration ("720h", "90m") or a whole number of days
// ("30d"). It is the format of certinel.io/expiry-warning and --expiry-warning.
func ParseDays(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}
