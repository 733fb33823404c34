package main

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// hostilePFX is a PKCS#12 file whose SHA-1 MAC asks for 2^31-1 key
// derivation iterations around an empty authenticated safe; go-pkcs12 would
// run them for minutes before finding that the MAC does not verify:
//
//	SEQUENCE { INTEGER 3,
//	  SEQUENCE { OID data, [0] { OCTET STRING { SEQUENCE {} } } },
//	  SEQUENCE { SEQUENCE { SEQUENCE { OID sha1, NULL }, OCTET STRING (20 zeros) },
//	    OCTET STRING (8 zeros), INTEGER 2147483647 } }
const hostilePFX = "304b020103301106092a864886f70d010701a0040402300030333021300906052b0e03021a05000414" +
	"0000000000000000000000000000000000000000" + "04080000000000000000" + "02047fffffff"

// inspect refuses at once a PKCS#12 file whose MAC asks for 2^31-1
// iterations, and still reads the stores of every profile.
func TestInspectPKCS12Iterations(t *testing.T) {
	type inspectCase struct {
		file string
		code int
		want string
	}
	cases := map[string]inspectCase{}
	f := newPEMFiles(t, "p12")
	for _, profile := range []string{"modern2023", "modern2026", "legacy-rc2", "legacy-des"} {
		dir := t.TempDir()
		runArgs("keystore", "--cert", f.cert, "--key", f.key, "--ca", f.ca, "--format", "pkcs12",
			"--profile", profile, "--out-dir", dir).requireCode(t, 0)
		cases[profile+" keystore"] = inspectCase{file: filepath.Join(dir, "keystore.p12"), want: "PKCS#12 keystore\n"}
		cases[profile+" truststore"] = inspectCase{file: filepath.Join(dir, "truststore.p12"), want: "PKCS#12 truststore with 1 certificate(s)"}
	}
	hostile, err := hex.DecodeString(hostilePFX)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(cases["legacy-des keystore"].file)
	if err != nil {
		t.Fatal(err)
	}
	notPFX := "certinel inspect: %s: PKCS#12: not a PKCS#12 (PFX) structure"
	cases["MAC of 2^31-1"] = inspectCase{testutil.WriteFile(t, "hostile.p12", hostile), 1,
		"certinel inspect: %s: PKCS#12: the MAC asks for 2147483647 key derivation iterations; certinel opens stores with 1 to 1000000"}
	cases["not a PFX"] = inspectCase{testutil.WriteFile(t, "int.p12", []byte{0x30, 0x03, 0x02, 0x01, 0x03}), 1, notPFX}
	cases["truncated"] = inspectCase{testutil.WriteFile(t, "half.p12", good[:len(good)/2]), 1, notPFX}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			r := runArgs("inspect", tc.file).requireCode(t, tc.code)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("inspect took %v", elapsed)
			}
			out := r.stdout
			if tc.code != 0 {
				out = r.stderr
			}
			mustContain(t, "output", out, strings.ReplaceAll(tc.want, "%s", tc.file))
		})
	}
}
