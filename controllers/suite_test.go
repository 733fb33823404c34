package controllers

// The envtest suite: a real etcd and kube-apiserver from $KUBEBUILDER_ASSETS
// (default ../bin, filled by `make tools`) and the KeystoreReconciler in a
// real manager, wired as cmd/certinel/manager.go wires it. It starts on
// first use, so the fake-client tests run without it, and stops in TestMain.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/certinel/certinel/pkg/annotations"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if suite != nil {
		if err := suite.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "envtest: stop:", err)
		}
		if code != 0 {
			fmt.Fprintf(os.Stderr, "---- certinel manager log (last 16 KiB) ----\n%s\n", suite.log.tail(16<<10))
		}
	}
	os.Exit(code)
}

var (
	suiteOnce sync.Once
	suite     *envSuite
	suiteErr  error
)

// envSuite is the running control plane and manager.
type envSuite struct {
	env    *envtest.Environment
	client client.Client // uncached, as a user
	hooks  *hookClient   // the reconciler's client
	r      *KeystoreReconciler
	pairs  *PairSources // the Secrets whose TLS keys the cache keeps
	log    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startSuite returns the suite, starting it on first use. A suite that
// cannot start fails the test: envtest tests are never skipped.
func startSuite(t *testing.T) *envSuite {
	t.Helper()
	suiteOnce.Do(func() { suite, suiteErr = newSuite() })
	if suiteErr != nil {
		t.Fatalf("envtest: %v", suiteErr)
	}
	return suite
}

func newSuite() (*envSuite, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join("..", "bin")
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(assets, b)); err != nil {
			return nil, fmt.Errorf("%s not found in %s (KUBEBUILDER_ASSETS): run `make tools` first", b, assets)
		}
	}
	s := &envSuite{
		env: &envtest.Environment{
			BinaryAssetsDirectory:    assets,
			ControlPlaneStartTimeout: 2 * time.Minute,
			ControlPlaneStopTimeout:  time.Minute,
		},
		log:  &syncBuffer{},
		done: make(chan error, 1),
	}
	logf.SetLogger(zap.New(zap.WriteTo(s.log), zap.UseDevMode(true)))
	cfg, err := s.env.Start()
	if err != nil {
		return nil, fmt.Errorf("start control plane from %s: %w", assets, err)
	}
	fail := func(err error) (*envSuite, error) {
		_ = s.env.Stop()
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fail(err)
	}
	if s.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return fail(err)
	}
	// The options of cmd/certinel/manager.go, without listeners.
	pairs := NewPairSources()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cache.Options{DefaultTransform: CacheTransform(annotations.Compat{}, pairs)},
		Client:                 client.Options{Cache: &client.CacheOptions{Unstructured: true}},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fail(err)
	}
	s.hooks = &hookClient{Client: mgr.GetClient(), before: map[types.NamespacedName]func(){}, conflicts: map[types.NamespacedName]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	sources := NewSourceReader(mgr.GetClient(), mgr.GetAPIReader(), nil).WithPairs(pairs)
	s.pairs = pairs
	r := &KeystoreReconciler{Client: s.hooks, Live: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("certinel"), Sources: sources}
	s.r = r
	if err := r.SetupWithManager(ctx, mgr, 2); err != nil {
		cancel()
		return fail(err)
	}
	if err := (&IngressReconciler{Client: mgr.GetClient(), Sources: sources, Recorder: mgr.GetEventRecorder("certinel")}).SetupWithManager(ctx, mgr, 2); err != nil {
		cancel()
		return fail(err)
	}
	for _, ir := range NewInjectReconcilers(mgr.GetClient(), sources, mgr.GetEventRecorder("certinel"), clock.RealClock{}, false) {
		if err := ir.SetupWithManager(ctx, mgr, 2); err != nil {
			cancel()
			return fail(err)
		}
	}
	go func() { s.done <- mgr.Start(ctx) }()
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		cancel()
		return fail(errors.New("the manager's cache did not sync"))
	}
	return s, nil
}

func (s *envSuite) stop() error {
	s.cancel()
	err := <-s.done
	return errors.Join(err, s.env.Stop())
}

// namespace creates a fresh namespace for one test.
func (s *envSuite) namespace(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "test-" + hex.EncodeToString(b)}}
	if err := s.client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func (s *envSuite) create(t *testing.T, ns string, obj client.Object) {
	t.Helper()
	obj.SetNamespace(ns)
	obj.SetUID("")
	if err := s.client.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %s: %v", obj.GetName(), err)
	}
}

// getSecret returns Secret ns/name, or nil when it does not exist.
func (s *envSuite) getSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	var sec corev1.Secret
	err := s.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &sec)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return &sec
}

// updateSecret applies mutate to the latest Secret ns/name and writes it,
// reading again on a conflict, as kubectl edit does when certinel wrote the
// Secret in between.
func (s *envSuite) updateSecret(t *testing.T, ns, name string, mutate func(*corev1.Secret)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		var sec corev1.Secret
		if err := s.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &sec); err != nil {
			return err
		}
		mutate(&sec)
		return s.client.Update(context.Background(), &sec)
	})
	if err != nil {
		t.Fatalf("update Secret %s: %v", name, err)
	}
}

// hasEvent reports an Event with reason about object ns/name.
func (s *envSuite) hasEvent(t *testing.T, ns, name, reason string) bool {
	t.Helper()
	var evs corev1.EventList
	if err := s.client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs.Items {
		if ev.InvolvedObject.Name == name && ev.Reason == reason {
			return true
		}
	}
	return false
}

// hookClient is the reconciler's client. It runs a test's hook right
// before the first patch of an object (to play a concurrent writer) and
// counts the conflicts the API server answers to patches.
type hookClient struct {
	client.Client
	mu        sync.Mutex
	before    map[types.NamespacedName]func()
	conflicts map[types.NamespacedName]int
}

// beforeFirstPatch runs hook once, right before the reconciler's first
// patch of key.
func (c *hookClient) beforeFirstPatch(key types.NamespacedName, hook func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.before[key] = hook
}

func (c *hookClient) conflictCount(key types.NamespacedName) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conflicts[key]
}

func (c *hookClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	key := client.ObjectKeyFromObject(obj)
	c.mu.Lock()
	hook := c.before[key]
	delete(c.before, key)
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	err := c.Client.Patch(ctx, obj, patch, opts...)
	if apierrors.IsConflict(err) {
		c.mu.Lock()
		c.conflicts[key]++
		c.mu.Unlock()
	}
	return err
}

// syncBuffer collects the manager's log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) tail(n int) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.buf.Bytes()
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return bytes.Clone(out)
}
