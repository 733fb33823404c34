package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

// deploymentYAML is a Deployment whose pods read what podSpec says.
func deploymentYAML(ns, name string, ann map[string]string, podSpec string) string {
	annotations := ""
	for k, v := range ann {
		annotations += fmt.Sprintf("    %q: %q\n", k, v)
	}
	if annotations != "" {
		annotations = "  annotations:\n" + annotations
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
%sspec:
  replicas: 1
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
%s`, name, ns, annotations, name, name, podSpec)
}

const mountsAppTLS = `      containers: [{name: app, image: registry.example/app:1, volumeMounts: [{name: tls, mountPath: /tls}]}]
      volumes: [{name: tls, secret: {secretName: app-tls}}]
`

// replicaSets counts the ReplicaSets of Deployment name: one per rollout.
func replicaSets(t *testing.T, ns, name string) int {
	t.Helper()
	var list appsv1.ReplicaSetList
	if err := cluster.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rs := range list.Items {
		for _, o := range rs.OwnerReferences {
			if o.Kind == "Deployment" && o.Name == name {
				n++
			}
		}
	}
	return n
}

// waitReplicaSets waits for n ReplicaSets, then checks that no more come
// for a while: a second rollout would show up within that time.
func waitReplicaSets(t *testing.T, ns, name string, n int) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() string {
		if got := replicaSets(t, ns, name); got != n {
			return fmt.Sprintf("%d ReplicaSets, want %d", got, n)
		}
		return ""
	})
	time.Sleep(3 * time.Second)
	if got := replicaSets(t, ns, name); got != n {
		t.Fatalf("%d ReplicaSets after settling, want %d", got, n)
	}
}

func getDeployment(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func waitBaseline(t *testing.T, ns, name string) string {
	t.Helper()
	var h string
	testutil.Eventually(t, 30*time.Second, func() string {
		h = getDeployment(t, ns, name).Annotations["certinel.io/config-hash"]
		if h == "" {
			return "no baseline recorded"
		}
		return ""
	})
	return h
}

// A renewal of a mounted Secret that has keystores gives exactly one
// rollout, once the keystores match the new certificate; opting in and
// restarting certinel roll nothing.
func TestReloadKeystoreRenewal(t *testing.T) {
	ns := namespace(t)
	applyTLSSecret(t, ns, "app-tls", newTLS(t, framework.SEC1), map[string]string{annKeystores: "jks"})
	waitForKeys(t, ns, "app-tls", "keystore.jks")
	kubectl(t, deploymentYAML(ns, "web", nil, mountsAppTLS), "apply", "-f", "-")
	waitReplicaSets(t, ns, "web", 1)

	kubectl(t, "", "-n", ns, "annotate", "deployment", "web", "certinel.io/reload-secrets=app-tls")
	baseline := waitBaseline(t, ns, "web")
	waitReplicaSets(t, ns, "web", 1) // opting in rolls nothing

	renewed := newTLS(t, framework.PKCS1)
	applyTLSSecret(t, ns, "app-tls", renewed, map[string]string{annKeystores: "jks"})
	waitReplicaSets(t, ns, "web", 2)
	d := getDeployment(t, ns, "web")
	if h := d.Spec.Template.Annotations["certinel.io/config-hash"]; h == "" || h == baseline || h != d.Annotations["certinel.io/config-hash"] {
		t.Errorf("pod template hash %q, baseline %q (was %q)", h, d.Annotations["certinel.io/config-hash"], baseline)
	}
	mustContain(t, "Event", waitForEvent(t, ns, "web", "RolloutTriggered"), "secret:app-tls")

	t.Run("a restart rolls nothing", func(t *testing.T) {
		certinel.Stop()
		if err := certinel.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitReplicaSets(t, ns, "web", 2)
	})
	t.Run("a change while certinel is stopped rolls once when it is back", func(t *testing.T) {
		certinel.Stop()
		applyTLSSecret(t, ns, "app-tls", newTLS(t, framework.SEC1), map[string]string{annKeystores: "jks"})
		if err := certinel.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitReplicaSets(t, ns, "web", 3)
	})
	t.Run("a metadata-only change rolls nothing", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "label", "secret", "app-tls", "touched=yes")
		waitReplicaSets(t, ns, "web", 3)
	})
}

// Two referenced Secrets changed together give one rollout; auto mode
// finds env, envFrom and projected references; a name/key reference
// ignores the other keys; an object with reload-ignore rolls nothing.
func TestReloadReferences(t *testing.T) {
	ns := namespace(t)
	for _, s := range []string{"db", "api", "projected"} {
		kubectl(t, "", "-n", ns, "create", "secret", "generic", s, "--from-literal=password=one", "--from-literal=other=one")
	}
	kubectl(t, "", "-n", ns, "create", "configmap", "settings", "--from-literal=level=info", "--from-literal=unused=a")
	kubectl(t, "", "-n", ns, "create", "configmap", "noisy", "--from-literal=x=1")
	kubectl(t, "", "-n", ns, "annotate", "configmap", "noisy", "certinel.io/reload-ignore=true")
	auto := `      containers:
      - name: app
        image: registry.example/app:1
        env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}]
        envFrom: [{secretRef: {name: api}}, {configMapRef: {name: noisy}}]
        volumeMounts: [{name: p, mountPath: /p}]
      volumes: [{name: p, projected: {sources: [{secret: {name: projected}}]}}]
