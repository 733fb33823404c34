package main

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/testutil"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	sized := func(name string, size int64) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, size); err != nil { // sparse: nothing is written
			t.Fatal(err)
		}
		return path
	}
	cases := map[string]struct {
		path     string
		wantSize int
		wantErr  string
	}{
		"small file":         {path: testutil.WriteFile(t, "small", []byte("hello")), wantSize: 5},
		"empty file":         {path: sized("empty", 0), wantSize: 0},
		"exactly 8 MiB":      {path: sized("at-limit", maxFileSize), wantSize: maxFileSize},
		"one byte over":      {path: sized("over", maxFileSize+1), wantErr: "over is larger than 8 MiB; "},
		"a 1 TiB disk image": {path: sized("disk.img", 1<<40), wantErr: "disk.img is larger than 8 MiB; "},
		"/dev/zero":          {path: "/dev/zero", wantErr: "/dev/zero is larger than 8 MiB; "},
		"missing":            {path: filepath.Join(dir, "missing"), wantErr: "no such file"},
		"a directory":        {path: dir, wantErr: "is a directory"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			data, err := readFile(tc.path)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if data != nil {
					t.Errorf("on error got %d bytes", len(data))
				}
				return
			}
			if err != nil || len(data) != tc.wantSize {
				t.Fatalf("got %d bytes, %v; want %d", len(data), err, tc.wantSize)
			}
		})
	}
}

func TestReadPasswordFile(t *testing.T) {
	cases := map[string]struct {
		content string
		want    string // "" means refused
	}{
		"plain":                   {"s3cret", "s3cret"},
		"trailing LF":             {"s3cret\n", "s3cret"},
		"trailing CRLF":           {"s3cret\r\n", "s3cret"},
		"only one newline cut":    {"s3cret\n\n", "s3cret\n"},
		"inner spaces kept":       {" s3 cret \n", " s3 cret "},
		"empty":                   {"", ""},
		"newline only":            {"\n", ""},
		"spaces only":             {"   ", ""},
		"white space and CRLF":    {" \t \r\n", ""},
		"several blank lines":     {"\n\n\r\n", ""},
		"non-breaking space only": {"\u00a0", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := testutil.WriteFile(t, "pw", []byte(tc.content))
			got, err := readPasswordFile(path)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), path+": the password is empty or only white space") {
					t.Fatalf("got %q, %v; want it refused", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := readPasswordFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "larger than 8 MiB") {
		t.Fatalf("/dev/zero: %v", err)
	}
}

func TestFlagMessage(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"key pair":      {"tls.crt/tls.key: tls.key does not match", "--cert/--key: tls.key does not match"},
		"chain":         {"tls.crt: no PEM CERTIFICATE block found", "--cert: no PEM CERTIFICATE block found"},
		"ca":            {"ca.crt: the PEM data has 1001 certificates", "--ca: the PEM data has 1001 certificates"},
		"alias":         {annotations.KeystoreAlias + `: invalid value "\x01"`, `--alias: invalid value "\x01"`},
		"format":        {annotations.Keystores + `: unknown format "pem"`, `--format: unknown format "pem"`},
		"profile":       {annotations.PKCS12Profile + `: unknown profile "fast"`, `--profile: unknown profile "fast"`},
		"prefix only":   {"the tls.crt: part is not a prefix", "the tls.crt: part is not a prefix"},
		"one prefix":    {"ca.crt: tls.crt: x", "--ca: tls.crt: x"},
		"nothing to do": {"the keystore password is empty", "the keystore password is empty"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := error(&badinput.Error{Reason: badinput.MalformedPEM, Message: tc.in})
			if got := flagMessage(err); got != tc.want {
				t.Errorf("flagMessage(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := flagMessage(errors.New(tc.in)); got != tc.want {
				t.Errorf("plain error: %q, want %q", got, tc.want)
			}
		})
	}
}

func TestInspectLargeFile(t *testing.T) {
	r := runArgs("inspect", "/dev/zero").requireCode(t, 1)
	mustContain(t, "stderr", r.stderr, "certinel inspect: /dev/zero: /dev/zero is larger than 8 MiB")
	r = runArgs("inspect", "--password-file", "/dev/zero", "/dev/null").requireCode(t, 1)
	mustContain(t, "stderr", r.stderr, "certinel inspect: /dev/zero is larger than 8 MiB")
}

