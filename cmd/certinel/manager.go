package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"time"

	routev1 "github.com/openshift/api/route/v1"
	"github.com/spf13/pflag"
	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/certinel/certinel/controllers"
	"github.com/certinel/certinel/pkg/annotations"
)

type managerFlags struct {
	kubeconfig              string
	namespaces              []string
	metricsAddr             string
	probeAddr               string
	leaderElect             bool
	leaderElectionNamespace string
	leaderElectionID        string
	leaseDuration           time.Duration
	renewDeadline           time.Duration
	retryPeriod             time.Duration
	qps                     float32
	burst                   int
	concurrency             int
	pprofAddr               string
	reloadWindow            time.Duration
	reloadRate              float64
	reloadBurst             int
	compat                  annotations.Compat
	routes                  bool
	expiryWarning           time.Duration
	zap                     zap.Options
}

func parseManagerFlags(args []string, stderr io.Writer) (*managerFlags, error) {
	f := &managerFlags{}
	fs := pflag.NewFlagSet("certinel", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "path to a kubeconfig; default: in-cluster config, then $KUBECONFIG, then ~/.kube/config")
	fs.StringSliceVar(&f.namespaces, "namespaces", nil, "comma-separated namespaces to watch (default: all)")
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", `address of /metrics; "0" disables it`)
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	fs.BoolVar(&f.leaderElect, "leader-elect", false, "elect a leader so that only one replica writes")
	fs.StringVar(&f.leaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader election Lease (default: the pod's namespace)")
	fs.StringVar(&f.leaderElectionID, "leader-election-id", "certinel.io", "name of the leader election Lease; give each release (shard) in one namespace its own")
	fs.DurationVar(&f.leaseDuration, "leader-elect-lease-duration", 15*time.Second, "how long a standby waits after the leader's last renewal before it takes over (whole seconds); bounds the takeover when the leader dies")
	fs.DurationVar(&f.renewDeadline, "leader-elect-renew-deadline", 10*time.Second, "how long the leader keeps trying to renew before it stops (exits); below --leader-elect-lease-duration")
	fs.DurationVar(&f.retryPeriod, "leader-elect-retry-period", 2*time.Second, "how often the leader renews and a standby tries to acquire the Lease")
	fs.Float32Var(&f.qps, "kube-api-qps", 1000, "client-side limit of API requests per second (the API server's priority and fairness applies too)")
	fs.IntVar(&f.burst, "kube-api-burst", 2000, "client-side burst of API requests")
	fs.IntVar(&f.concurrency, "max-concurrent-reconciles", 16, "objects each controller works on at once (at most 4 for expiry and for CA injection into webhook configurations and APIServices)")
	fs.DurationVar(&f.reloadWindow, "reload-window", time.Second, "changes of a workload's referenced Secrets and ConfigMaps within this window give one rollout")
	fs.Float64Var(&f.reloadRate, "reload-rate", 10, "rollouts per second at most, over all workloads (a renewal storm of 1000 Secrets rolls for 100 s instead of at once)")
	fs.IntVar(&f.reloadBurst, "reload-burst", 20, "rollouts at once before --reload-rate applies")
	compat := fs.StringSlice("compat", nil, "honour the annotations of other operators too: cert-utils (cert-utils-operator), reloader (Stakater Reloader), or both (comma-separated); off by default")
	fs.BoolVar(&f.routes, "routes", true, "manage OpenShift Routes once the API server serves them; false: never watch Routes (the RBAC then needs no Route rules)")
	expiryWarning := fs.String("expiry-warning", "30d", `warn (CertificateExpiringSoon) this long before a certificate expires: a Go duration ("720h") or days ("30d"); certinel.io/expiry-warning overrides it per Secret`)
	fs.StringVar(&f.pprofAddr, "pprof-bind-address", "", `address of Go's /debug/pprof endpoints; "" (default) disables them`)
	zfs := flag.NewFlagSet("zap", flag.ContinueOnError)
	f.zap.BindFlags(zfs)
	fs.AddGoFlagSet(zfs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	var err error
	if f.compat, err = annotations.ParseCompat(*compat); err != nil {
		return nil, err
	}
	if d, err := annotations.ParseDays(strings.TrimSpace(*expiryWarning)); err != nil || d <= 0 {
		return nil, fmt.Errorf("--expiry-warning %q: want a positive Go duration (720h) or a number of days (30d)", *expiryWarning)
	} else {
		f.expiryWarning = d
	}
	if f.reloadRate <= 0 || f.reloadBurst < 1 || f.reloadWindow < 0 {
		return nil, fmt.Errorf("--reload-rate must be above 0, --reload-burst at least 1 and --reload-window not negative")
	}
	if err := validateLeaderElection(f); err != nil {
		return nil, err
	}
	return f, nil
}

// validateLeaderElection checks the timings as client-go's leader elector
// does, and one thing more: the Lease records its duration in whole seconds
// and a standby trusts that figure, so a fraction would let a standby take
// over while the leader still believes it leads.
func validateLeaderElection(f *managerFlags) error {
	switch {
	case len(validation.IsDNS1123Subdomain(f.leaderElectionID)) > 0:
		return fmt.Errorf("--leader-election-id %q is not a valid Lease name: %s", f.leaderElectionID, strings.Join(validation.IsDNS1123Subdomain(f.leaderElectionID), "; "))
	case f.leaderElectionNamespace != "" && len(validation.IsDNS1123Label(f.leaderElectionNamespace)) > 0:
		return fmt.Errorf("--leader-election-namespace %q is not a namespace name: %s", f.leaderElectionNamespace, strings.Join(validation.IsDNS1123Label(f.leaderElectionNamespace), "; "))
	case f.leaseDuration < time.Second || f.leaseDuration%time.Second != 0:
		return fmt.Errorf("--leader-elect-lease-duration must be a whole number of seconds, at least 1s (got %s)", f.leaseDuration)
	case f.retryPeriod <= 0:
		return fmt.Errorf("--leader-elect-retry-period must be above 0 (got %s)", f.retryPeriod)
	case f.renewDeadline >= f.leaseDuration:
		return fmt.Errorf("--leader-elect-renew-deadline (%s) must be below --leader-elect-lease-duration (%s)", f.renewDeadline, f.leaseDuration)
	case f.renewDeadline <= time.Duration(leaderelection.JitterFactor*float64(f.retryPeriod)):
		return fmt.Errorf("--leader-elect-renew-deadline (%s) must be above %g × --leader-elect-retry-period (%s)", f.renewDeadline, leaderelection.JitterFactor, f.retryPeriod)
	}
	return nil
}

func runManager(args []string, stderr io.Writer) int {
	f, err := parseManagerFlags(args, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	} else if err != nil {
		fmt.Fprintln(stderr, "certinel:", err)
		return 2
	}
	ctrl.SetLogger(deferValues(newLogger(f.zap, stderr)))
	log := ctrl.Log.WithName("setup")
	goruntime.MemProfileRate = heapSampleRate(f.pprofAddr, os.Getenv, goruntime.MemProfileRate)
	if p := gcPercent(os.Getenv); p > 0 {
		debug.SetGCPercent(p)
	}
	if limit := memoryLimit(os.Getenv, cgroupMemoryFiles); limit > 0 {
		debug.SetMemoryLimit(limit)
		log.Info("Go memory limit set to 90% of the container's", "bytes", limit)
	}
	if err := startManager(ctrl.SetupSignalHandler(), f); err != nil {
		log.Error(err, "certinel stopped")
		return 1
	}
	return 0
}

func startManager(ctx context.Context, f *managerFlags) error {
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = f.qps, f.burst
	cfg.UserAgent = "certinel/" + version
	// No gzip: kube-apiserver compresses every event of a watch-list stream
	// for a client that accepts it, and certinel's informers are watch-list
	// streams of every Secret and ConfigMap in scope. certinel runs in the
	// cluster, next to the API server, whose CPU is worth more than the
	// bytes: in CPU profiles of make bench's cold start with 1000 Secrets,
	// compressing was 7% of kube-apiserver's CPU and decompressing 5% of
	// certinel's.
	cfg.DisableCompression = true
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := routev1.AddToScheme(scheme); err != nil {
		return err
	}
	var namespaces []string
	for _, ns := range f.namespaces {
		if ns = strings.TrimSpace(ns); ns != "" {
			namespaces = append(namespaces, ns)
		}
	}
	// The Secrets that Routes and Ingresses read keep their TLS keys in
	// the cache: known before it lists them, so that a cold start reads
	// none of them again.
	pairs := controllers.NewPairSources()
	metaClient, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
	pairs.Seed(ctx, metaClient, namespaces, f.routes, func(kind string, ann map[string]string) map[string]string {
		return f.compat.TranslateObject(kind, ann, nil).Annotations
	})
	cacheOpts := cache.Options{DefaultTransform: controllers.CacheTransform(f.compat, pairs)}
	if len(namespaces) > 0 {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			cacheOpts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Cache:  cacheOpts,
		MapperProvider: func(cfg *rest.Config, hc *http.Client) (meta.RESTMapper, error) {
			m, err := apiutil.NewDynamicRESTMapper(cfg, hc)
			return controllers.CachedMappings(m), err
		},
		NewCache: func(cfg *rest.Config, opts cache.Options) (cache.Cache, error) {
			c, err := cache.New(cfg, opts)
			return controllers.PromptSync(c), err
		},
		// Injection targets of other kinds are read as unstructured: from
		// the cache too, with its transform and indexes.
		Client:                        client.Options{Cache: &client.CacheOptions{Unstructured: true}},
		Metrics:                       metricsserver.Options{BindAddress: f.metricsAddr},
		HealthProbeBindAddress:        f.probeAddr,
		PprofBindAddress:              f.pprofAddr,
		LeaderElection:                f.leaderElect,
		LeaderElectionID:              f.leaderElectionID,
		LeaderElectionNamespace:       f.leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &f.leaseDuration,
		RenewDeadline:                 &f.renewDeadline,
		RetryPeriod:                   &f.retryPeriod,
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	recorder := controllers.NewPacedEvents(mgr.GetEventRecorder("certinel"), scheme, eventQPS, eventBurst, eventQueue)
	if err := mgr.Add(recorder); err != nil {
		return err
	}
	sources := controllers.NewSourceReader(mgr.GetClient(), mgr.GetAPIReader(), namespaces).WithPairs(pairs)
	if err := (&controllers.KeystoreReconciler{
		Client:     mgr.GetClient(),
		Live:       mgr.GetAPIReader(),
		Recorder:   recorder,
		Namespaces: namespaces,
		Sources:    sources,
	}).SetupWithManager(ctx, mgr, f.concurrency); err != nil {
		return fmt.Errorf("set up keystore controller: %w", err)
	}
	// CA injection: every kind when certinel watches the whole cluster; only
	// ConfigMaps and Secrets when it is limited to namespaces.
	for _, r := range controllers.NewInjectReconcilers(mgr.GetClient(), sources, recorder, clock.RealClock{}, len(namespaces) > 0) {
		if err := r.SetupWithManager(ctx, mgr, f.concurrency); err != nil {
			return fmt.Errorf("set up CA injection: %w", err)
		}
	}
	if err := (&controllers.IngressReconciler{Client: mgr.GetClient(), Sources: sources, Recorder: recorder}).SetupWithManager(ctx, mgr, f.concurrency); err != nil {
		return fmt.Errorf("set up Ingress controller: %w", err)
	}
	reloads := &controllers.Reloads{Window: f.reloadWindow, Limiter: rate.NewLimiter(rate.Limit(f.reloadRate), f.reloadBurst)}
	for _, r := range controllers.NewReloadReconcilers(mgr.GetClient(), sources, recorder, clock.RealClock{}, reloads) {
		if err := r.SetupWithManager(ctx, mgr, f.concurrency); err != nil {
			return fmt.Errorf("set up reload: %w", err)
		}
	}
	if err := (&controllers.ExpiryReconciler{
		Client: mgr.GetClient(), Recorder: recorder, Clock: clock.RealClock{}, Warning: f.expiryWarning,
	}).SetupWithManager(mgr, f.concurrency); err != nil {
		return fmt.Errorf("set up expiry: %w", err)
	}
	// Routes: once the API server serves them, now or later.
	if f.routes {
		disco, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			return err
		}
		routes := &controllers.RouteReconciler{Client: mgr.GetClient(), Sources: sources, Recorder: recorder}
		if err := mgr.Add(&controllers.WhenServed{
			Manager: mgr, Discovery: disco, Kind: routev1.GroupVersion.WithKind("Route"),
			Setup: func() error { return routes.SetupWithManager(ctx, mgr, f.concurrency) },
			Watch: len(namespaces) == 0, Recheck: time.Minute,
		}); err != nil {
			return err
		}
	}
	// The first list of a large cluster decodes every Secret and ConfigMap
	// in scope before the cache trims them: hand that memory back once.
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		if mgr.GetCache().WaitForCacheSync(ctx) {
			debug.FreeOSMemory()
		}
		return nil
	})); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", cacheSynced(mgr)); err != nil {
		return err
	}
	ctrl.Log.WithName("setup").Info("starting certinel", "version", version, "namespaces", f.namespaces, "leaderElection", f.leaderElect,
		"leaseDuration", f.leaseDuration, "compatCertUtils", f.compat.CertUtils, "compatReloader", f.compat.Reloader)
	return mgr.Start(ctx)
}

// Events are written at most eventQPS per second after a burst of
// eventBurst, with at most eventQueue waiting (controllers.PacedEvents): a
// cold start's thousand Events follow its writes instead of slowing them.
const (
	eventQPS   = 50
	eventBurst = 100
	eventQueue = 10000
)

// cacheSynced is ready once the informers of the watched kinds have synced.
func cacheSynced(mgr ctrl.Manager) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		for _, obj := range []client.Object{&corev1.Secret{}, &corev1.ConfigMap{}} {
			inf, err := mgr.GetCache().GetInformer(ctx, obj, cache.BlockUntilSynced(false))
			if err != nil {
				return err
			}
			if !inf.HasSynced() {
				return fmt.Errorf("cache of %T not synced", obj)
			}
		}
		return nil
	}
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return ctrl.GetConfig()
}
