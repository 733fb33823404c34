package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
)

// certinel limited to one namespace, with leader election under the
// leader-election Role of config/rbac, leaves other namespaces alone and
// says so when pointed at them.
func TestNamespacesAndLeaderElection(t *testing.T) {
	ctx := context.Background()
	watched, other := namespace(t), namespace(t)
	const leaseNS = "certinel-system"
	if _, err := cluster.Kubectl(ctx, "", "create", "namespace", leaseNS); err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
		t.Fatal(err)
	}
	kubectl(t, "", "-n", leaseNS, "apply", "-f", filepath.Join(cluster.Root, "config", "rbac", "leader_election_role.yaml"))
	binding := kubectl(t, "", "-n", leaseNS, "create", "rolebinding", "certinel-e2e-leader", "--role=certinel-leader-election", "--user="+certinelUserName, "--dry-run=client", "-o", "yaml")
	kubectl(t, binding, "-n", leaseNS, "apply", "-f", "-")

	// one writer at a time: the suite's certinel pauses during this test
	certinel.Stop()
	defer func() {
		if err := certinel.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}()
	scoped, err := framework.StartCertinel(ctx, certinelBin, certinel.Kubeconfig, filepath.Join(cluster.Dir, "certinel-scoped.log"),
		"--namespaces="+watched, "--leader-elect", "--leader-election-namespace="+leaseNS)
	if err != nil {
		t.Fatal(err)
	}
	defer scoped.Stop()

	tls := newTLS(t, framework.SEC1)
	kubectl(t, "", "-n", other, "create", "secret", "generic", "corp-ca", "--from-literal=ca.crt="+string(tls.CA))
	applyTLSSecret(t, other, "outside", tls, map[string]string{annKeystores: "jks"})
	applyTLSSecret(t, watched, "inside", tls, map[string]string{annKeystores: "jks"})
	applyTLSSecret(t, watched, "reads-outside", tls, map[string]string{annKeystores: "jks", "certinel.io/truststore-sources": "secret:" + other + "/corp-ca"})

	waitForKeys(t, watched, "inside", "keystore.jks")
	mustContain(t, "Event", waitForEvent(t, watched, "reads-outside", "MissingTruststoreSource"), "does not watch")
	time.Sleep(time.Second)
	if s := getSecret(t, other, "outside"); len(s.Data) != 3 {
		t.Errorf("certinel wrote into an unwatched namespace%s", yet(s))
	}
	var lease coordinationv1.Lease
	if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: leaseNS, Name: "certinel.io"}, &lease); err != nil {
		t.Fatalf("no leader election Lease: %v", err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Error("the Lease has no holder")
	}
}
