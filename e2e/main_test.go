// Package e2e drives certinel the way a user does: a real kube-apiserver and
// etcd, the certinel binary as its own process running with the RBAC of
// config/rbac, kubectl to change objects, and keytool, openssl and a JSSE
// handshake to prove what certinel wrote.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/certinel/certinel/e2e/framework"
)

// certinelUserName is the user certinel runs as in the e2e tests.
const certinelUserName = "system:serviceaccount:certinel-system:certinel"

var (
	cluster     *framework.Cluster
	certinel    *framework.Certinel
	certinelBin string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	var err error
	if cluster, err = framework.StartCluster(true); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer cluster.Stop()
	certinelBin, err = framework.BuildCertinel(cluster.Root, cluster.Dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	kubeconfig, err := certinelUser(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	logPath := filepath.Join(cluster.Dir, "certinel.log")
	if certinel, err = framework.StartCertinel(ctx, certinelBin, kubeconfig, logPath, "--zap-log-level=debug"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer certinel.Stop()
	code := m.Run()
	if code != 0 {
		if b, err := os.ReadFile(logPath); err == nil {
			fmt.Fprintf(os.Stderr, "---- certinel log (last 8 KiB) ----\n%s\n", tail(b, 8<<10))
		}
	}
	return code
}

// certinelUser creates the user certinel runs as, with exactly the
// ClusterRole of config/rbac, so that the tests prove its RBAC suffices.
func certinelUser(ctx context.Context) (string, error) {
	const user = certinelUserName
	kubeconfig, err := cluster.WriteKubeconfig(user, nil)
	if err != nil {
		return "", err
	}
	role := filepath.Join(cluster.Root, "config", "rbac", "role.yaml")
	if _, err := cluster.Kubectl(ctx, "", "apply", "-f", role); err != nil {
		return "", err
	}
	_, err = cluster.Kubectl(ctx, "", "create", "clusterrolebinding", "certinel-e2e", "--clusterrole=certinel", "--user="+user)
	return kubeconfig, err
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
