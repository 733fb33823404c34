// Package framework runs a real control plane (etcd and kube-apiserver
// built by `make tools`), the certinel binary as its own process, and
// kubectl, so that tests, the demo and the benchmark act as a user would.
package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	routev1 "github.com/openshift/api/route/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ExternalCRDs is the directory, relative to the repository root, of the
// CRDs every test cluster serves; `make crds` copies them from their Go
// modules.
const ExternalCRDs = "config/crd/external"

// Scheme holds the built-in Kubernetes types and OpenShift's Route, which
// the test cluster serves through its CRD.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(routev1.AddToScheme(s))
	return s
}()

// Cluster is a local control plane: etcd, kube-apiserver and optionally
// kube-controller-manager (for garbage collection and namespace deletion).
type Cluster struct {
	Root       string // repository root
	Bin        string // directory of kube-apiserver, etcd, kubectl
	Dir        string // scratch directory: kubeconfigs, logs
	Kubeconfig string // admin kubeconfig
	Config     *rest.Config
	Client     client.Client

	env *envtest.Environment
	kcm *exec.Cmd
}

// RepoRoot finds the repository root from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/certinel/certinel\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the certinel repository")
		}
		dir = parent
	}
}

// StartCluster starts etcd and kube-apiserver from $KUBEBUILDER_ASSETS or
// <repo>/bin (run `make tools` first), writes an admin kubeconfig, and with
// controllerManager also starts kube-controller-manager.
func StartCluster(controllerManager bool) (*Cluster, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	bin := os.Getenv("KUBEBUILDER_ASSETS")
	if bin == "" {
		bin = filepath.Join(root, "bin")
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kubectl"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return nil, fmt.Errorf("%s not found in %s: run `make tools` first", b, bin)
		}
	}
	dir, err := os.MkdirTemp("", "certinel-e2e-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Root: root, Bin: bin, Dir: dir}
	c.env = &envtest.Environment{
		BinaryAssetsDirectory:    bin,
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
		// CRDs of other projects that certinel works with, such as
		// OpenShift's Route: a plain kube-apiserver does not serve them.
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths:              []string{filepath.Join(root, ExternalCRDs)},
			ErrorIfPathMissing: true,
		},
		Scheme: Scheme,
	}
	if c.Config, err = c.env.Start(); err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	if c.Kubeconfig, err = c.WriteKubeconfig("admin", []string{"system:masters"}); err != nil {
		c.Stop()
		return nil, err
	}
	if c.Client, err = client.New(c.Config, client.Options{Scheme: Scheme}); err != nil {
		c.Stop()
		return nil, err
	}
	if controllerManager {
		if err := c.startControllerManager(); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// WriteKubeconfig creates a client-certificate user and returns the path
// of its kubeconfig.
func (c *Cluster) WriteKubeconfig(name string, groups []string) (string, error) {
	user, err := c.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", fmt.Errorf("add user %s: %w", name, err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.Dir, name+".kubeconfig")
	return path, os.WriteFile(path, kc, 0o600)
}

func (c *Cluster) startControllerManager() error {
	kcm := filepath.Join(c.Bin, "kube-controller-manager")
	if _, err := os.Stat(kcm); err != nil {
		return fmt.Errorf("kube-controller-manager not found in %s: run `make tools`", c.Bin)
	}
	// system:masters: with --use-service-account-credentials=false the
	// controllers act as this user, whose own role lacks their rights.
	kubeconfig, err := c.WriteKubeconfig("system:kube-controller-manager", []string{"system:masters"})
	if err != nil {
		return err
	}
	log, err := os.Create(filepath.Join(c.Dir, "kube-controller-manager.log"))
	if err != nil {
		return err
	}
	c.kcm = exec.Command(kcm,
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--controllers=garbagecollector,namespace,serviceaccount-token,deployment,replicaset,statefulset,daemonset",
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
	)
	c.kcm.Stdout, c.kcm.Stderr = log, log
	return c.kcm.Start()
}

// Stop stops everything the cluster started and removes its directory.
func (c *Cluster) Stop() {
	if c.kcm != nil && c.kcm.Process != nil {
		_ = c.kcm.Process.Kill()
		_ = c.kcm.Wait()
	}
	if c.env != nil {
		_ = c.env.Stop()
	}
	if os.Getenv("CERTINEL_KEEP_E2E_DIR") == "" {
		_ = os.RemoveAll(c.Dir)
	}
}

// Kubectl runs kubectl as the admin user and returns its standard output.
func (c *Cluster) Kubectl(ctx context.Context, stdin string, args ...string) (string, error) {
	return c.KubectlAs(ctx, c.Kubeconfig, stdin, args...)
}

// KubectlAs runs kubectl with the given kubeconfig.
func (c *Cluster) KubectlAs(ctx context.Context, kubeconfig, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.Bin, "kubectl"), append([]string{"--kubeconfig=" + kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}
