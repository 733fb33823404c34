package certinfo

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certinel/certinel/pkg/testpki"
)

// fields parses one certificate section of Describe's output into its
// labelled values.
func fields(t *testing.T, section string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(section, "\n"), "\n")[1:] {
		if !strings.HasPrefix(line, "    ") {
			t.Fatalf("line %q is not indented", line)
		}
		label, value, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			label, value = strings.TrimSuffix(strings.TrimSpace(line), ":"), ""
		}
		if _, dup := out[label]; dup {
			t.Fatalf("label %q appears twice", label)
		}
		out[label] = strings.TrimSpace(value)
	}
	return out
}

// sections splits Describe's output into its certificates.
func sections(t *testing.T, text string) []string {
	t.Helper()
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n\n")
}

func TestDescribe(t *testing.T) {
	notBefore := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	notAfter := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ca := testpki.Issue(t, testpki.Template{CommonName: "Example Root CA", IsCA: true, Key: testpki.Key(t, testpki.ECDSA, 0)}, nil)
	spiffe, _ := url.Parse("spiffe://cluster.local/ns/app/sa/web")

	tests := map[string]struct {
		tmpl   testpki.Template
		issuer *testpki.Cert
		want   map[string]string // expected values; "" means the line is absent
	}{
		"RSA leaf with every kind of SAN": {
			tmpl: testpki.Template{
				CommonName:     "web.example.com",
				DNSNames:       []string{"web.example.com", "*.web.example.com"},
				IPAddresses:    []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("2001:db8::1")},
				EmailAddresses: []string{"ops@example.com"},
				URIs:           []*url.URL{spiffe},
				NotBefore:      notBefore,
				NotAfter:       notAfter,
				Serial:         big.NewInt(0x0102ab),
				Key:            testpki.Key(t, testpki.RSA, 0),
				KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
				ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			},
			issuer: ca,
			want: map[string]string{
				"Subject":             "CN=web.example.com,O=certinel tests",
				"Issuer":              "CN=Example Root CA,O=certinel tests",
				"Serial Number":       "01:02:AB",
				"Not Before":          "2024-01-02T02:04:05Z",
				"Not After":           "2025-01-02T03:04:05Z",
				"Public Key":          "RSA 2048 bit",
				"Signature Algorithm": "ECDSA-SHA256",
				"Subject Alt Names":   "DNS:web.example.com, DNS:*.web.example.com, IP:10.0.0.1, IP:2001:db8::1, email:ops@example.com, URI:spiffe://cluster.local/ns/app/sa/web",
				"CA":                  "false",
				"Key Usage":           "Digital Signature, Key Encipherment",
				"Extended Key Usage":  "TLS Web Server Authentication, TLS Web Client Authentication",
			},
		},
		"ECDSA CA": {
			tmpl: testpki.Template{
				CommonName: "Intermediate", IsCA: true, Key: testpki.Key(t, testpki.ECDSA, 1),
				KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			},
			issuer: ca,
			want: map[string]string{
				"Subject":            "CN=Intermediate,O=certinel tests",
				"Public Key":         "ECDSA P-256",
				"CA":                 "true",
				"Key Usage":          "Digital Signature, Certificate Sign, CRL Sign",
				"Subject Alt Names":  "",
				"Extended Key Usage": "",
			},
		},
		"self-signed Ed25519": {
			tmpl: testpki.Template{
				CommonName: "ed", Key: testpki.Key(t, testpki.Ed25519, 0), DNSNames: []string{"ed.example"},
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny, x509.ExtKeyUsageCodeSigning, x509.ExtKeyUsageEmailProtection,
					x509.ExtKeyUsageTimeStamping, x509.ExtKeyUsageOCSPSigning, x509.ExtKeyUsageIPSECUser},
			},
			want: map[string]string{
				"Subject":             "CN=ed,O=certinel tests",
				"Issuer":              "CN=ed,O=certinel tests",
				"Public Key":          "Ed25519",
				"Signature Algorithm": "Ed25519",
				"Subject Alt Names":   "DNS:ed.example",
				"Extended Key Usage":  "Any, Code Signing, E-mail Protection, Time Stamping, OCSP Signing, unknown (7)",
			},
		},
		"no basic constraints": {
			tmpl: testpki.Template{CommonName: "legacy", Key: testpki.Key(t, testpki.ECDSA, 2), NoBasicConstraints: true,
				KeyUsage: x509.KeyUsageContentCommitment | x509.KeyUsageDataEncipherment | x509.KeyUsageKeyAgreement | x509.KeyUsageEncipherOnly | x509.KeyUsageDecipherOnly},
			issuer: ca,
			want: map[string]string{
				"CA":        "",
				"Key Usage": "Content Commitment, Data Encipherment, Key Agreement, Encipher Only, Decipher Only",
			},
		},
	}
	fingerprint := regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := testpki.Issue(t, tc.tmpl, tc.issuer).Cert
			text := Describe([]*x509.Certificate{c})
			secs := sections(t, text)
			if len(secs) != 1 || !strings.HasPrefix(secs[0], "Certificate 1 of 1\n") {
				t.Fatalf("want one section headed \"Certificate 1 of 1\":\n%s", text)
			}
			got := fields(t, secs[0])
			for label, want := range tc.want {
				v, ok := got[label]
				switch {
				case want == "" && ok:
					t.Errorf("%s: got %q, want no such line", label, v)
				case want != "" && v != want:
					t.Errorf("%s: got %q, want %q", label, v, want)
				}
			}
			for _, label := range []string{"Subject", "Issuer", "Serial Number", "Not Before", "Not After", "Public Key", "Signature Algorithm", "SHA-256 Fingerprint"} {
				if got[label] == "" {
					t.Errorf("missing %s in\n%s", label, text)
				}
			}
			sum := sha256.Sum256(c.Raw)
			wantFP := strings.ToUpper(strings.Join(strings.Split(fmt.Sprintf("% x", sum[:]), " "), ":"))
			if fp := got["SHA-256 Fingerprint"]; fp != wantFP || !fingerprint.MatchString(fp) {
				t.Errorf("fingerprint %q, want %q", fp, wantFP)
			}
			if got["Not Before"] != c.NotBefore.UTC().Format(time.RFC3339) || got["Not After"] != c.NotAfter.UTC().Format(time.RFC3339) {
				t.Errorf("validity %q .. %q is not RFC 3339 UTC", got["Not Before"], got["Not After"])
			}
			if got["Signature Algorithm"] != c.SignatureAlgorithm.String() {
				t.Errorf("signature algorithm %q, want %q", got["Signature Algorithm"], c.SignatureAlgorithm)
			}
		})
	}
}

