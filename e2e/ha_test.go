package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

// The e2e leader election timings: short, so that a takeover takes seconds.
// In production the defaults are 15s, 10s and 2s.
const (
	haLeaseDuration = 4 * time.Second
	haRenewDeadline = 3 * time.Second
	haRetryPeriod   = 500 * time.Millisecond
	acquiredLease   = "Successfully acquired lease" // client-go's log line
)

// Two certinel processes elect a leader; the leader is SIGKILLed while a
// renewal of a Secret with keystores, read by a Deployment with
// reload-secrets, is in flight. The standby takes over within the lease
// duration and finishes the work: the keystores match the new certificate,
// they were written exactly once, and the Deployment rolled exactly once.
// The standby is live and ready, and does not reconcile (nor count) until
// it leads.
func TestHAFailover(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	// the Lease lives in the test's namespace, under the Role of config/rbac
	role := strings.ReplaceAll(readRepoFile(t, "config/rbac/leader_election_role.yaml"), "namespace: certinel-system", "namespace: "+ns)
	kubectl(t, role, "apply", "-f", "-")
	kubectl(t, "", "-n", ns, "create", "rolebinding", "certinel-e2e-leader", "--role=certinel-leader-election", "--user="+certinelUserName)

	// one writer at a time: the suite's certinel pauses during this test
	certinel.Stop()
	t.Cleanup(func() { // after the processes of this test have stopped
		if err := certinel.Start(ctx); err != nil {
			t.Error(err)
		}
	})
	starts, top := 0, t
	start := func(t *testing.T) *framework.Certinel {
		t.Helper()
		starts++
		c, err := framework.StartCertinel(ctx, certinelBin, certinel.Kubeconfig, filepath.Join(cluster.Dir, fmt.Sprintf("certinel-ha-%s-%d.log", ns, starts)),
			"--namespaces="+ns, "--leader-elect", "--leader-election-namespace="+ns,
			"--leader-elect-lease-duration="+haLeaseDuration.String(), "--leader-elect-renew-deadline="+haRenewDeadline.String(),
			"--leader-elect-retry-period="+haRetryPeriod.String())
		if err != nil {
			t.Fatal(err)
		}
		top.Cleanup(c.Stop) // it outlives the subtest that started it
		return c
	}
	leader, standby := electedLeader(t, start(t), start(t))

	tls := newTLS(t, framework.SEC1)
	ann := map[string]string{annKeystores: "jks,pkcs12"}
	applyTLSSecret(t, ns, "app-tls", tls, ann)
	waitKeystoresOf(t, ns, "app-tls", tls)
	kubectl(t, deploymentYAML(ns, "web", map[string]string{"certinel.io/reload-secrets": "app-tls"}, mountsAppTLS), "apply", "-f", "-")
	waitBaseline(t, ns, "web")
	waitReplicaSets(t, ns, "web", 1)

	scenarios := []struct {
		name string
		// kill waits for the moment to kill the leader after the renewal
		kill func(t *testing.T, secret, deployment *objectWatch)
	}{
		// as soon as the API server has the new certificate: the leader
		// is at most just starting its keystore write
		{"kill as the renewal is applied", func(*testing.T, *objectWatch, *objectWatch) {}},
		// the keystores are written; the rollout waits for --reload-window
		{"kill right after the keystore write", func(t *testing.T, secret, _ *objectWatch) {
			secret.waitFor(t, func(o client.Object) bool {
				return !bytes.Equal(o.(*corev1.Secret).Data["keystore.jks"], secret.first.(*corev1.Secret).Data["keystore.jks"])
			})
		}},
		// all done but the ReplicaSet: the new leader must not roll again
		{"kill right after the rollout", func(t *testing.T, _, deployment *objectWatch) {
			deployment.waitFor(t, func(o client.Object) bool {
				return templateHash(o) != templateHash(deployment.first)
			})
		}},
	}
	for i, sc := range scenarios {
		ok := t.Run(sc.name, func(t *testing.T) {
			checkStandby(t, standby)
			if l, s := metricOf(t, leader, "leader_election_master_status"), metricOf(t, standby, "leader_election_master_status"); l != 1 || s != 0 {
				t.Errorf("leader_election_master_status: %v on the leader, %v on the standby; want 1 and 0", l, s)
			}
			before := getSecret(t, ns, "app-tls")
			rsBefore := replicaSets(t, ns, "web")
			oldHolder := leaseHolder(t, ns)
			secretWatch := watchObject(t, before)
			deployWatch := watchObject(t, getDeployment(t, ns, "web"))

			renewed := newTLS(t, []framework.KeyEncoding{framework.PKCS1, framework.PKCS8, framework.SEC1}[i%3])
			patch := client.MergeFrom(before.DeepCopy())
			before.Data["tls.crt"], before.Data["tls.key"], before.Data["ca.crt"] = renewed.Cert, renewed.Key, renewed.CA
			if err := cluster.Client.Patch(ctx, before, patch); err != nil {
				t.Fatal(err)
			}
			sc.kill(t, secretWatch, deployWatch)
			killed := time.Now()
			leader.Kill()
			// the standby did nothing while it was standby: no write, no
			// reconcile, so its metrics count nothing twice
			if n := metricOf(t, standby, "certinel_writes_total"); n != 0 {
				t.Errorf("the standby wrote %v times before it led", n)
			}
			if n := metricOf(t, standby, "controller_runtime_reconcile_total"); n != 0 {
				t.Errorf("the standby reconciled %v times before it led", n)
			}

			lease := waitLeaseTakenOver(t, ns, oldHolder)
			took := lease.Spec.AcquireTime.Sub(killed)
			waitAcquired(t, standby)
			waitKeystoresOf(t, ns, "app-tls", renewed)
			waitReplicaSets(t, ns, "web", rsBefore+1)

			secrets, deployments := secretWatch.stop(t), deployWatch.stop(t)
			written, rolledAt := secretWatch.lastChange(func(o client.Object) string { return string(o.(*corev1.Secret).Data["keystore.jks"]) }),
				deployWatch.lastChange(templateHash)
			for _, key := range []string{"keystore.jks", "keystore.p12", "truststore.jks", "truststore.p12"} {
				if n := changes(secrets, func(o client.Object) string { return string(o.(*corev1.Secret).Data[key]) }); n != 1 {
					t.Errorf("%s was written %d times for one renewal, want once", key, n)
				}
			}
			if n := changes(secrets, func(o client.Object) string { return o.GetAnnotations()["certinel.io/keystores-fingerprint"] }); n != 1 {
				t.Errorf("the keystores fingerprint changed %d times, want once", n)
			}
			if n := changes(deployments, templateHash); n != 1 {
				t.Errorf("the pod template's config hash changed %d times, want once", n)
			}
			if h := getDeployment(t, ns, "web"); h.Spec.Template.Annotations["certinel.io/config-hash"] != h.Annotations["certinel.io/config-hash"] {
				t.Errorf("pod template hash %q, baseline %q", h.Spec.Template.Annotations["certinel.io/config-hash"], h.Annotations["certinel.io/config-hash"])
			}

			// who did what: the new leader's counts tell which part of the
			// work the killed leader had done
			wrote := metricOf(t, standby, "certinel_writes_total", `controller="keystores"`)
			rolled := metricOf(t, standby, "certinel_rollouts_total", `result="rolled"`)
			if wrote > 1 || rolled > 1 {
				t.Errorf("the new leader wrote the keystores %v times and rolled %v times", wrote, rolled)
			}
			var landed string
			switch {
			case wrote == 1 && rolled == 1:
				landed = "before the keystore write"
			case wrote == 0 && rolled == 1:
				landed = "between the keystore write and the rollout"
			case wrote == 0 && rolled == 0:
				landed = "after the rollout"
			default:
				t.Errorf("the new leader wrote the keystores %v times and rolled %v times: the killed one rolled before the keystores matched", wrote, rolled)
			}
			// The standby takes over once the Lease has gone unrenewed for
			// the lease duration, as it saw it (it polls every 1 to 2.2 retry
			// periods), so at most lease + 4.4 × retry period after the kill,
			// and at least lease after the leader's last renewal.
			t.Logf("kill landed %s; takeover %v after SIGKILL (lease %v, retry period %v: at most %v); keystores written %v and rollout %v relative to SIGKILL",
				landed, took.Round(time.Millisecond), haLeaseDuration, haRetryPeriod,
				haLeaseDuration+2*time.Duration(2.2*float64(haRetryPeriod)), written.Sub(killed).Round(time.Millisecond), rolledAt.Sub(killed).Round(time.Millisecond))
			if l := metricOf(t, standby, "leader_election_master_status"); l != 1 {
				t.Errorf("leader_election_master_status of the new leader: %v, want 1", l)
			}
			if lease.Spec.LeaseTransitions == nil || *lease.Spec.LeaseTransitions < 1 {
				t.Errorf("leader transitions %v, want at least 1", lease.Spec.LeaseTransitions)
			}

			// the killed replica comes back as the standby
			leader, standby = standby, start(t)
			if got := leaseHolder(t, ns); got != *lease.Spec.HolderIdentity {
				t.Errorf("the Lease moved to %s when the killed replica came back", got)
			}
		})
		if !ok {
			return // who leads is not known any more
		}
	}
	checkStandby(t, standby)

	t.Run("a leader that stops hands over the Lease at once", func(t *testing.T) {
		holder := leaseHolder(t, ns)
		stopped := time.Now()
		leader.Stop() // SIGTERM: the Lease is released
		lease := waitLeaseTakenOver(t, ns, holder)
		waitAcquired(t, standby)
		t.Logf("takeover %v after SIGTERM (retry period %v: at most %v)", lease.Spec.AcquireTime.Sub(stopped).Round(time.Millisecond), haRetryPeriod, time.Duration(2.2*float64(haRetryPeriod)))
	})
}

