package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

// namespace creates a namespace for one test.
func namespace(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ns := "e2e-" + hex.EncodeToString(b)
	kubectl(t, "", "create", "namespace", ns)
	return ns
}

// kubectl runs kubectl as the admin user and fails the test on error.
func kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := cluster.Kubectl(context.Background(), stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// applyTLSSecret applies a cert-manager style kubernetes.io/tls Secret.
func applyTLSSecret(t *testing.T, ns, name string, tls *framework.TLS, annotations map[string]string) {
	t.Helper()
	kubectl(t, tls.SecretYAML(ns, name, annotations), "apply", "-f", "-")
}

func newTLS(t *testing.T, enc framework.KeyEncoding) *framework.TLS {
	t.Helper()
	tls, err := framework.NewTLS("app.example.com", enc, "app.example.com", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	return tls
}

func getSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	var s corev1.Secret
	if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// waitForKeys waits until the Secret has every key and returns it.
func waitForKeys(t *testing.T, ns, name string, keys ...string) *corev1.Secret {
	t.Helper()
	var s *corev1.Secret
	testutil.Eventually(t, 30*time.Second, func() string {
		s = &corev1.Secret{}
		if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
			return err.Error()
		}
		for _, k := range keys {
			if _, ok := s.Data[k]; !ok {
				return "Secret " + name + " has no " + k + yet(s)
			}
		}
		return ""
	})
	return s
}

func yet(s *corev1.Secret) string {
	keys := make([]string, 0, len(s.Data))
	for k := range s.Data {
		keys = append(keys, k)
	}
	return " (has " + strings.Join(keys, ",") + ")"
}

// waitForEvent waits for an Event with reason on the named object and
// returns its message.
func waitForEvent(t *testing.T, ns, name, reason string) string {
	t.Helper()
	var msg string
	testutil.Eventually(t, 30*time.Second, func() string {
		evs, err := eventsOn(ns, name)
		if err != nil {
			return err.Error()
		}
		for _, e := range evs {
			if e.Reason == reason {
				msg = e.Message
				return ""
			}
		}
		return "no Event " + reason + " on " + name
	})
	return msg
}

// eventsOn lists the Events on the object named name in namespace ns.
func eventsOn(ns, name string) ([]corev1.Event, error) {
	var list corev1.EventList
	if err := cluster.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list.Items, func(e corev1.Event) bool { return e.InvolvedObject.Name != name }), nil
}

// runCmd runs a command and returns its combined output, failing on error.
func runCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// mustContain fails unless s contains every want.
func mustContain(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Fatalf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

// runErr runs a command and returns its combined output and error.
func runErr(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
