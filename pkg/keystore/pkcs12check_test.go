package keystore

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/testpki"
)

// pkcs12Stores are a keystore and a truststore as every go-pkcs12 encoder
// writes them: the one of each profile, with the password "changeit", and
// Passwordless. iterations is the count of every key derivation; 0 keeps
// each encoder's own. They hold one certificate each, to be small seeds:
// the fuzzer minimizes what it finds in a time that grows as the square of
// its size.
func pkcs12Stores(tb testing.TB, iterations int) map[string][]byte {
	tb.Helper()
	f := fixtureFor(tb, testpki.ECDSA)
	encoders := map[string]*pkcs12.Encoder{"passwordless": pkcs12.Passwordless}
	for _, p := range []annotations.Profile{annotations.Modern2023, annotations.Modern2026, annotations.LegacyRC2, annotations.LegacyDES} {
		enc, err := encoder(p)
		if err != nil {
			tb.Fatal(err)
		}
		encoders[string(p)] = enc
	}
	stores := map[string][]byte{}
	for name, enc := range encoders {
		password := "changeit"
		if enc == pkcs12.Passwordless {
			password = ""
		}
		if iterations > 0 {
			enc = enc.WithIterations(iterations)
		}
		ks, err := enc.Encode(f.kp.Key, f.kp.Leaf(), nil, password)
		if err != nil {
			tb.Fatal(err)
		}
		ts, err := enc.EncodeTrustStore(f.cas()[:1], password)
		if err != nil {
			tb.Fatal(err)
		}
		stores[name+" keystore"], stores[name+" truststore"] = ks, ts
	}
	return stores
}