// pkcs12Stores are PKCS#12 files as every go-pkcs12 encoder writes them,
// with iterations counts of its own.
func pkcs12Stores(t *testing.T, iterations int) map[string][]byte {
	t.Helper()
	f := newPEMFiles(t, "p12")
	stores := map[string][]byte{}
	for name, enc := range map[string]*pkcs12.Encoder{
		"Modern2023": pkcs12.Modern2023, "Modern2026": pkcs12.Modern2026,
		"LegacyRC2": pkcs12.LegacyRC2, "LegacyDES": pkcs12.LegacyDES,
	} {
		enc = enc.WithIterations(iterations)
		ks, err := enc.Encode(f.leafKey, f.leaf, nil, "changeit")
		if err != nil {
			t.Fatal(err)
		}
		ts, err := enc.EncodeTrustStore([]*x509.Certificate{f.root}, "changeit")
		if err != nil {
			t.Fatal(err)
		}
		stores[name+" keystore"], stores[name+" truststore"] = ks, ts
	}
	ks, err := pkcs12.Passwordless.Encode(f.leafKey, f.leaf, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	stores["Passwordless keystore"] = ks
	return stores
}

// pkcs12Iterations finds every count go-pkcs12 writes: the MAC (PBMAC1
// included), the encrypted certificates and the shrouded key.
func TestPKCS12Iterations(t *testing.T) {
	const n = 777
	want := map[string][]string{
		"keystore":   {"MAC", "encrypted content 1", "private key of content 2, bag 1,"},
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
			if strings.HasPrefix(name, "Passwordless") {
				wantWhats = nil
			}
			if !slices.Equal(whats, wantWhats) {
				t.Errorf("counts of %v, want %v", whats, wantWhats)
			}
			if err := checkPKCS12Iterations(der); err != nil {
				t.Errorf("a normal store is refused: %v", err)
			}
		})
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
	cases := map[string]struct {
		counts  []iterationCount
		wantErr string
	}{
		"none":                     {counts: nil},
		"Java":                     {counts: count(10000, 10000, 10000)},
		"OpenSSL":                  {counts: count(2048, 2048, 2048)},
		"one at the limit":         {counts: count(maxIterations)},
		"three at the limit":       {counts: count(maxIterations, maxIterations, maxIterations)},
		"one over the limit":       {counts: count(2048, maxIterations+1), wantErr: "the count 2 asks for 1000001 key derivation iterations; certinel opens stores with 1 to 1000000"},
		"2^31-1":                   {counts: count(math.MaxInt32), wantErr: "asks for 2147483647 key derivation iterations"},
		"zero":                     {counts: count(0), wantErr: "asks for 0 key derivation"},
		"negative, to cut the sum": {counts: count(maxIterations, -maxIterations, maxIterations, maxIterations, maxIterations), wantErr: "asks for -1000000"},
		"four at the limit":        {counts: count(maxIterations, maxIterations, maxIterations, maxIterations), wantErr: "more than 3000000 key derivation iterations in all"},
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

// withMACIterations re-encodes a PFX with another MAC iteration count (its
// MAC no longer verifies, which takes all those iterations to find out).
func withMACIterations(t *testing.T, der []byte, n int) []byte {
	t.Helper()
	var p pfx
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) > 0 {
		t.Fatalf("%v, %d bytes left", err, len(rest))
	}
	p.MacData.Iterations = n
	out, err := asn1.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// inspect refuses a PKCS#12 file whose MAC asks for 2^31-1 iterations at
// once (go-pkcs12 would run them for minutes) and still reads real ones.
func TestInspectPKCS12Iterations(t *testing.T) {
	stores := pkcs12Stores(t, 2048)
	good := stores["LegacyDES keystore"]
	if again := withMACIterations(t, good, 2048); !bytes.Equal(again, good) {
		t.Fatal("re-encoding changes the file")
	}
	cases := map[string]struct {
		data []byte
		code int
		want string
	}{
		"keystore":        {data: good, want: `PKCS#12 keystore`},
		"truststore":      {data: stores["Modern2023 truststore"], want: "PKCS#12 truststore with 1 certificate(s)"},
		"PBMAC1 keystore": {data: stores["Modern2026 keystore"], want: `PKCS#12 keystore`},
		"MAC of 2^31-1":   {data: withMACIterations(t, good, math.MaxInt32), code: 1, want: "certinel inspect: %s: PKCS#12: the MAC asks for 2147483647 key derivation iterations; certinel opens stores with 1 to 1000000"},
		"MAC of 1000001":  {data: withMACIterations(t, stores["Modern2023 truststore"], maxIterations+1), code: 1, want: "the MAC asks for 1000001"},
		"not a PFX":       {data: []byte{0x30, 0x03, 0x02, 0x01, 0x03}, code: 1, want: "PKCS#12: not a PKCS#12 (PFX) structure"},
		"truncated":       {data: good[:len(good)/2], code: 1, want: "PKCS#12: not a PKCS#12 (PFX) structure"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := testutil.WriteFile(t, "store.p12", tc.data)
			start := time.Now()
			r := runArgs("inspect", path).requireCode(t, tc.code)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("inspect took %v", elapsed)
			}
			out := r.stdout
			if tc.code != 0 {
				out = r.stderr
			}
			mustContain(t, "output", out, strings.ReplaceAll(tc.want, "%s", path))
		})
	}
}
