package keystore

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/testpki"
)

// jksFiles are a keystore and a truststore as certinel writes them.
func jksFiles(t testing.TB) map[string][]byte {
	f := fixtureFor(t, testpki.ECDSA)
	out, err := Build(annotations.JKS, Request{KeyPair: f.kp, CAs: f.cas(), Password: "changeit", Alias: "a"})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func TestCheckJKS(t *testing.T) {
	for name, data := range jksFiles(t) {
		t.Run(name, func(t *testing.T) {
			if err := CheckJKS(data); err != nil {
				t.Fatalf("CheckJKS refuses a store certinel wrote: %v", err)
			}
		})
	}
	header := append(append(be32(0xfeedfeed), be32(2)...), be32(1)...)
	trusted := func(certLen uint32) []byte {
		b := append(slices.Clone(header), be32(jksTrustedCertTag)...)
		b = append(b, 0, 1, 'a')          // alias "a"
		b = append(b, make([]byte, 8)...) // creation time
		b = append(b, 0, 5)               // type "X.509"
		b = append(b, "X.509"...)
		return append(b, be32(certLen)...)
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":                   {nil, "not a JKS file"},
		"not JKS":                 {[]byte("-----BEGIN CERTIFICATE-----"), "bad magic"},
		"unknown version":         {append(be32(0xfeedfeed), be32(7)...), "unknown JKS version 7"},
		"4 GiB certificate":       {append(trusted(0xffffffff), "tiny"...), "runs past the end"},
		"4 billion entries":       {append(append(be32(0xfeedfeed), be32(2)...), be32(0xffffffff)...), "past the end"},
		"unknown tag":             {append(append(slices.Clone(header), be32(9)...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "unknown tag 9"},
		"4 billion chain entries": {privateKeyWithChain(header, 0xffffffff), "past the end"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckJKS(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckJKS = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func privateKeyWithChain(header []byte, certs uint32) []byte {
	b := append(slices.Clone(header), be32(jksPrivateKeyTag)...)
	b = append(b, 0, 1, 'k')
	b = append(b, make([]byte, 8)...)
	b = append(b, be32(3)...)
	b = append(b, 1, 2, 3) // "encrypted key"
	return append(b, be32(certs)...)
}

// Every truncation is refused; trailing bytes are not.
func TestCheckJKSTruncated(t *testing.T) {
	for name, data := range jksFiles(t) {
		for n := range len(data) {
			if err := CheckJKS(data[:n]); err == nil {
				t.Fatalf("%s cut to %d of %d bytes: no error", name, n, len(data))
			}
		}
		// keytool reads a store with bytes after its digest (a newline
		// added by an editor, say), so certinel does too
		if err := CheckJKS(append(slices.Clone(data), '\n')); err != nil {
			t.Fatalf("%s with a trailing newline: %v", name, err)
		}
	}
}

// Whatever passes CheckJKS decodes without allocating more than the file
// declares, so keystore-go's Load may then run on it.
func FuzzCheckJKS(f *testing.F) {
	for _, data := range jksFiles(f) {
		f.Add(data)
	}
	f.Add(append(append(be32(0xfeedfeed), be32(2)...), be32(0xffffffff)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if CheckJKS(data) != nil {
			return
		}
		ks := jks.New()
		_ = ks.Load(bytes.NewReader(data), []byte("changeit")) // an error is fine; a panic or OOM is not
	})
}
