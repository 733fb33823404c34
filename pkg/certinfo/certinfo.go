// Package certinfo describes certificates in plain text, in the spirit of
// `openssl x509 -text` without the hex dumps: what a person checks when a
// TLS connection fails.
package certinfo

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// Describe returns a description of each certificate, in order.
func Describe(certs []*x509.Certificate) string {
	var b strings.Builder
	for i, c := range certs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Certificate %d of %d\n", i+1, len(certs))
		writeCert(&b, c)
	}
	return b.String()
}

func writeCert(b *strings.Builder, c *x509.Certificate) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(b, "    %-22s "+format+"\n", append([]any{label + ":"}, args...)...)
	}
	line("Subject", "%s", c.Subject)
	line("Issuer", "%s", c.Issuer)
	line("Serial Number", "%s", formatHex(c.SerialNumber.Bytes()))
	line("Not Before", "%s", c.NotBefore.UTC().Format(time.RFC3339))
	line("Not After", "%s", c.NotAfter.UTC().Format(time.RFC3339))
	line("Public Key", "%s", publicKey(c))
	line("Signature Algorithm", "%s", c.SignatureAlgorithm)
	if sans := SANs(c); len(sans) > 0 {
		line("Subject Alt Names", "%s", strings.Join(sans, ", "))
	}
	if c.BasicConstraintsValid {
		line("CA", "%t", c.IsCA)
	}
	if ku := keyUsage(c.KeyUsage); ku != "" {
		line("Key Usage", "%s", ku)
	}
	if eku := extKeyUsage(c.ExtKeyUsage); eku != "" {
		line("Extended Key Usage", "%s", eku)
	}
	fp := sha256.Sum256(c.Raw)
	line("SHA-256 Fingerprint", "%s", formatHex(fp[:]))
}

// SANs lists the subject alternative names of c.
func SANs(c *x509.Certificate) []string {
	var out []string
	for _, d := range c.DNSNames {
		out = append(out, "DNS:"+d)
	}
	for _, ip := range c.IPAddresses {
		out = append(out, "IP:"+ip.String())
	}
	for _, e := range c.EmailAddresses {
		out = append(out, "email:"+e)
	}
	for _, u := range c.URIs {
		out = append(out, "URI:"+u.String())
	}
	return out
}

func publicKey(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d bit", k.N.BitLen())
	case *ecdsa.PublicKey:
		return fmt.Sprintf("ECDSA %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}

func formatHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

var keyUsages = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "Digital Signature"},
	{x509.KeyUsageContentCommitment, "Content Commitment"},
	{x509.KeyUsageKeyEncipherment, "Key Encipherment"},
	{x509.KeyUsageDataEncipherment, "Data Encipherment"},
	{x509.KeyUsageKeyAgreement, "Key Agreement"},
	{x509.KeyUsageCertSign, "Certificate Sign"},
	{x509.KeyUsageCRLSign, "CRL Sign"},
	{x509.KeyUsageEncipherOnly, "Encipher Only"},
	{x509.KeyUsageDecipherOnly, "Decipher Only"},
}

func keyUsage(ku x509.KeyUsage) string {
	var names []string
	for _, u := range keyUsages {
		if ku&u.bit != 0 {
			names = append(names, u.name)
		}
	}
	return strings.Join(names, ", ")
}

var extKeyUsages = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "Any",
	x509.ExtKeyUsageServerAuth:      "TLS Web Server Authentication",
	x509.ExtKeyUsageClientAuth:      "TLS Web Client Authentication",
	x509.ExtKeyUsageCodeSigning:     "Code Signing",
	x509.ExtKeyUsageEmailProtection: "E-mail Protection",
	x509.ExtKeyUsageTimeStamping:    "Time Stamping",
	x509.ExtKeyUsageOCSPSigning:     "OCSP Signing",
}

func extKeyUsage(ekus []x509.ExtKeyUsage) string {
	var names []string
	for _, e := range ekus {
		if n, ok := extKeyUsages[e]; ok {
			names = append(names, n)
		} else {
			names = append(names, fmt.Sprintf("unknown (%d)", e))
		}
	}
	return strings.Join(names, ", ")
}
