package expiry

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/certinel/certinel/pkg/testpki"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func cert(tb testing.TB, nb, na time.Time) *testpki.Cert {
	return testpki.Issue(tb, testpki.Template{CommonName: "x", NotBefore: nb, NotAfter: na, Key: testpki.Key(tb, testpki.ECDSA, 1)}, nil)
}

func TestRead(t *testing.T) {
	leaf := cert(t, t0, t0.Add(90*24*time.Hour))
	other := cert(t, t0.Add(-time.Hour), t0.Add(time.Hour))
	key := testpki.KeyPEM(t, testpki.Key(t, testpki.ECDSA, 2))
	pemOf := func(c *testpki.Cert) []byte { return c.PEM() }
	for name, tc := range map[string]struct {
		data map[string][]byte
		keys []string
		want []Validity
	}{
		"leaf of a chain": {
			data: map[string][]byte{"tls.crt": testpki.Join(pemOf(leaf), pemOf(other))},
			keys: []string{"tls.crt", "ca.crt"},
			want: []Validity{{Key: "tls.crt", NotBefore: t0, NotAfter: t0.Add(90 * 24 * time.Hour)}},
		},
		"key block first is skipped": {
			data: map[string][]byte{"tls.crt": testpki.Join(key, pemOf(other))},
			keys: []string{"tls.crt"},
			want: []Validity{{Key: "tls.crt", NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(time.Hour)}},
		},
		"two keys in order, duplicate key once": {
			data: map[string][]byte{"tls.crt": pemOf(leaf), "ca.crt": pemOf(other)},
			keys: []string{"ca.crt", "tls.crt", "ca.crt"},
			want: []Validity{
				{Key: "ca.crt", NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(time.Hour)},
				{Key: "tls.crt", NotBefore: t0, NotAfter: t0.Add(90 * 24 * time.Hour)},
			},
		},
		"not PEM":             {data: map[string][]byte{"tls.crt": []byte("hello")}, keys: []string{"tls.crt"}, want: []Validity{{Key: "tls.crt", Unreadable: true}}},
		"empty":               {data: map[string][]byte{"tls.crt": nil}, keys: []string{"tls.crt"}, want: []Validity{{Key: "tls.crt", Unreadable: true}}},
		"only a private key":  {data: map[string][]byte{"tls.crt": key}, keys: []string{"tls.crt"}, want: []Validity{{Key: "tls.crt", Unreadable: true}}},
		"truncated PEM":       {data: map[string][]byte{"tls.crt": pemOf(leaf)[:200]}, keys: []string{"tls.crt"}, want: []Validity{{Key: "tls.crt", Unreadable: true}}},
		"certificate garbage": {data: map[string][]byte{"tls.crt": []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}, keys: []string{"tls.crt"}, want: []Validity{{Key: "tls.crt", Unreadable: true}}},
		"beyond the scan limit": {
			data: map[string][]byte{"tls.crt": append(bytes.Repeat([]byte("x"), maxPEMScan), pemOf(leaf)...)},
			keys: []string{"tls.crt"}, want: []Validity{{Key: "tls.crt", Unreadable: true}},
		},
		"absent keys": {data: map[string][]byte{"other": pemOf(leaf)}, keys: []string{"tls.crt"}},
	} {
		t.Run(name, func(t *testing.T) {
			got := Read(tc.data, tc.keys...)
			if len(got) != len(tc.want) {
				t.Fatalf("Read = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.Key != w.Key || g.Unreadable != w.Unreadable || !g.NotBefore.Equal(w.NotBefore) || !g.NotAfter.Equal(w.NotAfter) {
					t.Errorf("Read[%d] = %+v, want %+v", i, g, w)
				}
			}
			back, err := Decode(Encode(got))
			if err != nil || len(back) != len(got) {
				t.Fatalf("Decode(Encode) = %+v, %v", back, err)
			}
			for i := range back {
				if back[i] != got[i] {
					t.Errorf("round trip [%d] = %+v, want %+v", i, back[i], got[i])
				}
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, s := range []string{"tls.crt", "=1:2", "tls.crt=1", "tls.crt=a:b", "tls.crt=1:2,", "tls.crt=1:x"} {
		if _, err := Decode(s); err == nil {
			t.Errorf("Decode(%q) accepted", s)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "tls.crt=!", "tls.crt=1:2,ca.crt=!", "a=-1:99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := Decode(s)
		if err != nil {
			return
		}
		again, err := Decode(Encode(vs))
		if err != nil || len(again) != len(vs) {
			t.Fatalf("Encode(Decode(%q)) does not decode back: %v", s, err)
		}
	})
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vs := Read(map[string][]byte{"tls.crt": data}, "tls.crt")
		if len(vs) != 1 || (vs[0].Unreadable && !vs[0].NotAfter.IsZero()) {
			t.Fatalf("Read = %+v", vs)
		}
		if strings.Contains(Encode(vs), ",") {
			t.Fatalf("one key encoded with a separator: %q", Encode(vs))
		}
	})
}

// TestValidityOfAgreesWithX509 compares the validity-only reader with Go's
// full parse: every key type, both time forms (UTCTime before 2050,
// GeneralizedTime from 2050), and a certificate cut short.
func TestValidityOfAgreesWithX509(t *testing.T) {
	spans := map[string][2]time.Time{
		"UTCTime":                  {t0, t0.Add(90 * 24 * time.Hour)},
		"GeneralizedTime notAfter": {t0, time.Date(2051, 3, 4, 5, 6, 7, 0, time.UTC)},
		"before 2000":              {time.Date(1999, 1, 2, 3, 4, 5, 0, time.UTC), t0},
	}
	for _, kt := range testpki.KeyTypes {
		for name, span := range spans {
			t.Run(string(kt)+" "+name, func(t *testing.T) {
				c := testpki.Issue(t, testpki.Template{CommonName: "x", NotBefore: span[0], NotAfter: span[1], Key: testpki.Key(t, kt, 1)}, nil)
				nb, na, err := validityOf(c.Cert.Raw)
				if err != nil {
					t.Fatalf("validityOf: %v", err)
				}
				if !nb.Equal(c.Cert.NotBefore) || !na.Equal(c.Cert.NotAfter) {
					t.Errorf("validityOf = %s, %s; x509 = %s, %s", nb, na, c.Cert.NotBefore, c.Cert.NotAfter)
				}
				for _, cut := range []int{1, len(c.Cert.Raw) / 2, len(c.Cert.Raw) - 1} {
					if _, _, err := validityOf(c.Cert.Raw[:cut]); err == nil {
						t.Errorf("validityOf of the first %d of %d bytes gave no error", cut, len(c.Cert.Raw))
					}
				}
				if _, _, err := validityOf(append(bytes.Clone(c.Cert.Raw), 0)); err == nil {
					t.Error("validityOf with a trailing byte gave no error")
				}
			})
		}
	}
}

// TestValidityOfIsAsLenientAsX509 holds validityOf to certificates x509
// accepts though they are not strict DER certificates: bytes after notAfter
// inside the validity.
func TestValidityOfIsAsLenientAsX509(t *testing.T) {
	c := cert(t, t0, t0.Add(time.Hour))
	der := withValidityTail(t, c.Cert.Raw, []byte{0x05, 0x00}) // a NULL
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("test broken: x509 rejects the certificate: %v", err)
	}
	nb, na, err := validityOf(der)
	if err != nil {
		t.Fatalf("validityOf: %v", err)
	}
	if !nb.Equal(parsed.NotBefore) || !na.Equal(parsed.NotAfter) {
		t.Errorf("validityOf = %s, %s; x509 = %s, %s", nb, na, parsed.NotBefore, parsed.NotAfter)
	}
}

// withValidityTail re-encodes a certificate with tail appended inside its
// validity (its signature no longer verifies; parsing does not check it).
func withValidityTail(t *testing.T, der, tail []byte) []byte {
	t.Helper()
	input := cryptobyte.String(der)
	var cert, tbs, version, serial, sig, issuer, validity cryptobyte.String
	var hasVersion bool
	versionTag := cbasn1.Tag(0).Constructed().ContextSpecific()
	if !input.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.ReadOptionalASN1(&version, &hasVersion, versionTag) ||
		!tbs.ReadASN1Element(&serial, cbasn1.INTEGER) || !tbs.ReadASN1Element(&sig, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !tbs.ReadASN1(&validity, cbasn1.SEQUENCE) {
		t.Fatal("test broken: cannot take the certificate apart")
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if hasVersion {
				b.AddASN1(versionTag, func(b *cryptobyte.Builder) { b.AddBytes(version) })
			}
			b.AddBytes(serial)
			b.AddBytes(sig)
			b.AddBytes(issuer)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(validity)
				b.AddBytes(tail)
			})
			b.AddBytes(tbs) // subject onwards
		})
		b.AddBytes(cert) // signatureAlgorithm and signatureValue
	})
	out, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzValidityOf checks that whatever Go's x509 parses, the validity-only
// reader reads with the same dates.
func FuzzValidityOf(f *testing.F) {
	f.Add(cert(f, t0, t0.Add(time.Hour)).Cert.Raw)
	f.Add(cert(f, t0, time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC)).Cert.Raw)
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		nb, na, err := validityOf(der)
		c, xerr := x509.ParseCertificate(der)
		if xerr != nil {
			return
		}
		if err != nil {
			t.Fatalf("x509 parses it, validityOf: %v", err)
		}
		if !nb.Equal(c.NotBefore) || !na.Equal(c.NotAfter) {
			t.Fatalf("validityOf = %s, %s; x509 = %s, %s", nb, na, c.NotBefore, c.NotAfter)
		}
	})
}
