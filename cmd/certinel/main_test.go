package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/spf13/pflag"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/keystore"
	"github.com/certinel/certinel/pkg/testpki"
	"github.com/certinel/certinel/pkg/testutil"
)

func TestRunVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		r := runArgs(arg).requireCode(t, 0)
		if r.stdout != "certinel "+version+"\n" || r.stderr != "" {
			t.Errorf("%s: stdout %q, stderr %q", arg, r.stdout, r.stderr)
		}
	}
}

func TestRunHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		r := runArgs(arg).requireCode(t, 0)
		if r.stdout != usage || r.stderr != "" {
			t.Errorf("%s: stdout %q, stderr %q; want the usage", arg, r.stdout, r.stderr)
		}
	}
	mustContain(t, "usage", usage, "certinel keystore", "certinel inspect", "certinel version")
}

// Arguments that are neither a command nor valid manager flags exit 2
// before any manager starts.
func TestRunUsageErrors(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"unknown command":        {[]string{"frobnicate"}, `certinel: unknown command "frobnicate"`},
		"unknown manager flag":   {[]string{"--no-such-flag"}, "unknown flag: --no-such-flag"},
		"manager with arguments": {[]string{"manager", "extra"}, "unexpected arguments [extra]"},
		"bad manager flag value": {[]string{"manager", "--max-concurrent-reconciles=many"}, "max-concurrent-reconciles"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := runArgs(tc.args...).requireCode(t, 2)
			mustContain(t, "stderr", r.stderr, tc.want)
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
	r := runArgs("frobnicate")
	mustContain(t, "stderr", r.stderr, usage)
	runArgs("manager", "--help").requireCode(t, 0)
}

func TestKeystoreRequiredFlags(t *testing.T) {
	f := newPEMFiles(t, "app")
	all := map[string]string{"--cert": f.cert, "--key": f.key, "--format": "jks", "--out-dir": t.TempDir()}
	for missing := range all {
		t.Run("without "+missing, func(t *testing.T) {
			args := []string{"keystore"}
			for flag, v := range all {
				if flag != missing {
					args = append(args, flag, v)
				}
			}
			r := runArgs(args...).requireCode(t, 2)
			mustContain(t, "stderr", r.stderr, "certinel keystore: --cert, --key, --format and --out-dir are required", "--password-file")
			if entries, _ := os.ReadDir(all["--out-dir"]); len(entries) != 0 {
				t.Errorf("wrote %d files", len(entries))
			}
		})
	}
	runArgs("keystore", "--bogus").requireCode(t, 2)
	runArgs("keystore", "--help").requireCode(t, 0)
}

// Bad input exits 1 with a message that names the command and the flag at
// fault (never an annotation), and writes nothing.
func TestKeystoreBadInput(t *testing.T) {
	f, other := newPEMFiles(t, "app"), newPEMFiles(t, "other")
	cases := map[string]struct {
		args []string
		want string
	}{
		"key does not match":         {[]string{"--key", other.key}, "certinel keystore: --cert/--key: tls.key does not match"},
		"encrypted key":              {[]string{"--key", f.encryptedKey(t)}, "--cert/--key: the private key is encrypted"},
		"key is a certificate":       {[]string{"--key", f.cert}, "certinel keystore: --cert/--key: no PEM private key block"},
		"DSA key":                    {[]string{"--key", testutil.WriteFile(t, "dsa.key", []byte(testpki.DSAKeyPEM))}, "--cert/--key: unsupported private key type DSA; use RSA, ECDSA or Ed25519"},
		"chain of 11":                {[]string{"--cert", f.longChain(t, 11)}, "certinel keystore: --cert/--key: the PEM data has 11 certificates; a tls.crt chain has at most 10"},
		"cert file missing":          {[]string{"--cert", f.cert + ".missing"}, "no such file"},
		"cert is /dev/zero":          {[]string{"--cert", "/dev/zero"}, "certinel keystore: /dev/zero is larger than 8 MiB"},
		"key is /dev/zero":           {[]string{"--key", "/dev/zero"}, "certinel keystore: /dev/zero is larger than 8 MiB"},
		"ca is /dev/zero":            {[]string{"--ca", "/dev/zero"}, "certinel keystore: /dev/zero is larger than 8 MiB"},
		"password file is /dev/zero": {[]string{"--password-file", "/dev/zero"}, "certinel keystore: /dev/zero is larger than 8 MiB"},
		"ca not PEM":                 {[]string{"--ca", testutil.WriteFile(t, "ca.crt", []byte("hello"))}, "certinel keystore: --ca: no PEM CERTIFICATE block"},
		"unknown format":             {[]string{"--format", "pem"}, `certinel keystore: --format: unknown format "pem"`},
		"empty format list":          {[]string{"--format", ","}, "--format: want jks or pkcs12"},
		"unknown profile":            {[]string{"--format", "pkcs12", "--profile", "fast"}, `certinel keystore: --profile: unknown profile "fast"`},
		"bad alias":                  {[]string{"--alias", "\x01"}, `certinel keystore: --alias: invalid value "\x01"`},
		"empty password file":        {[]string{"--password-file", testutil.WriteFile(t, "pw", []byte("\n"))}, "the password is empty"},
		"white space password file":  {[]string{"--password-file", testutil.WriteFile(t, "pw", []byte(" \t \r\n"))}, "the password is empty or only white space"},
		"password file missing":      {[]string{"--password-file", filepath.Join(t.TempDir(), "pw")}, "no such file"},
		"non-ASCII password":         {[]string{"--password-file", testutil.WriteFile(t, "pw", []byte("pässword"))}, "non-ASCII"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"keystore", "--cert", f.cert, "--key", f.key, "--ca", f.ca, "--format", "jks", "--out-dir", out}
			r := runArgs(append(args, tc.args...)...).requireCode(t, 1)
			if !strings.HasPrefix(r.stderr, "certinel keystore: ") {
				t.Errorf("stderr %q does not start with %q", r.stderr, "certinel keystore: ")
			}
			mustContain(t, "stderr", r.stderr, tc.want)
			if strings.Contains(r.stderr, annotations.Prefix) {
				t.Errorf("stderr %q names an annotation", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the output directory was created (%v)", err)
			}
		})
	}
}