`
	kubectl(t, deploymentYAML(ns, "auto", map[string]string{"certinel.io/reload": "auto"}, auto), "apply", "-f", "-")
	kubectl(t, deploymentYAML(ns, "keyed", map[string]string{"certinel.io/reload-configmaps": "settings/level"},
		"      containers: [{name: app, image: registry.example/app:1}]\n"), "apply", "-f", "-")
	waitBaseline(t, ns, "auto")
	waitBaseline(t, ns, "keyed")
	waitReplicaSets(t, ns, "auto", 1)
	waitReplicaSets(t, ns, "keyed", 1)

	t.Run("two Secrets changed together give one rollout", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "patch", "secret", "db", "-p", `{"stringData":{"password":"two"}}`)
		kubectl(t, "", "-n", ns, "patch", "secret", "api", "-p", `{"stringData":{"password":"two"}}`)
		waitReplicaSets(t, ns, "auto", 2)
	})
	t.Run("a projected Secret rolls", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "patch", "secret", "projected", "-p", `{"stringData":{"password":"two"}}`)
		waitReplicaSets(t, ns, "auto", 3)
	})
	t.Run("a key the pods do not read rolls nothing", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "patch", "secret", "db", "-p", `{"stringData":{"other":"two"}}`)
		kubectl(t, "", "-n", ns, "patch", "configmap", "settings", "-p", `{"data":{"unused":"b"}}`)
		waitReplicaSets(t, ns, "auto", 3)
		waitReplicaSets(t, ns, "keyed", 1)
		kubectl(t, "", "-n", ns, "patch", "configmap", "settings", "-p", `{"data":{"level":"debug"}}`)
		waitReplicaSets(t, ns, "keyed", 2)
	})
	t.Run("reload-ignore", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "patch", "configmap", "noisy", "-p", `{"data":{"x":"2"}}`)
		waitReplicaSets(t, ns, "auto", 3)
		// adding or removing the annotation is a metadata-only change
		kubectl(t, "", "-n", ns, "annotate", "configmap", "noisy", "certinel.io/reload-ignore-")
		waitReplicaSets(t, ns, "auto", 3)
		kubectl(t, "", "-n", ns, "annotate", "configmap", "noisy", "certinel.io/reload-ignore=true")
		waitReplicaSets(t, ns, "auto", 3)
	})
}

// StatefulSets and DaemonSets roll too: a new ControllerRevision each.
func TestReloadStatefulSetAndDaemonSet(t *testing.T) {
	ns := namespace(t)
	kubectl(t, "", "-n", ns, "create", "configmap", "settings", "--from-literal=level=info")
	for _, kind := range []string{"StatefulSet", "DaemonSet"} {
		extra := ""
		if kind == "StatefulSet" {
			extra = "  serviceName: web\n  replicas: 1\n"
		}
		kubectl(t, fmt.Sprintf(`apiVersion: apps/v1
