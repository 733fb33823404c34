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
	// Pair is tls.crt and tls.key of the certs-from-secret Secret, KeyPEM
	// the key as written there, CAs its ca.crt; unused without CertsFrom.
	Pair   *pki.KeyPair
	KeyPEM []byte
	CAs    []*x509.Certificate
	// DestinationCAs is ca.crt of the destination-ca-from-secret Secret.
	DestinationCAs []*x509.Certificate
}

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
		out[Certificate] = string(bundle.Encode(in.Pair.Chain[:1]))
		out[Key] = strings.TrimSpace(string(in.KeyPEM)) + "\n"
		if in.Spec.InjectCA {
			if cas := bundle.Unique(slices.Concat(in.Pair.Chain[1:], in.CAs)); len(cas) > 0 {
				out[CACertificate] = string(bundle.Encode(cas))
			}
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