// A successful run writes stores that open with the password of
// --password-file, trailing newline left out, or with changeit.
func TestKeystoreWrites(t *testing.T) {
	f := newPEMFiles(t, "app")
	cases := map[string]struct {
		format   string
		pwFile   []byte // nil: no --password-file
		password string
		files    []string
	}{
		"jks, password with a trailing newline": {format: "jks", pwFile: []byte("s3cret\n"), password: "s3cret",
			files: []string{"keystore.jks", "truststore.jks"}},
		"pkcs12, password with CRLF": {format: "pkcs12", pwFile: []byte("s3cret\r\n"), password: "s3cret",
			files: []string{"keystore.p12", "truststore.p12"}},
		"both, default password": {format: "jks,pkcs12", password: "changeit",
			files: []string{"keystore.jks", "keystore.p12", "truststore.jks", "truststore.p12"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "new", "dir")
			args := []string{"keystore", "--cert", f.cert, "--key", f.key, "--ca", f.ca, "--format", tc.format, "--alias", "MyAlias", "--out-dir", dir}
			if tc.pwFile != nil {
				args = append(args, "--password-file", testutil.WriteFile(t, "pw", tc.pwFile))
			}
			r := runArgs(args...).requireCode(t, 0)
			var wantOut string
			for _, name := range tc.files {
				wantOut += "wrote " + filepath.Join(dir, name) + "\n"
			}
			if r.stdout != wantOut || r.stderr != "" {
				t.Fatalf("stdout %q, stderr %q; want %q", r.stdout, r.stderr, wantOut)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
				if info, _ := e.Info(); info.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
				}
			}
			if !slices.Equal(names, tc.files) {
				t.Fatalf("files %v, want %v", names, tc.files)
			}
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			if slices.Contains(tc.files, "keystore.jks") {
				ks := jks.New()
				if err := ks.Load(bytes.NewReader(read("keystore.jks")), []byte(tc.password)); err != nil {
					t.Fatalf("keystore.jks with %q: %v", tc.password, err)
				}
				entry, err := ks.GetPrivateKeyEntry("myalias", []byte(tc.password))
				if err != nil {
					t.Fatalf("keystore.jks entry myalias: %v (aliases %v)", err, ks.Aliases())
				}
				if len(entry.CertificateChain) != 2 || !bytes.Equal(entry.CertificateChain[0].Content, f.leaf.Raw) ||
					!bytes.Equal(entry.CertificateChain[1].Content, f.intermediate.Raw) {
					t.Fatal("keystore.jks chain is not leaf, intermediate")
				}
				ts := jks.New()
				if err := ts.Load(bytes.NewReader(read("truststore.jks")), []byte(tc.password)); err != nil {
					t.Fatalf("truststore.jks: %v", err)
				}
				if got := ts.Aliases(); !slices.Equal(got, []string{keystore.TrustAlias(f.root)}) {
					t.Fatalf("truststore.jks aliases %v", got)
				}
			}
			if slices.Contains(tc.files, "keystore.p12") {
				p12 := read("keystore.p12")
				_, leaf, cas, err := pkcs12.DecodeChain(p12, tc.password)
				if err != nil || !leaf.Equal(f.leaf) || len(cas) != 1 || !cas[0].Equal(f.intermediate) {
					t.Fatalf("keystore.p12 with %q: err %v", tc.password, err)
				}
				if alias := keystore.KeyAlias(p12); alias != "myalias" {
					t.Fatalf("keystore.p12 alias %q, want myalias", alias)
				}
				certs, err := pkcs12.DecodeTrustStore(read("truststore.p12"), tc.password)
				if err != nil || len(certs) != 1 || !certs[0].Equal(f.root) {
					t.Fatalf("truststore.p12: %d certificates, err %v", len(certs), err)
				}
			}
		})
	}
}

