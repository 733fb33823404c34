package route

import (
	"crypto/x509"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/pki"
	"github.com/certinel/certinel/pkg/testpki"
)

func TestDesired(t *testing.T) {
	chain := testpki.NewChain(t, "app", testpki.NewKey(t, testpki.ECDSA))
	keyPEM := testpki.KeyPEM(t, chain.Leaf.Key)
	pair, err := pki.ParseKeyPair(testpki.CertsPEM(chain.Leaf.Cert, chain.Intermediate.Cert), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	dest := testpki.ManyCAs(t, 1, testpki.Numbered("backend"))
	in := func(spec annotations.RouteSpec) Inputs {
		return Inputs{Spec: spec, Pair: NewPair(pair, keyPEM, []*x509.Certificate{chain.Root.Cert, chain.Intermediate.Cert}), DestinationCAs: dest}
	}
	certs := annotations.RouteSpec{CertsFrom: "app-tls", InjectCA: true}
	tests := map[string]struct {
		in          Inputs
		cur         Current
		wantFields  []string
		termination string
		reason      string
	}{
		"certs on a Route without tls: edge": {in: in(certs),
			wantFields: []string{CACertificate, Certificate, Key, Termination}, termination: "edge"},
		"certs on a reencrypt Route: its termination stays the user's": {in: in(certs), cur: Current{Termination: "reencrypt"},
			wantFields: []string{CACertificate, Certificate, Key}},
		"termination certinel set before is kept set": {in: in(certs), cur: Current{Termination: "edge", Managed: []string{Termination}},
			wantFields: []string{CACertificate, Certificate, Key, Termination}, termination: "edge"},
		"a termination the user changed since is theirs": {in: in(certs), cur: Current{Termination: "reencrypt", Managed: []string{Termination}},
			wantFields: []string{CACertificate, Certificate, Key}},
		"inject-ca false leaves caCertificate alone": {in: in(annotations.RouteSpec{CertsFrom: "app-tls"}), cur: Current{Termination: "edge"},
			wantFields: []string{Certificate, Key}},
		"destination CA alone keeps the Route's own certificate": {in: in(annotations.RouteSpec{DestinationCAFrom: "backend", InjectCA: true}), cur: Current{Termination: "reencrypt"},
			wantFields: []string{DestinationCACertificate}},
		"destination CA on a Route without tls: reencrypt": {in: in(annotations.RouteSpec{DestinationCAFrom: "backend", InjectCA: true}),
			wantFields: []string{DestinationCACertificate, Termination}, termination: "reencrypt"},
		"destination CA on an edge Route": {in: in(annotations.RouteSpec{DestinationCAFrom: "backend"}), cur: Current{Termination: "edge"}, reason: badinput.InvalidAnnotation},
		"passthrough":                     {in: in(certs), cur: Current{Termination: "passthrough"}, reason: badinput.PassthroughRoute},
		"external certificate":            {in: in(certs), cur: Current{Termination: "edge", ExternalCertificate: true}, reason: badinput.ExternalCertificateRoute},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Desired(tc.in, tc.cur)
			if tc.reason != "" {
				testpki.RequireReason(t, err, tc.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tc.wantFields) {
				t.Fatalf("fields %q, want %q", keys, tc.wantFields)
			}
			if got[Termination] != tc.termination {
				t.Errorf("termination %q, want %q", got[Termination], tc.termination)
			}
			if c, ok := got[Certificate]; ok {
				leaf, _ := pki.ParseCertificates([]byte(c))
				if !testpki.SameCerts(leaf, []*x509.Certificate{chain.Leaf.Cert}) {
					t.Errorf("certificate holds %v, want the leaf alone", testpki.CommonNames(leaf))
				}
				if _, err := pki.ParseKeyPair([]byte(c), []byte(got[Key])); err != nil {
					t.Errorf("certificate and key do not match: %v", err)
				}
			}
			if c, ok := got[CACertificate]; ok {
				cas, _ := pki.ParseCertificates([]byte(c))
				if !testpki.SameCerts(cas, []*x509.Certificate{chain.Intermediate.Cert, chain.Root.Cert}) {
					t.Errorf("caCertificate holds %v, want the intermediate then the root, once each", testpki.CommonNames(cas))
				}
			}
			if c, ok := got[DestinationCACertificate]; ok && !strings.Contains(c, "BEGIN CERTIFICATE") {
				t.Errorf("destinationCACertificate %q", c)
			}
		})
	}
}

// TestUncovered checks the hosts a certificate covers, both from the parsed
// certificate and from a Pair, which keeps only the leaf's names.
func TestUncovered(t *testing.T) {
	key := testpki.NewKey(t, testpki.ECDSA)
	issued := testpki.Issue(t, testpki.Template{CommonName: "app", DNSNames: []string{"app.example.com", "*.apps.example.com"},
		IPAddresses: []net.IP{net.ParseIP("10.0.0.1")}, Key: key}, nil)
	cert := issued.Cert
	kp, err := pki.ParseKeyPair(testpki.CertsPEM(cert), testpki.KeyPEM(t, key))
	if err != nil {
		t.Fatal(err)
	}
	pair := NewPair(kp, testpki.KeyPEM(t, key), nil)
	tests := map[string]struct {
		hosts []string
		want  []string
	}{
		"exact":                             {[]string{"app.example.com"}, nil},
		"wildcard, one label":               {[]string{"shop.apps.example.com"}, nil},
		"wildcard covers no deeper label":   {[]string{"a.shop.apps.example.com"}, []string{"a.shop.apps.example.com"}},
		"wildcard does not cover the apex":  {[]string{"apps.example.com"}, []string{"apps.example.com"}},
		"another host":                      {[]string{"app.example.org", "app.example.com"}, []string{"app.example.org"}},
		"no host (the router assigns one)":  {[]string{""}, nil},
		"case does not matter":              {[]string{"APP.example.com"}, nil},
		"the common name alone is no cover": {[]string{"app"}, []string{"app"}},
		"an IP address SAN":                 {[]string{"10.0.0.1", "10.0.0.2"}, []string{"10.0.0.2"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Uncovered(cert, tc.hosts...); !slices.Equal(got, tc.want) {
				t.Errorf("Uncovered = %q, want %q", got, tc.want)
			}
			if got := pair.Uncovered(tc.hosts...); !slices.Equal(got, tc.want) {
				t.Errorf("Pair.Uncovered = %q, want %q", got, tc.want)
			}
		})
	}
}
