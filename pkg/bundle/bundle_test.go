package bundle

import (
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certinel/certinel/pkg/pki"
	"github.com/certinel/certinel/pkg/testpki"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func ca(t *testing.T, name string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	return testpki.Issue(t, testpki.Template{CommonName: name, IsCA: true, NotBefore: notAfter.Add(-365 * 24 * time.Hour),
		NotAfter: notAfter, Key: testpki.NewKey(t, testpki.ECDSA)}, nil).Cert
}

func history(certs ...*x509.Certificate) string {
	var fps []string
	for _, c := range certs {
		fps = append(fps, Short(c))
	}
	slices.Sort(fps)
	return strings.Join(fps, ",")
}

func TestMerge(t *testing.T) {
	old := ca(t, "old", now.Add(30*24*time.Hour))
	older := ca(t, "older", now.Add(10*24*time.Hour))
	expired := ca(t, "expired", now.Add(-time.Hour))
	expiresNow := ca(t, "expires now", now)
	fresh := ca(t, "fresh", now.Add(365*24*time.Hour))
	other := ca(t, "other", now.Add(365*24*time.Hour))
	foreign := ca(t, "put there by somebody else", now.Add(365*24*time.Hour))

	tests := map[string]struct {
		fresh, current []*x509.Certificate
		history        string
		want           []*x509.Certificate
		wantNext       time.Time
	}{
		"first injection into an empty target": {
			fresh: []*x509.Certificate{fresh}, want: []*x509.Certificate{fresh},
		},
		"nothing changed": {
			fresh: []*x509.Certificate{fresh}, current: []*x509.Certificate{fresh}, history: history(fresh),
			want: []*x509.Certificate{fresh},
		},
		"rotation keeps the previous CA after the new one": {
			fresh: []*x509.Certificate{fresh}, current: []*x509.Certificate{old}, history: history(old),
			want: []*x509.Certificate{fresh, old}, wantNext: old.NotAfter,
		},
		"a second rotation keeps both previous ones, the next expiry is the earliest": {
			fresh: []*x509.Certificate{fresh}, current: []*x509.Certificate{old, older}, history: history(old, older),
			want: []*x509.Certificate{fresh, old, older}, wantNext: older.NotAfter,
		},
		"expired previous CAs are dropped": {
			fresh: []*x509.Certificate{fresh}, current: []*x509.Certificate{old, expired, expiresNow}, history: history(old, expired, expiresNow),
			want: []*x509.Certificate{fresh, old}, wantNext: old.NotAfter,
		},
		"certificates certinel did not inject are not kept": {
			fresh: []*x509.Certificate{fresh}, current: []*x509.Certificate{foreign, old}, history: history(old),
			want: []*x509.Certificate{fresh, old}, wantNext: old.NotAfter,
		},
		"no history keeps nothing of the target": {
			fresh: []*x509.Certificate{fresh}, current: []*x509.Certificate{old}, want: []*x509.Certificate{fresh},
		},
		"the source's order is kept and duplicates removed": {
			fresh: []*x509.Certificate{other, fresh, other}, current: []*x509.Certificate{fresh}, history: history(fresh),
			want: []*x509.Certificate{other, fresh},
		},
		"a source CA that expired stays: the source is the truth": {
			fresh: []*x509.Certificate{expired}, want: []*x509.Certificate{expired},
		},
		"history with blanks and junk": {
			fresh: []*x509.Certificate{fresh}, current: []*x509.Certificate{old}, history: " , zz," + Short(old) + " ,",
			want: []*x509.Certificate{fresh, old}, wantNext: old.NotAfter,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := Merge(tc.fresh, tc.current, tc.history, now)
			if !testpki.SameCerts(r.Certs, tc.want) {
				t.Fatalf("bundle %v, want %v", testpki.CommonNames(r.Certs), testpki.CommonNames(tc.want))
			}
			if !r.NextExpiry.Equal(tc.wantNext) {
				t.Errorf("next expiry %v, want %v", r.NextExpiry, tc.wantNext)
			}
			if r.History != history(tc.want...) {
				t.Errorf("history %q, want %q", r.History, history(tc.want...))
			}
			parsed, err := pki.ParseCertificates(r.PEM)
			if err != nil || !testpki.SameCerts(parsed, tc.want) {
				t.Errorf("PEM holds %v (%v)", testpki.CommonNames(parsed), err)
			}
			// Merging again with what was injected changes nothing.
			again := Merge(tc.fresh, r.Certs, r.History, now)
			if string(again.PEM) != string(r.PEM) || again.History != r.History {
				t.Error("merging the result again changes it")
			}
		})
	}
}

func TestMergeBoundsTheBundle(t *testing.T) {
	many := testpki.ManyCAs(t, pki.MaxBundle, testpki.Numbered("ca"))
	fresh := ca(t, "fresh", now.Add(time.Hour))
	r := Merge([]*x509.Certificate{fresh}, many, history(many...), now)
	if len(r.Certs) != pki.MaxBundle || r.Certs[0] != fresh {
		t.Fatalf("bundle of %d starting with %q, want %d starting with the fresh CA", len(r.Certs), r.Certs[0].Subject.CommonName, pki.MaxBundle)
	}
}

func TestCurrent(t *testing.T) {
	a, b := ca(t, "a", now.Add(time.Hour)), ca(t, "b", now.Add(time.Hour))
	got := Current(Encode([]*x509.Certificate{a, b}), []byte("garbage"), nil, Encode([]*x509.Certificate{b, a}), []byte("-----BEGIN CERTIFICATE-----\nnope\n"))
	if !testpki.SameCerts(got, []*x509.Certificate{a, b}) {
		t.Fatalf("Current = %v, want a, b", testpki.CommonNames(got))
	}
}