// inspect describes PEM files, JKS and PKCS#12 keystores and truststores.
func TestInspect(t *testing.T) {
	f := newPEMFiles(t, "app")
	pw := testutil.WriteFile(t, "pw", []byte("inspect-pw\n"))
	dir := t.TempDir()
	runArgs("keystore", "--cert", f.cert, "--key", f.key, "--ca", f.ca, "--format", "jks,pkcs12",
		"--alias", "MyAlias", "--password-file", pw, "--out-dir", dir).requireCode(t, 0)
	rootAlias := keystore.TrustAlias(f.root)
	leafSubject, intSubject, rootSubject := "CN=app.example.com", "CN=app Intermediate CA", "CN=app Root CA"

	cases := map[string]struct {
		file  string
		wants []string
	}{
		"JKS keystore": {filepath.Join(dir, "keystore.jks"), []string{
			"JKS keystore with 1 entry\n", `Alias "myalias": PrivateKeyEntry`, "Certificate 1 of 2", leafSubject, intSubject, "DNS:app.example.com"}},
		"JKS truststore": {filepath.Join(dir, "truststore.jks"), []string{
			"JKS keystore with 1 entry\n", `Alias "` + rootAlias + `": trustedCertEntry`, rootSubject}},
		"PKCS#12 keystore": {filepath.Join(dir, "keystore.p12"), []string{
			"PKCS#12 keystore", `Alias "myalias": PrivateKeyEntry (*ecdsa.PrivateKey)`, leafSubject, intSubject}},
		"PKCS#12 truststore": {filepath.Join(dir, "truststore.p12"), []string{
			"PKCS#12 truststore with 1 certificate(s)", `certinel names it: "` + rootAlias + `"`, rootSubject}},
		"PEM chain": {f.cert, []string{"PEM file with 2 block(s)", "Certificate 2 of 2", leafSubject, intSubject, "Not After"}},
		"PEM key":   {f.key, []string{"PEM file with 1 block(s)", "Private key: *ecdsa.PrivateKey"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := runArgs("inspect", "--password-file", pw, tc.file).requireCode(t, 0)
			mustContain(t, "inspect", r.stdout, append([]string{"== " + tc.file + "\n"}, tc.wants...)...)
			if r.stderr != "" {
				t.Errorf("stderr %q", r.stderr)
			}
		})
	}

	t.Run("several files", func(t *testing.T) {
		r := runArgs("inspect", f.ca, f.cert).requireCode(t, 0)
		if i, j := strings.Index(r.stdout, "== "+f.ca), strings.Index(r.stdout, "== "+f.cert); i < 0 || j < i {
			t.Fatalf("files not described in order:\n%s", r.stdout)
		}
		mustContain(t, "inspect", r.stdout, rootSubject, leafSubject)
	})

	errCases := map[string]struct {
		args []string
		code int
		want string
	}{
		"JKS, wrong password":     {[]string{filepath.Join(dir, "keystore.jks")}, 1, "wrong password?"},
		"PKCS#12, wrong password": {[]string{filepath.Join(dir, "keystore.p12")}, 1, "use --password-file"},
		"not a store":             {[]string{testutil.WriteFile(t, "junk", []byte("junk"))}, 1, "not PEM, JKS or PKCS#12"},
		// a JKS header declaring 4 billion entries: refused, not decoded into an out-of-memory crash
		"corrupt JKS":           {[]string{testutil.WriteFile(t, "bad.jks", []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0, 0})}, 1, "truncated or corrupt JKS file"},
		"missing file":          {[]string{filepath.Join(dir, "missing")}, 1, "no such file"},
		"no file":               {nil, 2, "name at least one file"},
		"missing password file": {[]string{"--password-file", filepath.Join(dir, "nope"), f.cert}, 1, "no such file"},
	}
	for name, tc := range errCases {
		t.Run(name, func(t *testing.T) {
			r := runArgs(append([]string{"inspect"}, tc.args...)...).requireCode(t, tc.code)
			if !strings.HasPrefix(r.stderr, "certinel inspect: ") {
				t.Errorf("stderr %q does not start with %q", r.stderr, "certinel inspect: ")
			}
			mustContain(t, "stderr", r.stderr, tc.want)
		})
	}
	t.Run("a bad file among good ones", func(t *testing.T) {
		r := runArgs("inspect", testutil.WriteFile(t, "junk", []byte("junk")), f.cert).requireCode(t, 1)
		mustContain(t, "stdout", r.stdout, leafSubject)
	})
}

