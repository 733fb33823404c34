package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

const (
	annKeystores      = "certinel.io/keystores"
	annPasswordSecret = "certinel.io/keystore-password-secret"
)

// A user annotates a cert-manager Secret and gets stores that keytool,
// openssl and a JSSE TLS handshake accept; nothing is rewritten afterwards,
// not even across a restart; a password change regenerates; removing the
// annotation removes exactly what certinel wrote.
func TestKeystoresFromCertManagerSecret(t *testing.T) {
	ns := namespace(t)
	tls := newTLS(t, framework.PKCS1)
	applyTLSSecret(t, ns, "app-tls", tls, nil)
	kubectl(t, "", "-n", ns, "create", "secret", "generic", "app-keystore-password", "--from-literal=password=s3cr3t-pw")
	// a key somebody else owns must survive everything certinel does
	kubectl(t, "", "-n", ns, "patch", "secret", "app-tls", "-p", `{"stringData":{"user-notes":"keep me"}}`)

	kubectl(t, "", "-n", ns, "annotate", "secret", "app-tls", annKeystores+"=jks,pkcs12", annPasswordSecret+"=app-keystore-password")
	s := waitForKeys(t, ns, "app-tls", "keystore.jks", "truststore.jks", "keystore.p12", "truststore.p12")
	waitForEvent(t, ns, "app-tls", "KeystoresUpdated")
	// each key certinel wrote, with the first 8 bytes of its value's SHA-256
	var want []string
	for _, k := range []string{"keystore.jks", "keystore.p12", "truststore.jks", "truststore.p12"} {
		sum := sha256.Sum256(s.Data[k])
		want = append(want, k+"="+hex.EncodeToString(sum[:8]))
	}
	if got := s.Annotations["certinel.io/managed-keys"]; got != "keystore.jks,keystore.p12,truststore.jks,truststore.p12" {
		t.Errorf("managed-keys = %q", got)
	}
	if got := s.Annotations["certinel.io/managed-digests"]; got != strings.Join(want, ",") {
		t.Errorf("managed-digests = %q, want %q", got, strings.Join(want, ","))
	}
	if fp := s.Annotations["certinel.io/keystores-fingerprint"]; fp == "" || strings.Contains(fp, "s3cr3t") {
		t.Errorf("fingerprint %q: want a non-empty HMAC without the password", fp)
	}

	ksJKS := testutil.WriteFile(t, "keystore.jks", s.Data["keystore.jks"])
	tsJKS := testutil.WriteFile(t, "truststore.jks", s.Data["truststore.jks"])
	ksP12 := testutil.WriteFile(t, "keystore.p12", s.Data["keystore.p12"])
	tsP12 := testutil.WriteFile(t, "truststore.p12", s.Data["truststore.p12"])

	out := runCmd(t, "keytool", "-list", "-v", "-keystore", ksJKS, "-storepass", "s3cr3t-pw")
	mustContain(t, "keytool keystore.jks", out, "Alias name: certificate", "PrivateKeyEntry", "Certificate chain length: 2", "CN=app.example.com")
	out = runCmd(t, "keytool", "-list", "-v", "-keystore", ksP12, "-storetype", "PKCS12", "-storepass", "s3cr3t-pw")
	mustContain(t, "keytool keystore.p12", out, "Alias name: certificate", "PrivateKeyEntry", "Certificate chain length: 2")
	out = runCmd(t, "keytool", "-list", "-keystore", tsJKS, "-storepass", "s3cr3t-pw")
	mustContain(t, "keytool truststore.jks", out, "trustedCertEntry", "Your keystore contains 1 entry")
	out = runCmd(t, "keytool", "-list", "-keystore", tsP12, "-storetype", "PKCS12", "-storepass", "s3cr3t-pw")
	mustContain(t, "keytool truststore.p12", out, "trustedCertEntry", "Your keystore contains 1 entry")
	out = runCmd(t, "openssl", "pkcs12", "-in", ksP12, "-passin", "pass:s3cr3t-pw", "-nodes", "-info")
	mustContain(t, "openssl pkcs12", out, "subject=CN = app.example.com", "AES-256-CBC", "friendlyName: certificate", "BEGIN PRIVATE KEY")
	if _, err := runErr("keytool", "-list", "-keystore", ksJKS, "-storepass", "wrong-password"); err == nil {
		t.Error("keytool opened keystore.jks with a wrong password")
	}

	java := filepath.Join(cluster.Root, "e2e", "testdata", "TLSCheck.java")
	mustContain(t, "JSSE handshake (JKS)", runCmd(t, "java", java, ksJKS, tsJKS, "s3cr3t-pw", "JKS", "certificate"), "HANDSHAKE OK")
	mustContain(t, "JSSE handshake (PKCS12)", runCmd(t, "java", java, ksP12, tsP12, "s3cr3t-pw", "PKCS12", "certificate"), "HANDSHAKE OK")

	t.Run("a reconcile with unchanged inputs writes nothing", func(t *testing.T) {
		writesBefore := metric(t, "certinel_writes_total")
		reconcilesBefore := metric(t, "controller_runtime_reconcile_total", `controller="keystores"`)
		kubectl(t, "", "-n", ns, "annotate", "secret", "app-tls", "example.com/touched=yes")
		rv := getSecret(t, ns, "app-tls").ResourceVersion
		waitIdle(t, reconcilesBefore+1)
		if got := getSecret(t, ns, "app-tls").ResourceVersion; got != rv {
			t.Errorf("resourceVersion changed from %s to %s without an input change", rv, got)
		}
		if got := metric(t, "certinel_writes_total"); got != writesBefore {
			t.Errorf("certinel_writes_total went from %v to %v", writesBefore, got)
		}
	})

	t.Run("a restart writes nothing", func(t *testing.T) {
		rv := getSecret(t, ns, "app-tls").ResourceVersion
		certinel.Stop()
		if err := certinel.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, annotatedSecrets(t))
		if got := getSecret(t, ns, "app-tls").ResourceVersion; got != rv {
			t.Errorf("resourceVersion changed from %s to %s across a restart", rv, got)
		}
		if got := metric(t, "certinel_writes_total"); got != 0 {
			t.Errorf("certinel_writes_total = %v after a restart, want 0", got)
		}
	})

	t.Run("a password change regenerates the stores", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "patch", "secret", "app-keystore-password", "-p", `{"stringData":{"password":"n3w-pw"}}`)
		testutil.Eventually(t, 30*time.Second, func() string {
			s := getSecret(t, ns, "app-tls")
			path := testutil.WriteFile(t, "keystore.jks", s.Data["keystore.jks"])
			if _, err := runErr("keytool", "-list", "-keystore", path, "-storepass", "n3w-pw"); err != nil {
				return "keystore.jks does not open with the new password yet"
			}
			return ""
		})
	})

	t.Run("removing the annotation removes exactly certinel's keys", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "annotate", "secret", "app-tls", annKeystores+"-", annPasswordSecret+"-")
		testutil.Eventually(t, 30*time.Second, func() string {
			s := getSecret(t, ns, "app-tls")
			for _, k := range []string{"keystore.jks", "truststore.jks", "keystore.p12", "truststore.p12"} {
				if _, ok := s.Data[k]; ok {
					return k + " is still there"
				}
			}
			return ""
		})
		s := getSecret(t, ns, "app-tls")
		for _, k := range []string{"tls.crt", "tls.key", "ca.crt", "user-notes"} {
			if _, ok := s.Data[k]; !ok {
				t.Errorf("%s was removed", k)
			}
		}
		for _, a := range []string{"certinel.io/managed-keys", "certinel.io/keystores-fingerprint"} {
			if _, ok := s.Annotations[a]; ok {
				t.Errorf("annotation %s is still there", a)
			}
		}
	})
}

