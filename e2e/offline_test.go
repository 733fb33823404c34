package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

// `certinel keystore` writes the same stores as the operator from files,
// for every PKCS#12 profile, and `certinel inspect` reads them back.
func TestOfflineKeystoreAndInspect(t *testing.T) {
	tls := newTLS(t, framework.SEC1)
	cert, key, ca := testutil.WriteFile(t, "tls.crt", tls.Cert), testutil.WriteFile(t, "tls.key", tls.Key), testutil.WriteFile(t, "ca.crt", tls.CA)
	pwFile := testutil.WriteFile(t, "pw", []byte("offline-pw\n")) // one trailing newline is ignored

	cases := map[string]struct {
		format, profile string
		check           func(t *testing.T, ks, ts string)
	}{
		"jks": {"jks", "", func(t *testing.T, ks, ts string) {
			mustContain(t, "keytool", runCmd(t, "keytool", "-list", "-keystore", ks, "-storepass", "offline-pw"), "myalias,", "PrivateKeyEntry")
			mustContain(t, "keytool", runCmd(t, "keytool", "-list", "-keystore", ts, "-storepass", "offline-pw"), "trustedCertEntry")
		}},
		"pkcs12 modern2023": {"pkcs12", "modern2023", func(t *testing.T, ks, ts string) {
			mustContain(t, "keytool", runCmd(t, "keytool", "-list", "-storetype", "PKCS12", "-keystore", ks, "-storepass", "offline-pw"), "myalias,", "PrivateKeyEntry")
			mustContain(t, "openssl", runCmd(t, "openssl", "pkcs12", "-in", ts, "-passin", "pass:offline-pw", "-nokeys"), "subject=CN = app.example.com Root CA")
		}},
		"pkcs12 legacy-rc2": {"pkcs12", "legacy-rc2", func(t *testing.T, ks, ts string) {
			out := runCmd(t, "openssl", "pkcs12", "-legacy", "-in", ks, "-passin", "pass:offline-pw", "-nodes", "-info")
			mustContain(t, "openssl -legacy", out, "pbeWithSHA1And40BitRC2-CBC", "friendlyName: myalias")
			mustContain(t, "keytool", runCmd(t, "keytool", "-list", "-storetype", "PKCS12", "-keystore", ks, "-storepass", "offline-pw"), "myalias,")
		}},
		"pkcs12 legacy-des": {"pkcs12", "legacy-des", func(t *testing.T, ks, ts string) {
			out := runCmd(t, "openssl", "pkcs12", "-legacy", "-in", ks, "-passin", "pass:offline-pw", "-nodes", "-info")
			mustContain(t, "openssl -legacy", out, "pbeWithSHA1And3-KeyTripleDES-CBC", "friendlyName: myalias")
		}},
		// PBMAC1 needs Java 24+ or OpenSSL 3.4+; this machine has Java 17 and
		// OpenSSL 3.0, so the store is checked with certinel inspect, whose
		// decoder verifies the PBMAC1 MAC with the password.
		"pkcs12 modern2026": {"pkcs12", "modern2026", func(t *testing.T, ks, ts string) {
			out := runCmd(t, certinelBin, "inspect", "--password-file", pwFile, ks)
			mustContain(t, "certinel inspect", out, `Alias "myalias": PrivateKeyEntry`, "CN=app.example.com")
			if _, err := runErr(certinelBin, "inspect", ks); err == nil {
				t.Error("certinel inspect opened a modern2026 store with the default password")
			}
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"keystore", "--cert", cert, "--key", key, "--ca", ca, "--format", tc.format,
				"--password-file", pwFile, "--alias", "MyAlias", "--out-dir", dir}
			if tc.profile != "" {
				args = append(args, "--profile", tc.profile)
			}
			runCmd(t, certinelBin, args...)
			ext := map[string]string{"jks": ".jks", "pkcs12": ".p12"}[tc.format]
			tc.check(t, filepath.Join(dir, "keystore"+ext), filepath.Join(dir, "truststore"+ext))
			out := runCmd(t, certinelBin, "inspect", "--password-file", pwFile, filepath.Join(dir, "keystore"+ext))
			mustContain(t, "certinel inspect", out, `"myalias": PrivateKeyEntry`, "DNS:app.example.com", "Not After")
		})
	}

	t.Run("bad input exits non-zero with a clear message", func(t *testing.T) {
		other := newTLS(t, framework.PKCS1)
		for name, args := range map[string][]string{
			"mismatched key": {"--cert", cert, "--key", testutil.WriteFile(t, "other.key", other.Key), "--format", "jks"},
			"unknown format": {"--cert", cert, "--key", key, "--format", "pem"},
			"missing file":   {"--cert", cert + ".missing", "--key", key, "--format", "jks"},
		} {
			cmd := exec.Command(certinelBin, append([]string{"keystore", "--out-dir", t.TempDir()}, args...)...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Errorf("%s: exit 0, want an error:\n%s", name, out)
			}
			if !strings.HasPrefix(string(out), "certinel keystore: ") {
				t.Errorf("%s: message %q does not say what failed", name, out)
			}
		}
	})

	t.Run("inspect reads PEM", func(t *testing.T) {
		out := runCmd(t, certinelBin, "inspect", cert, key)
		mustContain(t, "certinel inspect", out, "Certificate 1 of 2", "CN=app.example.com Intermediate CA", "Private key: *ecdsa.PrivateKey")
	})
}

// The profile annotation reaches the operator's PKCS#12 output.
func TestPKCS12ProfileAnnotation(t *testing.T) {
	ns := namespace(t)
	applyTLSSecret(t, ns, "legacy", newTLS(t, framework.PKCS1), map[string]string{annKeystores: "pkcs12", "certinel.io/pkcs12-profile": "legacy-des"})
	s := waitForKeys(t, ns, "legacy", "keystore.p12")
	out := runCmd(t, "openssl", "pkcs12", "-legacy", "-in", testutil.WriteFile(t, "ks.p12", s.Data["keystore.p12"]), "-passin", "pass:changeit", "-nodes", "-info")
	mustContain(t, "openssl -legacy", out, "pbeWithSHA1And3-KeyTripleDES-CBC", "friendlyName: certificate")
}

// certinel inspect reads JKS stores that Java's keytool wrote, with
// several entries of each kind, as a user's existing stores are.
func TestInspectKeytoolStore(t *testing.T) {
	ks := filepath.Join(t.TempDir(), "java.jks")
	for _, alias := range []string{"rsa-key", "ec-key"} {
		alg := map[string]string{"rsa-key": "RSA", "ec-key": "EC"}[alias]
		runCmd(t, "keytool", "-genkeypair", "-keystore", ks, "-storetype", "JKS", "-storepass", "changeit", "-keypass", "changeit",
			"-alias", alias, "-dname", "CN="+alias, "-keyalg", alg)
	}
	tls := newTLS(t, framework.PKCS8)
	runCmd(t, "keytool", "-importcert", "-noprompt", "-keystore", ks, "-storepass", "changeit", "-alias", "corp-root", "-file", testutil.WriteFile(t, "ca.pem", tls.CA))
	out := runCmd(t, certinelBin, "inspect", ks)
	mustContain(t, "inspect", out, "JKS keystore with 3 entries", `Alias "rsa-key": PrivateKeyEntry`, `Alias "ec-key": PrivateKeyEntry`, `Alias "corp-root": trustedCertEntry`, "CN=rsa-key", "CN=ec-key")
}
