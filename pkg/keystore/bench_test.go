package keystore

import (
	"crypto/x509"
	"testing"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/pki"
	"github.com/certinel/certinel/pkg/testpki"
)

// BenchmarkBuild measures one Build per format and PKCS#12 profile with
// what cert-manager typically issues: an RSA-2048 key, a leaf, an
// intermediate and a root (all RSA-2048), and a ca.crt plus one extra CA
// in the truststore. JKS has no profile: it runs once, as jks/any.
//
//	go test ./pkg/keystore -run '^$' -bench BenchmarkBuild -benchtime 20x
func BenchmarkBuild(b *testing.B) {
	chain := testpki.NewChainWithKeys(b, "bench",
		testpki.Key(b, testpki.RSA, 10), testpki.Key(b, testpki.RSA, 11), testpki.Key(b, testpki.RSA, 0))
	kp, err := pki.ParseKeyPair(testpki.CertsPEM(chain.Certs()...), testpki.KeyPEM(b, chain.Leaf.Key))
	if err != nil {
		b.Fatal(err)
	}
	extra := testpki.Issue(b, testpki.Template{CommonName: "Bench Extra CA", IsCA: true, Key: testpki.Key(b, testpki.RSA, 12)}, nil)
	req := Request{
		KeyPair:  kp,
		CAs:      []*x509.Certificate{chain.Root.Cert, extra.Cert},
		Password: "changeit",
		Alias:    "tomcat",
	}

	run := func(b *testing.B, f annotations.Format, r Request) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := Build(f, r)
			if err != nil {
				b.Fatal(err)
			}
			if len(out) != 2 {
				b.Fatalf("%d outputs", len(out))
			}
		}
	}
	b.Run("jks/any", func(b *testing.B) { run(b, annotations.JKS, req) })
	for _, p := range annotations.Profiles {
		r := req
		r.Profile = p
		b.Run("pkcs12/"+string(p), func(b *testing.B) { run(b, annotations.PKCS12, r) })
	}
}
