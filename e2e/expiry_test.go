package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"
	"time"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

// Every TLS Secret in scope gets expiry gauges without any annotation; a
// Secret close to expiry gets CertificateExpiringSoon, an expired one
// CertificateExpired; the warning of a certificate that crosses its
// threshold later comes at that moment, with nothing else happening; an
// opted-out Secret exports nothing; a bad threshold is a Warning; the series
// go with the Secret.
func TestExpiryGaugesAndWarnings(t *testing.T) {
	ns := namespace(t)
	now := time.Now().Truncate(time.Second)
	tlsValid := func(notBefore, notAfter time.Time) *framework.TLS {
		tls, err := framework.NewTLSValid("app.example.com", framework.SEC1, notBefore, notAfter, "app.example.com")
		if err != nil {
			t.Fatal(err)
		}
		return tls
	}
	fresh := tlsValid(time.Time{}, now.Add(90*24*time.Hour))
	soon := tlsValid(time.Time{}, now.Add(10*24*time.Hour))
	expired := tlsValid(now.Add(-48*time.Hour), now.Add(-time.Hour))
	// crosses the 30-day threshold 20 s after it is created
	crossing := tlsValid(time.Time{}, now.Add(30*24*time.Hour+20*time.Second))

	applyTLSSecret(t, ns, "fresh", fresh, nil)
	applyTLSSecret(t, ns, "soon", soon, nil)
	applyTLSSecret(t, ns, "expired", expired, nil)
	applyTLSSecret(t, ns, "opted-out", soon, map[string]string{"certinel.io/monitor": "false"})
	applyTLSSecret(t, ns, "bad-threshold", fresh, map[string]string{"certinel.io/expiry-warning": "a month"})
	applyTLSSecret(t, ns, "crossing", crossing, nil)
	created := time.Now()

	gauge := func(secret, key string) float64 {
		return metric(t, "certinel_certificate_not_after_timestamp_seconds", `namespace="`+ns+`"`, `secret="`+secret+`"`, `key="`+key+`"`)
	}
	testutil.Eventually(t, 30*time.Second, func() string {
		for _, s := range []string{"fresh", "soon", "expired", "bad-threshold", "crossing"} {
			if gauge(s, "tls.crt") == 0 {
				return "no not_after series for " + s
			}
		}
		return ""
	})
	if got, want := gauge("soon", "tls.crt"), float64(leafNotAfter(t, soon).Unix()); got != want {
		t.Errorf("not_after of soon/tls.crt = %v, want %v", got, want)
	}
	if got, want := gauge("fresh", "ca.crt"), float64(now.Add(3650*24*time.Hour).Unix()); got < want-60 || got > want+60 {
		t.Errorf("not_after of fresh/ca.crt = %v, want about %v", got, want)
	}
	if nb := metric(t, "certinel_certificate_not_before_timestamp_seconds", `namespace="`+ns+`"`, `secret="expired"`, `key="tls.crt"`); nb != float64(now.Add(-48*time.Hour).Unix()) {
		t.Errorf("not_before of expired/tls.crt = %v", nb)
	}
	if gauge("opted-out", "tls.crt") != 0 {
		t.Error("certinel.io/monitor=false still exports a series")
	}

	mustContain(t, "CertificateExpiringSoon", waitForEvent(t, ns, "soon", "CertificateExpiringSoon"), "tls.crt expires on", "(in 9d)")
	mustContain(t, "CertificateExpired", waitForEvent(t, ns, "expired", "CertificateExpired"), "tls.crt expired on")
	mustContain(t, "InvalidAnnotation", waitForEvent(t, ns, "bad-threshold", "InvalidAnnotation"), "certinel.io/expiry-warning")

	// The crossing Secret is warned about when its threshold passes, by the
	// timer alone: nothing changed in the cluster.
	if reasons := eventReasons(t, ns, "crossing"); len(reasons) != 0 && time.Since(created) < 15*time.Second {
		t.Fatalf("crossing warned before its threshold: %v", reasons)
	}
	waitForEvent(t, ns, "crossing", "CertificateExpiringSoon")
	if early := now.Add(20 * time.Second).Sub(time.Now()); early > time.Second {
		t.Errorf("crossing was warned %v before its threshold", early)
	}
	for name, want := range map[string]int{"fresh": 0, "opted-out": 0, "soon": 1, "expired": 1, "crossing": 1} {
		if got := len(eventReasons(t, ns, name)); got != want {
			t.Errorf("%s: %d Events (%v), want %d", name, got, eventReasons(t, ns, name), want)
		}
	}

	// Deleting a Secret removes its series.
	kubectl(t, "", "-n", ns, "delete", "secret", "soon")
	testutil.Eventually(t, 30*time.Second, func() string {
		if gauge("soon", "tls.crt") != 0 || gauge("soon", "ca.crt") != 0 {
			return "series of a deleted Secret are still exported"
		}
		return ""
	})
}

// eventReasons lists the reasons of the Events on a Secret, with their counts.
func eventReasons(t *testing.T, ns, name string) []string {
	t.Helper()
	evs, err := eventsOn(ns, name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s(%d)", e.Reason, max(e.Count, 1)))
	}
	return out
}

func leafNotAfter(t *testing.T, tls *framework.TLS) time.Time {
	t.Helper()
	b, _ := pem.Decode(tls.Cert)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.NotAfter
}
