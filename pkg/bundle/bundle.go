// Package bundle computes the CA bundle certinel injects into a target: the
// certificates of the source first, then the CAs certinel injected before
// that the source no longer has, until they expire, so that clients never
// see a trust gap during a CA rotation. It has no client and no clock of
// its own.
package bundle

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"slices"
	"strings"
	"time"

	"github.com/certinel/certinel/pkg/pki"
)

// Result is the bundle to inject.
type Result struct {
	// Certs is the bundle: the source's certificates in their order, then
	// the kept previous ones, de-duplicated.
	Certs []*x509.Certificate
	// PEM is Certs encoded, one CERTIFICATE block each.
	PEM []byte
	// History lists the short fingerprints of Certs, sorted: what certinel
	// records on the target so that it knows, next time, which certificates
	// of the target's bundle it put there.
	History string
	// NextExpiry is when the first kept previous certificate expires, the
	// moment the bundle must change again; zero when none is kept.
	NextExpiry time.Time
}

// Merge returns the bundle for a source holding fresh, when the target
// holds current and certinel recorded history (a History of an earlier
// Result) on it. A certificate of current is kept when certinel injected it
// (it is in history), the source no longer has it, and it has not expired
// at now. Certificates somebody else put in the target are not kept. The
// bundle holds at most pki.MaxBundle certificates: the oldest previous ones
// go first.
func Merge(fresh, current []*x509.Certificate, history string, now time.Time) Result {
	injected := map[string]bool{}
	for _, fp := range strings.Split(history, ",") {
		if fp = strings.TrimSpace(fp); fp != "" {
			injected[fp] = true
		}
	}
	var out []*x509.Certificate
	seen := map[string]bool{}
	add := func(c *x509.Certificate) bool {
		fp := Short(c)
		if seen[fp] || len(out) >= pki.MaxBundle {
			return false
		}
		seen[fp] = true
		out = append(out, c)
		return true
	}
	for _, c := range fresh {
		add(c)
	}
	var next time.Time
	for _, c := range current {
		fp := Short(c)
		if seen[fp] || !injected[fp] || !now.Before(c.NotAfter) {
			continue
		}
		if add(c) && (next.IsZero() || c.NotAfter.Before(next)) {
			next = c.NotAfter
		}
	}
	r := Result{Certs: out, PEM: Encode(out), NextExpiry: next}
	fps := make([]string, len(out))
	for i, c := range out {
		fps[i] = Short(c)
	}
	slices.Sort(fps)
	r.History = strings.Join(fps, ",")
	return r
}

// Short is the first 8 bytes of a certificate's SHA-256, in hex.
func Short(c *x509.Certificate) string {
	fp := pki.Fingerprint(c)
	return hex.EncodeToString(fp[:8])
}

// Encode writes certs as PEM CERTIFICATE blocks, in order.
func Encode(certs []*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// Unique returns certs without repeats, in their order.
func Unique(certs []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	seen := map[string]bool{}
	for _, c := range certs {
		if fp := Short(c); !seen[fp] {
			seen[fp] = true
			out = append(out, c)
		}
	}
	return out
}

// Current parses what a target holds now, for Merge: the certificates of
// every bundle, in order, de-duplicated. What does not parse is ignored: a
// broken bundle in the target is replaced, never a reason to stop.
func Current(bundles ...[]byte) []*x509.Certificate {
	var all []*x509.Certificate
	for _, b := range bundles {
		if certs, err := pki.ParseCertificates(b); err == nil {
			all = append(all, certs...)
		}
	}
	return Unique(all)
}