func TestParseManagerFlags(t *testing.T) {
	f, err := parseManagerFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.kubeconfig != "" || f.namespaces != nil || f.metricsAddr != ":8080" || f.probeAddr != ":8081" ||
		f.leaderElect || f.leaderElectionNamespace != "" || f.qps != 1000 || f.burst != 2000 || f.concurrency != 16 ||
		f.expiryWarning != 30*24*time.Hour || !f.routes || f.compat.Enabled() ||
		f.leaderElectionID != "certinel.io" || f.leaseDuration != 15*time.Second || f.renewDeadline != 10*time.Second || f.retryPeriod != 2*time.Second {
		t.Fatalf("defaults = %+v", f)
	}

	f, err = parseManagerFlags([]string{
		"--namespaces=team-a,team-b", "--namespaces", "team-c", "--metrics-bind-address=0", "--leader-elect",
		"--leader-election-namespace=certinel-system", "--kube-api-qps=50", "--kube-api-burst=75",
		"--max-concurrent-reconciles=8", "--kubeconfig=/tmp/kc", "--zap-log-level=debug", "--expiry-warning=72h", "--routes=false",
		"--compat=cert-utils, reloader",
		"--leader-election-id=certinel-shard-a", "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.namespaces, []string{"team-a", "team-b", "team-c"}) {
		t.Errorf("namespaces = %q", f.namespaces)
	}
	if f.metricsAddr != "0" || !f.leaderElect || f.leaderElectionNamespace != "certinel-system" || f.qps != 50 ||
		f.burst != 75 || f.concurrency != 8 || f.kubeconfig != "/tmp/kc" || f.expiryWarning != 72*time.Hour || f.routes ||
		!f.compat.CertUtils || !f.compat.Reloader ||
		f.leaderElectionID != "certinel-shard-a" || f.leaseDuration != 4*time.Second || f.renewDeadline != 3*time.Second || f.retryPeriod != 500*time.Millisecond {
		t.Errorf("flags = %+v", f)
	}

	for name, args := range map[string][]string{
		"unknown flag":   {"--no-such-flag"},
		"positional":     {"extra"},
		"bad number":     {"--kube-api-qps=fast"},
		"bad zap level":  {"--zap-log-level=loud"},
		"bad expiry":     {"--expiry-warning=soon"},
		"zero expiry":    {"--expiry-warning=0d"},
		"unknown compat": {"--compat=cert-utils,kyverno"},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			if _, err := parseManagerFlags(args, &stderr); err == nil {
				t.Fatalf("%q parsed without error", args)
			}
		})
	}
	if _, err := parseManagerFlags([]string{"--help"}, io.Discard); !errors.Is(err, pflag.ErrHelp) {
		t.Fatalf("--help: %v, want pflag.ErrHelp", err)
	}
}

