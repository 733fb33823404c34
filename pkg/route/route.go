// Package route computes the TLS fields certinel sets on an OpenShift Route
// from TLS Secrets, and which hosts a certificate covers. It has no client.
package route

import (
	"crypto/x509"
	"slices"
	"strings"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/bundle"
	"github.com/certinel/certinel/pkg/pki"
)

// Field names of spec.tls, as recorded in certinel.io/managed-fields.
const (
	Termination              = "termination"
	Certificate              = "certificate"
	Key                      = "key"
	CACertificate            = "caCertificate"
	DestinationCACertificate = "destinationCACertificate"
)

// Current is what the Route holds now.
type Current struct {
	// Termination is spec.tls.termination, "" without spec.tls.
	Termination string
	// ExternalCertificate is true when spec.tls.externalCertificate is set.
	ExternalCertificate bool
	// Managed are the spec.tls fields certinel set before (managed-fields).
	Managed []string
}

// Inputs are the parsed Secrets the annotations name.
type Inputs struct {
	Spec annotations.RouteSpec
	// Pair is what the certs-from-secret Secret gives; unused without
	// CertsFrom.
	Pair *Pair
	// DestinationCAs is ca.crt of the destination-ca-from-secret Secret.
	DestinationCAs []*x509.Certificate
}

// Pair is what a Route takes from a TLS Secret, in the form it is written
// on the Route. It keeps no parsed certificate but the leaf's names: a
// thousand Routes hold a thousand of these as long as their Secrets stay
// the same.
type Pair struct {
	// Certificate is the certificate of the key (spec.tls.certificate).
	Certificate string
	// Key is tls.key (spec.tls.key).
	Key string
	// CACertificate is the rest of tls.crt's chain and ca.crt, each
	// certificate once (spec.tls.caCertificate with inject-ca); "" when
	// there are none.
	CACertificate string
	// names holds the leaf's subject alternative names only.
	names *x509.Certificate
}

// NewPair is the Pair of a parsed tls.crt and tls.key, with keyPEM the key
// as written and cas the Secret's ca.crt.
func NewPair(kp *pki.KeyPair, keyPEM []byte, cas []*x509.Certificate) *Pair {
	leaf := kp.Leaf()
	p := &Pair{
		Certificate: string(bundle.Encode(kp.Chain[:1])),
		Key:         strings.TrimSpace(string(keyPEM)) + "\n",
		names:       &x509.Certificate{DNSNames: slices.Clone(leaf.DNSNames), IPAddresses: slices.Clone(leaf.IPAddresses)},
	}
	if issuers := bundle.Unique(slices.Concat(kp.Chain[1:], cas)); len(issuers) > 0 {
		p.CACertificate = string(bundle.Encode(issuers))
	}
	return p
}

// Uncovered returns the hosts that the pair's certificate does not cover.
func (p *Pair) Uncovered(hosts ...string) []string { return Uncovered(p.names, hosts...) }

// Desired returns the spec.tls fields certinel sets, by name. It sets
// termination to edge only when the Route has no termination or certinel
// set it before, so a user's termination stays theirs.
func Desired(in Inputs, cur Current) (map[string]string, error) {
	switch {
	case cur.Termination == "passthrough":
		return nil, badinput.Errorf(badinput.PassthroughRoute,
			"the Route uses passthrough termination: the router does not terminate TLS, so it takes no certificate; remove the certinel annotations or change the termination")
	case cur.ExternalCertificate:
		return nil, badinput.Errorf(badinput.ExternalCertificateRoute,
			"the Route takes its certificate from spec.tls.externalCertificate; remove that or the certinel annotations")
	}
	out := map[string]string{}
	termination, want := cur.Termination, "edge"
	if in.Spec.DestinationCAFrom != "" {
		want = "reencrypt" // a destination CA is only for re-encryption
	}
	// certinel sets the termination of a Route that has none, and keeps it
	// while it is what certinel set; a termination somebody changed since
	// is theirs.
	if termination == "" || (slices.Contains(cur.Managed, Termination) && termination == want) {
		termination = want
		out[Termination] = want
	}
	if in.Spec.CertsFrom != "" {
		out[Certificate] = in.Pair.Certificate
		out[Key] = in.Pair.Key
		if in.Spec.InjectCA && in.Pair.CACertificate != "" {
			out[CACertificate] = in.Pair.CACertificate
		}
	}
	if in.Spec.DestinationCAFrom != "" {
		if termination == "edge" {
			return nil, badinput.Errorf(badinput.InvalidAnnotation,
				"%s needs a reencrypt Route; this one uses edge termination, where the router does not connect to the destination with TLS", annotations.DestinationCAFromSecret)
		}
		out[DestinationCACertificate] = string(bundle.Encode(in.DestinationCAs))
	}
	return out, nil
}

// Uncovered returns the hosts that cert does not cover (SANs, with
// wildcards matching one label, as TLS clients check them).
func Uncovered(cert *x509.Certificate, hosts ...string) []string {
	var out []string
	for _, h := range hosts {
		if h != "" && cert.VerifyHostname(h) != nil {
			out = append(out, h)
		}
	}
	return out
}
