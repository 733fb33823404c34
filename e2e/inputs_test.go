package e2e

import (
	"testing"
	"time"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

// cert-manager writes RSA keys as PKCS#1 and ECDSA keys as SEC1; other
// issuers write PKCS#8. Every form becomes a keystore keytool opens.
func TestKeyEncodings(t *testing.T) {
	ns := namespace(t)
	for _, enc := range []framework.KeyEncoding{framework.PKCS1, framework.SEC1, framework.PKCS8} {
		t.Run(string(enc), func(t *testing.T) {
			name := "tls-" + string(enc)
			applyTLSSecret(t, ns, name, newTLS(t, enc), map[string]string{annKeystores: "jks"})
			s := waitForKeys(t, ns, name, "keystore.jks", "truststore.jks")
			out := runCmd(t, "keytool", "-list", "-keystore", testutil.WriteFile(t, "ks.jks", s.Data["keystore.jks"]), "-storepass", "changeit")
			mustContain(t, "keytool", out, "certificate,", "PrivateKeyEntry")
		})
	}
}

// Bad input gets a Warning Event with a specific reason and leaves the
// Secret as it was; fixing the input makes certinel write.
func TestBadInputLeavesSecretUnchanged(t *testing.T) {
	ns := namespace(t)
	good, other := newTLS(t, framework.PKCS1), newTLS(t, framework.SEC1)
	mismatched := &framework.TLS{Cert: good.Cert, Key: other.Key, CA: good.CA}
	encrypted := &framework.TLS{Cert: good.Cert, CA: good.CA, Key: []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n")}
	truncated := &framework.TLS{Cert: good.Cert[:len(good.Cert)/3], Key: good.Key, CA: good.CA}

	cases := map[string]struct {
		tls         *framework.TLS
		annotations map[string]string
		reason      string
	}{
		"mismatched key and certificate": {mismatched, map[string]string{annKeystores: "jks"}, "KeyCertificateMismatch"},
		"encrypted key":                  {encrypted, map[string]string{annKeystores: "jks"}, "EncryptedPrivateKey"},
		"truncated certificate":          {truncated, map[string]string{annKeystores: "pkcs12"}, "MalformedPEM"},
		"unknown format":                 {good, map[string]string{annKeystores: "jks,pem"}, "UnknownKeystoreFormat"},
		"unknown profile":                {good, map[string]string{annKeystores: "pkcs12", "certinel.io/pkcs12-profile": "modern2030"}, "UnknownPKCS12Profile"},
		"missing password Secret":        {good, map[string]string{annKeystores: "jks", annPasswordSecret: "nope"}, "MissingPasswordSecret"},
	}
	i := 0
	for name, tc := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			secret := "bad-" + string(rune('a'+i))
			applyTLSSecret(t, ns, secret, tc.tls, tc.annotations)
			msg := waitForEvent(t, ns, secret, tc.reason)
			if msg == "" {
				t.Errorf("Event %s has no message", tc.reason)
			}
			s := getSecret(t, ns, secret)
			for _, k := range []string{"keystore.jks", "keystore.p12", "truststore.jks", "truststore.p12"} {
				if _, ok := s.Data[k]; ok {
					t.Errorf("%s written despite %s", k, tc.reason)
				}
			}
			if len(s.Data) != 3 {
				t.Errorf("Secret has %d data keys, want the 3 it was created with%s", len(s.Data), yet(s))
			}
		})
	}

	t.Run("creating the missing password Secret fixes it", func(t *testing.T) {
		applyTLSSecret(t, ns, "late-password", good, map[string]string{annKeystores: "jks", annPasswordSecret: "late-pw/pass"})
		waitForEvent(t, ns, "late-password", "MissingPasswordSecret")
		kubectl(t, "", "-n", ns, "create", "secret", "generic", "late-pw", "--from-literal=pass=later-pw")
		s := waitForKeys(t, ns, "late-password", "keystore.jks")
		runCmd(t, "keytool", "-list", "-keystore", testutil.WriteFile(t, "ks.jks", s.Data["keystore.jks"]), "-storepass", "later-pw")
	})

	t.Run("a user's keystore.jks is never overwritten", func(t *testing.T) {
		applyTLSSecret(t, ns, "user-keystore", good, nil)
		kubectl(t, "", "-n", ns, "patch", "secret", "user-keystore", "-p", `{"stringData":{"keystore.jks":"mine"}}`)
		kubectl(t, "", "-n", ns, "annotate", "secret", "user-keystore", annKeystores+"=jks")
		waitForEvent(t, ns, "user-keystore", "DataKeyConflict")
		time.Sleep(time.Second)
		if got := string(getSecret(t, ns, "user-keystore").Data["keystore.jks"]); got != "mine" {
			t.Errorf("keystore.jks = %q, want the user's %q", got, "mine")
		}
	})
}