// electedLeader waits until exactly one of the two processes says it
// acquired the Lease and returns it first.
func electedLeader(t *testing.T, a, b *framework.Certinel) (leader, standby *framework.Certinel) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() string {
		la, lb := strings.Contains(readLog(t, a), acquiredLease), strings.Contains(readLog(t, b), acquiredLease)
		switch {
		case la && lb:
			t.Fatal("both processes acquired the Lease")
		case la:
			leader, standby = a, b
		case lb:
			leader, standby = b, a
		default:
			return "no process acquired the Lease yet"
		}
		return ""
	})
	return leader, standby
}

// waitAcquired waits until c says it acquired the Lease (it logs that just
// after its write of the Lease).
func waitAcquired(t *testing.T, c *framework.Certinel) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() string {
		if !strings.Contains(readLog(t, c), acquiredLease) {
			return "the standby did not log that it acquired the Lease"
		}
		return ""
	})
}

// checkStandby checks that a standby is live and ready (so that a rollout
// of certinel's own Deployment goes on and the standby is not restarted)
// and has not acquired the Lease.
func checkStandby(t *testing.T, c *framework.Certinel) {
	t.Helper()
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, err := c.Probe(path); err != nil || code != 200 {
			t.Errorf("standby %s: %d %v", path, code, err)
		}
	}
	if strings.Contains(readLog(t, c), acquiredLease) {
		t.Error("the standby acquired the Lease")
	}
}