// Leader election timings that client-go would refuse, or that would let a
// standby take over from a leader that still leads, stop the manager
// before it starts, with a message naming the flags.
func TestParseLeaderElectionFlags(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string // "" when valid
	}{
		"defaults":                       {nil, ""},
		"short, as in the e2e test":      {[]string{"--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms"}, ""},
		"long":                           {[]string{"--leader-elect-lease-duration=60s", "--leader-elect-renew-deadline=40s", "--leader-elect-retry-period=5s"}, ""},
		"renew deadline = lease":         {[]string{"--leader-elect-lease-duration=10s", "--leader-elect-renew-deadline=10s"}, "--leader-elect-renew-deadline (10s) must be below --leader-elect-lease-duration (10s)"},
		"renew deadline above lease":     {[]string{"--leader-elect-renew-deadline=20s"}, "must be below --leader-elect-lease-duration (15s)"},
		"retry period = renew deadline":  {[]string{"--leader-elect-retry-period=10s"}, "--leader-elect-renew-deadline (10s) must be above 1.2 × --leader-elect-retry-period (10s)"},
		"retry period × 1.2 = deadline":  {[]string{"--leader-elect-renew-deadline=6s", "--leader-elect-retry-period=5s"}, "must be above 1.2 × --leader-elect-retry-period (5s)"},
		"retry period zero":              {[]string{"--leader-elect-retry-period=0s"}, "--leader-elect-retry-period must be above 0"},
		"retry period negative":          {[]string{"--leader-elect-retry-period=-1s"}, "--leader-elect-retry-period must be above 0"},
		"lease in fractions of a second": {[]string{"--leader-elect-lease-duration=2500ms", "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period=500ms"}, "--leader-elect-lease-duration must be a whole number of seconds, at least 1s (got 2.5s)"},
		"bad namespace":                  {[]string{"--leader-election-namespace=Not_A_Namespace"}, "--leader-election-namespace \"Not_A_Namespace\" is not a namespace name"},
		"lease below a second":           {[]string{"--leader-elect-lease-duration=500ms", "--leader-elect-renew-deadline=400ms", "--leader-elect-retry-period=100ms"}, "at least 1s"},
		"lease not a duration":           {[]string{"--leader-elect-lease-duration=15"}, "leader-elect-lease-duration"},
		"empty id":                       {[]string{"--leader-election-id="}, `--leader-election-id "" is not a valid Lease name`},
		"id with upper case":             {[]string{"--leader-election-id=Certinel"}, `--leader-election-id "Certinel" is not a valid Lease name`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseManagerFlags(tc.args, io.Discard)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("%q: %v", tc.args, err)
			case tc.want != "" && err == nil:
				t.Fatalf("%q parsed without error", tc.args)
			case tc.want != "":
				mustContain(t, "error", err.Error(), tc.want)
			}
		})
	}
	// the same through the command line: exit 2 before any manager starts
	r := runArgs("manager", "--leader-elect", "--leader-elect-renew-deadline=15s").requireCode(t, 2)
	mustContain(t, "stderr", r.stderr, "certinel: --leader-elect-renew-deadline (15s) must be below --leader-elect-lease-duration (15s)")
}