// withPFX re-encodes a PFX after change (its MAC no longer verifies, which
// takes all the MAC's iterations to find out).
func withPFX(tb testing.TB, der []byte, change func(*pfxPDU)) []byte {
	tb.Helper()
	var p pfxPDU
	if err := unmarshalAll(der, &p); err != nil {
		tb.Fatal(err)
	}
	change(&p)
	out, err := asn1.Marshal(p)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func withMACIterations(tb testing.TB, der []byte, n int) []byte {
	return withPFX(tb, der, func(p *pfxPDU) { p.MacData.Iterations = n })
}

// withAuthSafe replaces the authenticated safe of a PFX with contents, in
// an OCTET STRING as go-pkcs12 wants it when octets is true.
func withAuthSafe(tb testing.TB, der []byte, contents any, octets bool) []byte {
	tb.Helper()
	inner, err := asn1.Marshal(contents)
	if err == nil && octets {
		inner, err = asn1.Marshal(inner)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return withPFX(tb, der, func(p *pfxPDU) { p.AuthSafe = content(oidData, inner) })
}

// content is a ContentInfo of the authenticated safe.
func content(contentType asn1.ObjectIdentifier, explicit []byte) contentInfo {
	return contentInfo{ContentType: contentType, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: explicit}}
}

// p12Marker is an iteration count whose DER, 02 03 01 02 03, stands
// nowhere else in a store: each place of it is one count.
const p12Marker = 0x010203

func markerPlaces(der []byte) []int {
	var at []int
	for i := 0; ; i++ {
		j := bytes.Index(der[i:], []byte{0x02, 0x03, 0x01, 0x02, 0x03})
		if j < 0 {
			return at
		}
		i += j
		at = append(at, i)
	}
}

// patched is der with b written at offset at.
func patched(der []byte, at int, b ...byte) []byte {
	out := slices.Clone(der)
	copy(out[at:], b)
	return out
}

// pkcs12Iterations finds every count go-pkcs12 writes: the MAC (PBMAC1
// included), the encrypted certificates and the shrouded key.
func TestPKCS12Iterations(t *testing.T) {
	const n = 777
	want := map[string][]string{
		"keystore":   {"MAC", "encrypted content 1", "private key (content 2, bag 1)"},
		"truststore": {"MAC", "encrypted content 1"},
	}
	for name, der := range pkcs12Stores(t, n) {
		t.Run(name, func(t *testing.T) {
			counts, err := pkcs12Iterations(der)
			if err != nil {
				t.Fatal(err)
			}
			var whats []string
			for _, c := range counts {
				whats = append(whats, c.what)
				if c.n != n {
					t.Errorf("%s: %d iterations, want %d", c.what, c.n, n)
				}
			}
			wantWhats := want[strings.Fields(name)[1]]
			if strings.HasPrefix(name, "passwordless") {
				wantWhats = nil
			}
			if !slices.Equal(whats, wantWhats) {
				t.Errorf("counts of %v, want %v", whats, wantWhats)
			}
		})
	}
}

// Every count of every store is read where it stands: raised over the cap
// in place, each is refused by its name; made something other than an
// INTEGER, each is refused as malformed, but for the iterations field of
// an RFC 7292 MAC, which is OPTIONAL DEFAULT 1 and which go-pkcs12, with
// the same encoding/asn1 structure, then reads as 1 too.
func TestCheckPKCS12FindsEveryCount(t *testing.T) {
	for name, der := range pkcs12Stores(t, p12Marker) {
		t.Run(name, func(t *testing.T) {
			counts, err := pkcs12Iterations(der)
			if err != nil {
				t.Fatal(err)
			}
			places := markerPlaces(der)
			if len(places) != len(counts) {
				t.Fatalf("%d counts %v, the marker stands at %v", len(counts), counts, places)
			}
			var found []string
			for _, at := range places {
				over := patched(der, at+2, 0x7f, 0xff, 0xff)
				err := CheckPKCS12(over)
				if err == nil || !strings.Contains(err.Error(), " asks for 8388607 key derivation iterations") {
					t.Fatalf("count at %d raised to 8388607: %v", at, err)
				}
				what := strings.TrimPrefix(strings.SplitN(err.Error(), " asks for ", 2)[0], "PKCS#12: the ")
				found = append(found, what)

				notInteger := patched(der, at, asn1.TagOctetString)
				err = CheckPKCS12(notInteger)
				macDefault := what == "MAC" && !strings.HasPrefix(name, "modern2026")
				switch got, _ := pkcs12Iterations(notInteger); {
				case macDefault && (err != nil || got[0] != iterationCount{"MAC", 1}):
					t.Errorf("MAC iterations not an INTEGER: %v, counts %v; want the default, 1", err, got)
				case !macDefault && (err == nil || !strings.Contains(err.Error(), "PKCS#12: "+what+": ")):
					t.Errorf("%s: count not an INTEGER: %v, want an error naming it", what, err)
				}
			}
			var whats []string
			for _, c := range counts {
				whats = append(whats, c.what)
			}
			slices.Sort(found)
			slices.Sort(whats)
			if !slices.Equal(found, whats) {
				t.Errorf("raising each count in turn found %v, want %v", found, whats)
			}
		})
	}
}

func TestCheckPKCS12(t *testing.T) {
	stores := pkcs12Stores(t, 0)
	for name, der := range stores {
		t.Run(name, func(t *testing.T) {
			if err := CheckPKCS12(der); err != nil {
				t.Fatalf("CheckPKCS12 refuses a store go-pkcs12 wrote: %v", err)
			}
		})
	}
	des, truststore := stores["legacy-des keystore"], stores["modern2023 truststore"]
	junk := []byte{0x30, 0x03, 0x02, 0x01}                   // a truncated SEQUENCE
	junkOctets := []byte{0x04, 0x04, 0x30, 0x03, 0x02, 0x01} // ... in an OCTET STRING
	cases := map[string]struct {
		der  []byte
		want string // "" means accepted
	}{
		"empty":                  {nil, "PKCS#12: not a PKCS#12 (PFX) structure"},
		"an INTEGER":             {[]byte{0x02, 0x01, 0x03}, "PKCS#12: not a PKCS#12 (PFX) structure"},
		"JKS":                    {[]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2}, "PKCS#12: not a PKCS#12 (PFX) structure"},
		"half a store":           {des[:len(des)/2], "PKCS#12: not a PKCS#12 (PFX) structure"},
		"MAC of 2^31-1":          {withMACIterations(t, des, math.MaxInt32), "PKCS#12: the MAC asks for 2147483647 key derivation iterations; certinel opens stores with 1 to 1000000"},
		"MAC of 1000001":         {withMACIterations(t, truststore, MaxPKCS12Iterations+1), "the MAC asks for 1000001 key derivation iterations"},
		"MAC of 1000000":         {withMACIterations(t, truststore, MaxPKCS12Iterations), ""},
		"MAC of 0":               {withMACIterations(t, des, 0), "the MAC asks for 0 key derivation iterations"},
		"MAC of -1":              {withMACIterations(t, des, -1), "the MAC asks for -1 key derivation iterations"},
		"MAC without a count":    {withMACIterations(t, des, 1), ""}, // DEFAULT 1: DER leaves it out
		"no MAC":                 {withPFX(t, des, func(p *pfxPDU) { p.MacData = macData{} }), ""},
		"empty safe":             {withAuthSafe(t, des, []contentInfo{}, true), ""},
		"safe of junk":           {withAuthSafe(t, des, asn1.RawValue{FullBytes: junk}, true), "PKCS#12: authenticated safe: asn1: syntax error"},
		"safe not in octets":     {withAuthSafe(t, des, []contentInfo{}, false), "PKCS#12: authenticated safe: asn1: structure error"},
		"contents not in octets": {withAuthSafe(t, des, []contentInfo{content(oidData, junk)}, true), "PKCS#12: content 1: asn1: structure error"},
		"contents of junk":       {withAuthSafe(t, des, []contentInfo{content(oidData, junkOctets)}, true), "PKCS#12: content 1: asn1: syntax error"},
		"encrypted junk":         {withAuthSafe(t, des, []contentInfo{content(oidData, []byte{4, 2, 0x30, 0}), content(oidEncryptedDataContent, junk)}, true), "PKCS#12: content 2: asn1: syntax error"},
		"unknown content type":   {withAuthSafe(t, des, []contentInfo{content(asn1.ObjectIdentifier{1, 2, 3}, junk)}, true), ""}, // go-pkcs12 refuses it
		"signed, not data":       {withPFX(t, des, func(p *pfxPDU) { p.AuthSafe = content(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, junk) }), ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckPKCS12(tc.der)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckPKCS12 = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckPKCS12 = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// Every truncation is refused.
func TestCheckPKCS12Truncated(t *testing.T) {
	for name, der := range pkcs12Stores(t, 0) {
		for n := range len(der) {
			if err := CheckPKCS12(der[:n]); err == nil {
				t.Fatalf("%s cut to %d of %d bytes: no error", name, n, len(der))
			}
		}
	}
}

func TestCheckIterations(t *testing.T) {
	count := func(ns ...int) []iterationCount {
		var out []iterationCount
		for i, n := range ns {
			out = append(out, iterationCount{fmt.Sprintf("count %d", i+1), n})
		}
		return out
	}
	const maxIter = MaxPKCS12Iterations
	cases := map[string]struct {
		counts  []iterationCount
		wantErr string
	}{
		"none":                     {counts: nil},
		"Java":                     {counts: count(10000, 10000, 10000)},
		"OpenSSL":                  {counts: count(2048, 2048, 2048)},
		"one":                      {counts: count(1)},
		"one at the limit":         {counts: count(maxIter)},
		"three at the limit":       {counts: count(maxIter, maxIter, maxIter)},
		"one over the limit":       {counts: count(2048, maxIter+1), wantErr: "PKCS#12: the count 2 asks for 1000001 key derivation iterations; certinel opens stores with 1 to 1000000"},
		"2^31-1":                   {counts: count(math.MaxInt32), wantErr: "asks for 2147483647 key derivation iterations"},
		"2^63-1":                   {counts: count(math.MaxInt64), wantErr: "asks for 9223372036854775807 key derivation iterations"},
		"zero":                     {counts: count(0), wantErr: "asks for 0 key derivation"},
		"negative, to cut the sum": {counts: count(maxIter, -maxIter, maxIter, maxIter, maxIter), wantErr: "asks for -1000000"},
		"four at the limit":        {counts: count(maxIter, maxIter, maxIter, maxIter), wantErr: "PKCS#12: the file asks for more than 3000000 key derivation iterations in all"},
		"many small ones":          {counts: count(slices.Repeat([]int{100000}, 31)...), wantErr: "in all"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := checkIterations(tc.counts)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// CheckPKCS12 never panics, and it refuses exactly what its parser cannot
// read or what asks for a count out of the caps: from the counts the
// parser finds, the property re-derives the caps on its own, so that
// whatever is accepted asks for 1 to MaxPKCS12Iterations iterations a
// count and for at most MaxPKCS12TotalIterations in all, and whatever is
// refused is refused for a reason. (The fuzz body does not run go-pkcs12
// on what is accepted: a key derivation under coverage instrumentation is
// so slow that minimizing a whole store stalls the fuzzer.)
func FuzzCheckPKCS12(f *testing.F) {
	stores := pkcs12Stores(f, 0)
	for _, der := range stores {
		f.Add(der)
		for _, n := range []int{0, 1, 2, len(der) / 2, len(der) - 1} {
			f.Add(der[:n])
		}
	}
	for _, der := range pkcs12Stores(f, p12Marker) {
		for _, at := range markerPlaces(der) {
			f.Add(patched(der, at+2, 0x7f, 0xff, 0xff))
			f.Add(patched(der, at, asn1.TagOctetString))
		}
	}
	f.Add(withMACIterations(f, stores["legacy-des keystore"], math.MaxInt32))
	f.Add(withMACIterations(f, stores["modern2023 truststore"], MaxPKCS12Iterations+1))
	f.Fuzz(func(t *testing.T, der []byte) {
		err := CheckPKCS12(der)
		counts, parseErr := pkcs12Iterations(der)
		if parseErr != nil {
			if err == nil {
				t.Fatalf("accepted, though the parser fails: %v", parseErr)
			}
			return
		}
		within, total := true, 0
		for _, c := range counts {
			if c.n < 1 || c.n > MaxPKCS12Iterations {
				within = false
				break
			}
			total += c.n
		}
		within = within && total <= MaxPKCS12TotalIterations
		if within != (err == nil) {
			t.Fatalf("CheckPKCS12 = %v for the counts %v", err, counts)
		}
	})
}