func metric(t *testing.T, name string, matchers ...string) float64 {
	t.Helper()
	v, err := certinel.Metric(name, matchers...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitIdle waits until certinel's keystore controller has finished at least
// minReconciles reconciles since it started and has nothing queued or in
// progress, so a test can then check that nothing was written.
func waitIdle(t *testing.T, minReconciles float64) {
	t.Helper()
	waitControllerIdle(t, "keystores", minReconciles)
}

// waitControllerIdle waits until controller has finished at least
// minReconciles reconciles since certinel started and has nothing queued
// or in progress.
func waitControllerIdle(t *testing.T, controller string, minReconciles float64) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() string { return busy(t, controller, minReconciles) })
}

// busy says why controller is not idle, or "".
func busy(t *testing.T, controller string, minReconciles float64) string {
	done := metric(t, "controller_runtime_reconcile_total", `controller="`+controller+`"`)
	queued := metric(t, "workqueue_depth", `name="`+controller+`"`)
	active := metric(t, "controller_runtime_active_workers", `controller="`+controller+`"`)
	if done < minReconciles || queued > 0 || active > 0 {
		return fmt.Sprintf("controller %s busy: %v of %v reconciles done, %v queued, %v in progress", controller, done, minReconciles, queued, active)
	}
	return ""
}

// annotatedSecrets counts the Secrets in the cluster that ask for keystores
// or cert-info: a restarted certinel reconciles each of them once.
func annotatedSecrets(t *testing.T) float64 {
	t.Helper()
	var list corev1.SecretList
	if err := cluster.Client.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range list.Items {
		_, ks := s.Annotations[annKeystores]
		_, ci := s.Annotations["certinel.io/cert-info"]
		if ks || ci {
			n++
		}
	}
	return float64(n)
}
