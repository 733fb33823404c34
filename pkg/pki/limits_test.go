package pki

import (
	"bytes"
	"crypto/x509"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/testpki"
)

func TestCertificateLimits(t *testing.T) {
	if MaxChain != 10 || MaxBundle != 1000 {
		t.Fatalf("MaxChain %d, MaxBundle %d: the contract says 10 and 1000", MaxChain, MaxBundle)
	}
	chainKey, chain := caPath(t, MaxChain, distinctNames) // 11 certificates
	bundleCerts := bundleOf(t, MaxBundle+1)
	garbage := func(n int) []byte { return bytes.Repeat(garbageBlock("CERTIFICATE"), n) }
	keyBlocks := bytes.Repeat(testpki.KeyPEM(t, chainKey), 5)

	tests := map[string]struct {
		parse      func([]byte) ([]*x509.Certificate, error)
		data       []byte
		want       []*x509.Certificate
		wantReason string
		wantInMsg  []string
	}{
		"chain of 10":                  {parse: ParseChain, data: testpki.CertsPEM(chain[:10]...), want: chain[:10]},
		"chain of 10 and 5 key blocks": {parse: ParseChain, data: testpki.Join(keyBlocks, testpki.CertsPEM(chain[:10]...)), want: chain[:10]},
		"chain of 11": {parse: ParseChain, data: testpki.CertsPEM(chain...), wantReason: badinput.ChainTooLong,
			wantInMsg: []string{"has 11 certificates", "at most 10", "put CAs in ca.crt"}},
		"11 garbage blocks in a chain": {parse: ParseChain, data: garbage(11), wantReason: badinput.ChainTooLong},
		"a chain of 11 is a bundle":    {parse: ParseCertificates, data: testpki.CertsPEM(chain...), want: chain},
		"bundle of 1000":               {parse: ParseCertificates, data: testpki.CertsPEM(bundleCerts[:1000]...), want: bundleCerts[:1000]},
		"bundle of 1001": {parse: ParseCertificates, data: testpki.CertsPEM(bundleCerts...), wantReason: badinput.BundleTooLarge,
			wantInMsg: []string{"has 1001 certificates", "at most 1000 per bundle"}},
		// Counted before any X.509 parsing: the blocks are not even certificates.
		"1001 garbage blocks in a bundle": {parse: ParseCertificates, data: garbage(1001), wantReason: badinput.BundleTooLarge},
		"1000 garbage blocks in a bundle": {parse: ParseCertificates, data: garbage(1000), wantReason: badinput.MalformedPEM},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := tc.parse(tc.data)
			if tc.wantReason != "" {
				e := testpki.RequireReason(t, err, tc.wantReason)
				for _, w := range tc.wantInMsg {
					if !strings.Contains(e.Message, w) {
						t.Errorf("message %q does not contain %q", e.Message, w)
					}
				}
				if got != nil {
					t.Errorf("on error got %d certificates", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !testpki.SameCerts(got, tc.want) {
				t.Errorf("got %d certificates, want %d in order", len(got), len(tc.want))
			}
		})
	}
}

// ParseKeyPair reads tls.crt as a chain: 10 certificates in any order
// come out leaf first, 11 are refused.
func TestParseKeyPairChainLimit(t *testing.T) {
	key, chain := caPath(t, MaxChain, distinctNames)
	tests := map[string]struct {
		certs      []*x509.Certificate
		want       []*x509.Certificate
		wantReason string
	}{
		"10 in order": {certs: chain[:10], want: chain[:10]},
		"10 reversed": {certs: reversed(chain[:10]), want: chain[:10]},
		"11 in order": {certs: chain, wantReason: badinput.ChainTooLong},
		"11 reversed": {certs: reversed(chain), wantReason: badinput.ChainTooLong},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			kp, err := ParseKeyPair(testpki.CertsPEM(tc.certs...), testpki.KeyPEM(t, key))
			if tc.wantReason != "" {
				testpki.RequireReason(t, err, tc.wantReason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !testpki.SameCerts(kp.Chain, tc.want) {
				t.Errorf("chain %v, want %v", testpki.CommonNames(kp.Chain), testpki.CommonNames(tc.want))
			}
		})
	}
}

// TestOrderChainLong walks long paths, whatever the input order: the
// walk looks issuers up by subject, so its cost grows with the length.
func TestOrderChainLong(t *testing.T) {
	_, distinct := caPath(t, 300, distinctNames)
	_, alternating := caPath(t, 40, alternatingNames)
	others := bundleOf(t, 3)
	tests := map[string]struct {
		path   []*x509.Certificate // leaf first
		input  func(path []*x509.Certificate) []*x509.Certificate
		others []*x509.Certificate // not on the path, in input order
	}{
		"distinct subjects, in order":        {path: distinct, input: slices.Clone[[]*x509.Certificate]},
		"distinct subjects, reversed":        {path: distinct, input: reversed},
		"distinct subjects, interleaved":     {path: distinct, input: interleave(others), others: others},
		"two alternating subjects, reversed": {path: alternating, input: reversed},
		"two alternating subjects, interleaved": {path: alternating, input: func(p []*x509.Certificate) []*x509.Certificate {
			return interleave(others)(reversed(p))
		}, others: others},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := tc.input(tc.path)
			leaf := slices.Index(in, tc.path[0])
			got := orderChain(in, leaf)
			want := append(slices.Clone(tc.path), tc.others...)
			if !testpki.SameCerts(got, want) {
				t.Fatalf("got %v\nwant %v", testpki.CommonNames(got), testpki.CommonNames(want))
			}
		})
	}
}

// A tls.crt of a leaf and 1200 CAs of two alternating subjects, listed in
// reverse, is refused before any certificate is parsed or a signature
// checked.
func TestParseKeyPairHostileChainIsCheap(t *testing.T) {
	key, path := caPath(t, 1200, alternatingNames)
	certPEM, keyPEM := testpki.CertsPEM(reversed(path)...), testpki.KeyPEM(t, key)
	start := time.Now()
	_, err := ParseKeyPair(certPEM, keyPEM)
	elapsed := time.Since(start)
	testpki.RequireReason(t, err, badinput.ChainTooLong)
	t.Logf("refused a %d-byte tls.crt of 1201 certificates in %v", len(certPEM), elapsed)
	if elapsed > time.Second {
		t.Errorf("refusing took %v", elapsed)
	}
}

func BenchmarkParseKeyPairHostileChain(b *testing.B) {
	key, path := caPath(b, 1200, alternatingNames)
	certPEM, keyPEM := testpki.CertsPEM(reversed(path)...), testpki.KeyPEM(b, key)
	for b.Loop() {
		if _, err := ParseKeyPair(certPEM, keyPEM); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkOrderChain(b *testing.B) {
	for _, n := range []int{MaxChain, 100, 1000} {
		_, path := caPath(b, n-1, distinctNames)
		in := reversed(path)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				orderChain(in, len(in)-1)
			}
		})
	}
}

// interleave puts others after the first, second... certificates of path.
func interleave(others []*x509.Certificate) func([]*x509.Certificate) []*x509.Certificate {
	return func(path []*x509.Certificate) []*x509.Certificate {
		var out []*x509.Certificate
		for i, c := range path {
			out = append(out, c)
			if i < len(others) {
				out = append(out, others[i])
			}
		}
		return out
	}
}
