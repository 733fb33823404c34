// Command demo runs certinel for real on this machine: it starts a local
// control plane (etcd, kube-apiserver, kube-controller-manager), starts the
// certinel binary against it, creates a cert-manager style TLS Secret,
// annotates it the way a user would, and shows what the keystore holds.
//
//	make demo                      # runs, prints, stops
//	make demo DEMO_FLAGS=--keep    # leaves everything running until Ctrl-C
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
)

func main() {
	keep := flag.Bool("keep", false, "keep the control plane and certinel running until Ctrl-C")
	flag.Parse()
	if err := run(*keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(keep bool) error {
	ctx := context.Background()
	step("starting a local control plane: etcd, kube-apiserver, kube-controller-manager")
	cluster, err := framework.StartCluster(true)
	if err != nil {
		return err
	}
	defer cluster.Stop()
	bin, err := framework.BuildCertinel(cluster.Root, cluster.Dir)
	if err != nil {
		return err
	}
	logPath := filepath.Join(cluster.Dir, "certinel.log")
	step("starting certinel (log: %s)", logPath)
	certinel, err := framework.StartCertinel(ctx, bin, cluster.Kubeconfig, logPath)
	if err != nil {
		return err
	}
	defer certinel.Stop()

	tls, err := framework.NewTLS("demo.example.com", framework.PKCS1, "demo.example.com")
	if err != nil {
		return err
	}
	kubectl := func(stdin string, args ...string) (string, error) {
		fmt.Printf("  $ kubectl %s\n", strings.Join(args, " "))
		out, err := cluster.Kubectl(ctx, stdin, args...)
		if out != "" {
			fmt.Print(indent(out))
		}
		return out, err
	}
	step("a TLS Secret as cert-manager writes it, and a password Secret")
	if _, err := kubectl("", "create", "namespace", "demo"); err != nil {
		return err
	}
	if _, err := kubectl(tls.SecretYAML("demo", "demo-tls", nil), "apply", "-f", "-"); err != nil {
		return err
	}
	if _, err := kubectl("", "-n", "demo", "create", "secret", "generic", "demo-keystore-password", "--from-literal=password=demo-pass"); err != nil {
		return err
	}
	step("ask certinel for keystores")
	if _, err := kubectl("", "-n", "demo", "annotate", "secret", "demo-tls",
		"certinel.io/keystores=jks,pkcs12", "certinel.io/keystore-password-secret=demo-keystore-password", "certinel.io/cert-info=true"); err != nil {
		return err
	}
	s, err := waitForKeystore(ctx, cluster.Client)
	if err != nil {
		return err
	}
	step("certinel wrote these data keys")
	if _, err := kubectl("", "-n", "demo", "get", "secret", "demo-tls", "-o", `go-template={{range $k, $v := .data}}{{$k}}{{"\n"}}{{end}}`); err != nil {
		return err
	}
	if _, err := kubectl("", "-n", "demo", "get", "events", "--field-selector", "involvedObject.name=demo-tls"); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "certinel-demo-")
	if err != nil {
		return err
	}
	for _, k := range []string{"keystore.jks", "truststore.jks", "keystore.p12"} {
		if err := os.WriteFile(filepath.Join(dir, k), s.Data[k], 0o600); err != nil {
			return err
		}
	}
	step("what keystore.jks holds, as keytool sees it")
	show("keytool", "-list", "-keystore", filepath.Join(dir, "keystore.jks"), "-storepass", "demo-pass")
	show("keytool", "-list", "-keystore", filepath.Join(dir, "truststore.jks"), "-storepass", "demo-pass")
	step("and as `certinel inspect` sees keystore.p12")
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("demo-pass"), 0o600); err != nil {
		return err
	}
	show(bin, "inspect", "--password-file", pw, filepath.Join(dir, "keystore.p12"))
	step("tls.crt.info")
	fmt.Print(indent(string(s.Data["tls.crt.info"])))

	if !keep {
		step("done; run `make demo DEMO_FLAGS=--keep` to keep it running and try kubectl yourself")
		return nil
	}
	step("running; in another shell:\n  export KUBECONFIG=%s PATH=%s:$PATH\n  kubectl -n demo get secret demo-tls -o yaml\nCtrl-C stops everything", cluster.Kubeconfig, cluster.Bin)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

func waitForKeystore(ctx context.Context, c client.Client) (*corev1.Secret, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var s corev1.Secret
		if err := c.Get(ctx, client.ObjectKey{Namespace: "demo", Name: "demo-tls"}, &s); err != nil {
			return nil, err
		}
		if len(s.Data["keystore.jks"]) > 0 && len(s.Data["keystore.p12"]) > 0 {
			return &s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("no keystore after 30s")
}

func step(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }

func show(name string, args ...string) {
	fmt.Printf("  $ %s %s\n", filepath.Base(name), strings.Join(args, " "))
	out, err := exec.Command(name, args...).CombinedOutput()
	fmt.Print(indent(string(out)))
	if err != nil {
		fmt.Printf("  (%v)\n", err)
	}
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ") + "\n"
}