kind: %s
metadata: {name: web, namespace: %s, annotations: {certinel.io/reload-configmaps: settings}}
spec:
%s  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: registry.example/app:1}]}
`, kind, ns, extra), "apply", "-f", "-")
	}
	revisions := func(kind string) int {
		var list appsv1.ControllerRevisionList
		if err := cluster.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range list.Items {
			for _, o := range r.OwnerReferences {
				if o.Kind == kind {
					n++
				}
			}
		}
		return n
	}
	for _, kind := range []string{"StatefulSet", "DaemonSet"} {
		testutil.Eventually(t, 30*time.Second, func() string {
			if n := revisions(kind); n != 1 {
				return fmt.Sprintf("%s: %d revisions, want 1", kind, n)
			}
			return ""
		})
	}
	time.Sleep(2 * time.Second) // the baselines are recorded
	kubectl(t, "", "-n", ns, "patch", "configmap", "settings", "-p", `{"data":{"level":"debug"}}`)
	for _, kind := range []string{"StatefulSet", "DaemonSet"} {
		testutil.Eventually(t, 30*time.Second, func() string {
			if n := revisions(kind); n != 2 {
				return fmt.Sprintf("%s: %d revisions, want 2", kind, n)
			}
			return ""
		})
	}
}

// A Helm-style upgrade changes a ConfigMap and its Deployment's pod
// template together: the Deployment's own rollout already reads the new
// data, and certinel rolls nothing more.
func TestReloadHelmUpgrade(t *testing.T) {
	ns := namespace(t)
	release := func(version string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: %s}
data: {version: %q}
---
`, ns, version) + deploymentYAML(ns, "web", map[string]string{"certinel.io/reload-configmaps": "settings"},
			fmt.Sprintf("      containers: [{name: app, image: registry.example/app:%s, envFrom: [{configMapRef: {name: settings}}]}]\n", version))
	}
	kubectl(t, release("1"), "apply", "-f", "-")
	waitBaseline(t, ns, "web")
	waitReplicaSets(t, ns, "web", 1)
	kubectl(t, release("2"), "apply", "-f", "-")
	waitReplicaSets(t, ns, "web", 2) // the upgrade's own rollout, and no second one
}

// A Secret that writes its keystores into a target Secret: its renewal
// rolls once, when the target holds the new keystores; a Secret whose
// keystores certinel refuses (a key of the user's in the way) holds
// nothing.
func TestReloadKeystoresTargetAndConflict(t *testing.T) {
	ns := namespace(t)
	applyTLSSecret(t, ns, "app-tls", newTLS(t, framework.SEC1), map[string]string{annKeystores: "jks", "certinel.io/keystores-target": "app-ks"})
	waitForKeys(t, ns, "app-ks", "keystore.jks")
	kubectl(t, deploymentYAML(ns, "web", map[string]string{"certinel.io/reload-secrets": "app-tls"}, mountsAppTLS), "apply", "-f", "-")
	waitBaseline(t, ns, "web")
	waitReplicaSets(t, ns, "web", 1)
	applyTLSSecret(t, ns, "app-tls", newTLS(t, framework.SEC1), map[string]string{annKeystores: "jks", "certinel.io/keystores-target": "app-ks"})
	waitReplicaSets(t, ns, "web", 2)

	applyTLSSecret(t, ns, "mine", newTLS(t, framework.SEC1), nil)
	kubectl(t, "", "-n", ns, "patch", "secret", "mine", "-p", `{"stringData":{"keystore.jks":"user data"}}`)
	kubectl(t, "", "-n", ns, "annotate", "secret", "mine", annKeystores+"=jks")
	waitForEvent(t, ns, "mine", "DataKeyConflict")
	kubectl(t, "", "-n", ns, "create", "configmap", "settings", "--from-literal=level=info")
	kubectl(t, deploymentYAML(ns, "other", map[string]string{"certinel.io/reload-secrets": "mine", "certinel.io/reload-configmaps": "settings"},
		"      containers: [{name: app, image: registry.example/app:1}]\n"), "apply", "-f", "-")
	waitBaseline(t, ns, "other")
	waitReplicaSets(t, ns, "other", 1)
	kubectl(t, "", "-n", ns, "patch", "configmap", "settings", "-p", `{"data":{"level":"debug"}}`)
	waitReplicaSets(t, ns, "other", 2)
}