func readLog(t *testing.T, c *framework.Certinel) string {
	t.Helper()
	b, err := os.ReadFile(c.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func metricOf(t *testing.T, c *framework.Certinel, name string, matchers ...string) float64 {
	t.Helper()
	v, err := c.Metric(name, matchers...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func leaseHolder(t *testing.T, ns string) string {
	t.Helper()
	var lease coordinationv1.Lease
	if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "certinel.io"}, &lease); err != nil {
		t.Fatal(err)
	}
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// waitLeaseTakenOver waits until another holder than old has the Lease.
func waitLeaseTakenOver(t *testing.T, ns, old string) *coordinationv1.Lease {
	t.Helper()
	var lease coordinationv1.Lease
	testutil.Eventually(t, 30*time.Second, func() string {
		if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "certinel.io"}, &lease); err != nil {
			return err.Error()
		}
		if h := lease.Spec.HolderIdentity; h == nil || *h == "" || *h == old {
			return "the Lease is still held by " + old
		}
		return ""
	})
	return &lease
}

// waitKeystoresOf waits until both keystores of the Secret hold the leaf
// certificate of tls (default password and alias).
func waitKeystoresOf(t *testing.T, ns, name string, tls *framework.TLS) {
	t.Helper()
	block, _ := pem.Decode(tls.Cert)
	testutil.Eventually(t, 30*time.Second, func() string {
		s := getSecret(t, ns, name)
		ks := jks.New()
		if err := ks.Load(bytes.NewReader(s.Data["keystore.jks"]), []byte("changeit")); err != nil {
			return "keystore.jks: " + err.Error()
		}
		e, err := ks.GetPrivateKeyEntry("certificate", []byte("changeit"))
		if err != nil {
			return "keystore.jks: " + err.Error()
		}
		if len(e.CertificateChain) == 0 || !bytes.Equal(e.CertificateChain[0].Content, block.Bytes) {
			return "keystore.jks holds another certificate"
		}
		_, cert, _, err := pkcs12.DecodeChain(s.Data["keystore.p12"], "changeit")
		if err != nil {
			return "keystore.p12: " + err.Error()
		}
		if !bytes.Equal(cert.Raw, block.Bytes) {
			return "keystore.p12 holds " + cert.Subject.String() + " of another key pair"
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			t.Fatal(err)
		}
		return ""
	})
}

// objectWatch records every version of one object from a resourceVersion
// on, as the API server sends them.
type objectWatch struct {
	first   client.Object
	w       watch.Interface
	mu      sync.Mutex
	objects []client.Object
	times   []time.Time // when each of objects arrived
	err     error
	stopped bool
	done    chan struct{}
	changed chan struct{}
}

// watchObject watches one Secret or Deployment (client-go's typed client:
// the versions come as the API server sends them, none coalesced).
func watchObject(t *testing.T, obj client.Object) *objectWatch {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	opts := metav1.ListOptions{ResourceVersion: obj.GetResourceVersion(), FieldSelector: "metadata.name=" + obj.GetName()}
	var w watch.Interface
	switch obj.(type) {
	case *corev1.Secret:
		w, err = cs.CoreV1().Secrets(obj.GetNamespace()).Watch(context.Background(), opts)
	case *appsv1.Deployment:
		w, err = cs.AppsV1().Deployments(obj.GetNamespace()).Watch(context.Background(), opts)
	default:
		t.Fatalf("cannot watch %T", obj)
	}
	if err != nil {
		t.Fatal(err)
	}
	ow := &objectWatch{first: obj, w: w, done: make(chan struct{}), changed: make(chan struct{}, 1)}
	go func() {
		defer close(ow.done)
		for ev := range w.ResultChan() {
			ow.mu.Lock()
			switch ev.Type {
			case watch.Added, watch.Modified:
				ow.objects = append(ow.objects, ev.Object.(client.Object))
				ow.times = append(ow.times, time.Now())
			default:
				if !ow.stopped { // stopping the watch ends it with an error
					ow.err = fmt.Errorf("watch event %s: %v", ev.Type, ev.Object)
				}
			}
			ow.mu.Unlock()
			select {
			case ow.changed <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(w.Stop)
	return ow
}

// waitFor returns as soon as a version satisfies ok.
func (ow *objectWatch) waitFor(t *testing.T, ok func(client.Object) bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		ow.mu.Lock()
		for _, o := range ow.objects {
			if ok(o) {
				ow.mu.Unlock()
				return
			}
		}
		ow.mu.Unlock()
		select {
		case <-ow.changed:
		case <-timeout:
			t.Fatal("no such version of " + ow.first.GetName() + " within 30s")
		}
	}
}

// stop ends the watch and returns the first version and every later one.
func (ow *objectWatch) stop(t *testing.T) []client.Object {
	t.Helper()
	ow.mu.Lock()
	ow.stopped = true
	ow.mu.Unlock()
	ow.w.Stop()
	<-ow.done
	if ow.err != nil {
		t.Error(ow.err) // a watch that ended early: the versions may be incomplete
	}
	return append([]client.Object{ow.first}, ow.objects...)
}

// lastChange returns when the last version whose value differs from the
// one before it arrived.
func (ow *objectWatch) lastChange(value func(client.Object) string) time.Time {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	var at time.Time
	prev := value(ow.first)
	for i, o := range ow.objects {
		if v := value(o); v != prev {
			at, prev = ow.times[i], v
		}
	}
	return at
}

func templateHash(o client.Object) string {
	return o.(*appsv1.Deployment).Spec.Template.Annotations["certinel.io/config-hash"]
}

// changes counts how often value differs from one version to the next.
func changes(versions []client.Object, value func(client.Object) string) int {
	n := 0
	for i := 1; i < len(versions); i++ {
		if value(versions[i]) != value(versions[i-1]) {
			n++
		}
	}
	return n
}

// Shards by namespace need a Lease each: two releases whose Leases share a
// name and a namespace fight, and only one shard works; with
// --leader-election-id each shard leads its own namespaces.
func TestShardLeases(t *testing.T) {
	ctx := context.Background()
	leaseNS, nsA, nsB := namespace(t), namespace(t), namespace(t)
	role := strings.ReplaceAll(readRepoFile(t, "config/rbac/leader_election_role.yaml"), "namespace: certinel-system", "namespace: "+leaseNS)
	role = strings.ReplaceAll(role, `resourceNames: ["certinel.io"]`, `resourceNames: ["certinel.io", "certinel-b"]`)
	kubectl(t, role, "apply", "-f", "-")
	kubectl(t, "", "-n", leaseNS, "create", "rolebinding", "certinel-e2e-leader", "--role=certinel-leader-election", "--user="+certinelUserName)

	certinel.Stop()
	t.Cleanup(func() {
		if err := certinel.Start(ctx); err != nil {
			t.Error(err)
		}
	})
	shard := func(ns string, extra ...string) *framework.Certinel {
		t.Helper()
		args := append([]string{"--namespaces=" + ns, "--leader-elect", "--leader-election-namespace=" + leaseNS,
			"--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms"}, extra...)
		c, err := framework.StartCertinel(ctx, certinelBin, certinel.Kubeconfig, filepath.Join(cluster.Dir, "certinel-shard-"+ns+".log"), args...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Stop)
		return c
	}
	tls := newTLS(t, framework.SEC1)
	applyTLSSecret(t, nsA, "app-tls", tls, map[string]string{annKeystores: "jks"})
	applyTLSSecret(t, nsB, "app-tls", tls, map[string]string{annKeystores: "jks"})

	a := shard(nsA)
	waitForKeys(t, nsA, "app-tls", "keystore.jks")
	b := shard(nsB) // the same Lease as shard A: it waits for A's
	checkStandby(t, b)
	time.Sleep(2 * haLeaseDuration)
	if s := getSecret(t, nsB, "app-tls"); s.Data["keystore.jks"] != nil {
		t.Fatal("shard B worked while shard A held their shared Lease")
	}
	checkStandby(t, b)

	b.Stop()
	shard(nsB, "--leader-election-id=certinel-b")
	waitForKeys(t, nsB, "app-tls", "keystore.jks")
	if leaseHolder(t, leaseNS) == "" || !strings.Contains(readLog(t, a), acquiredLease) {
		t.Error("shard A lost its Lease")
	}
	var lease coordinationv1.Lease
	if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: leaseNS, Name: "certinel-b"}, &lease); err != nil || lease.Spec.HolderIdentity == nil {
		t.Errorf("no Lease certinel-b held by shard B: %v", err)
	}
}