func TestDescribeNumbersCertificates(t *testing.T) {
	chain := testpki.NewChain(t, "numbered", testpki.Key(t, testpki.ECDSA, 5))
	tests := map[string]struct {
		certs []*x509.Certificate
		want  []string // subjects in order
	}{
		"none":  {nil, nil},
		"one":   {[]*x509.Certificate{chain.Leaf.Cert}, []string{"numbered.example.com"}},
		"three": {chain.Certs(), []string{"numbered.example.com", "numbered Intermediate CA", "numbered Root CA"}},
		"order is kept": {
			[]*x509.Certificate{chain.Root.Cert, chain.Leaf.Cert},
			[]string{"numbered Root CA", "numbered.example.com"},
		},
		"duplicates are described twice": {
			[]*x509.Certificate{chain.Root.Cert, chain.Root.Cert},
			[]string{"numbered Root CA", "numbered Root CA"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			text := Describe(tc.certs)
			secs := sections(t, text)
			var got []string
			for i, s := range secs {
				head := fmt.Sprintf("Certificate %d of %d\n", i+1, len(tc.certs))
				if !strings.HasPrefix(s, head) {
					t.Errorf("section %d does not start with %q", i+1, head)
				}
				got = append(got, strings.TrimPrefix(strings.Split(fields(t, s)["Subject"], ",")[0], "CN="))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("subjects %q, want %q", got, tc.want)
			}
			if len(tc.certs) > 0 && !strings.HasSuffix(text, "\n") {
				t.Error("output does not end with a newline")
			}
			if Describe(tc.certs) != text {
				t.Error("Describe is not deterministic")
			}
		})
	}
}

func TestSANs(t *testing.T) {
	key := testpki.Key(t, testpki.ECDSA, 3)
	u, _ := url.Parse("https://example.com/path?q=1")
	tests := map[string]struct {
		tmpl testpki.Template
		want []string
	}{
		"none": {testpki.Template{CommonName: "x", Key: key}, nil},
		"DNS":  {testpki.Template{Key: key, DNSNames: []string{"a.example", "b.example"}}, []string{"DNS:a.example", "DNS:b.example"}},
		"IPv4 and IPv6": {
			testpki.Template{Key: key, IPAddresses: []net.IP{net.IPv4(192, 0, 2, 1), net.ParseIP("::1")}},
			[]string{"IP:192.0.2.1", "IP:::1"},
		},
		"email": {testpki.Template{Key: key, EmailAddresses: []string{"a@example.com"}}, []string{"email:a@example.com"}},
		"URI":   {testpki.Template{Key: key, URIs: []*url.URL{u}}, []string{"URI:https://example.com/path?q=1"}},
		"all kinds, grouped by kind": {
			testpki.Template{Key: key, URIs: []*url.URL{u}, EmailAddresses: []string{"e@x"}, IPAddresses: []net.IP{net.IPv4(10, 1, 2, 3)}, DNSNames: []string{"d.x"}},
			[]string{"DNS:d.x", "IP:10.1.2.3", "email:e@x", "URI:https://example.com/path?q=1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := testpki.Issue(t, tc.tmpl, nil).Cert
			if got := SANs(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
