// Command bench measures certinel against a local API server: N annotated
// TLS Secrets exist before certinel starts; it reports the time until all
// hold keystore.jks, certinel's memory and CPU, and the API writes during a
// quiet period and across a restart. It reports; it does not judge.
//
//	make bench BENCH_FLAGS="-secrets 1000 -quiet 60s"
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/annotations"
	routev1 "github.com/openshift/api/route/v1"
)

const namespace = "bench"

func main() {
	n := flag.Int("secrets", 1000, "annotated TLS Secrets created before certinel starts")
	quiet := flag.Duration("quiet", time.Minute, "quiet period after convergence in which writes are counted")
	unrelated := flag.Int("unrelated", 0, "unannotated 64 KiB Opaque Secrets (like Helm releases) created as well, to show what certinel's cache keeps")
	sharedPassword := flag.Bool("password-secret", false, "give every Secret certinel.io/keystore-password-secret naming one shared Opaque Secret (whose data the cache does not keep)")
	unrelatedTLS := flag.Int("unrelated-tls", 0, "unannotated kubernetes.io/tls Secrets created as well, each with a ca.crt of -unrelated-ca-kib KiB")
	unrelatedCAKiB := flag.Int("unrelated-ca-kib", 500, "size of the ca.crt of each -unrelated-tls Secret")
	hostile := flag.Bool("hostile", false, "after the rest, one Secret whose truststore-sources name 100 Secrets of 900 KiB each: certinel's RSS before, while read, and 60 s after the Secret is deleted")
	scenario := flag.String("scenario", "keystores", "keystores (the default report), routes (1000 Routes reading their TLS Secrets; with -inject 1000 ConfigMaps following a CA rotation), reload (1000 Deployments: one renewal timed to its rollout, then a renewal storm)")
	inject := flag.Int("inject", 1000, "with -scenario routes: ConfigMaps reading one CA Secret, timed through a CA rotation (0: none)")
	pairs := flag.Int("pairs", 5, "keystores scenario: certinel's cold start and the reference are timed this many times, alternately; the ratio is of their medians")
	binary := flag.String("binary", "", "certinel binary to measure (default: built from this tree), e.g. one built from an older commit for a before/after figure")
	out := flag.String("out", ".bench/report.txt", "where to write the report as well")
	certinelFlags := flag.String("certinel-flags", "", "extra flags for certinel, space-separated (e.g. --pprof-bind-address=127.0.0.1:6060)")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "keystores and routes scenarios: write a CPU profile of certinel's first 5 s (its cold start) to this file")
	flag.StringVar(&serverProfile, "serverprofile", "", "keystores and routes scenarios: write a CPU profile of kube-apiserver during certinel's first 5 s to this file")
	flag.StringVar(&heapProfile, "heapprofile", "", "keystores and routes scenarios: write a heap profile of certinel at convergence to this file")
	flag.StringVar(&restartBinary, "restart-binary", "", "keystores and reload scenarios: restart certinel with this binary instead of the same one, to show what an upgrade writes (nothing, as a restart)")
	flag.Parse()
	extraFlags = strings.Fields(*certinelFlags)
	if cpuProfile != "" || heapProfile != "" {
		extraFlags = append(extraFlags, "--pprof-bind-address=127.0.0.1:6065")
	}
	opts := options{n: *n, unrelated: *unrelated, unrelatedTLS: *unrelatedTLS, unrelatedCAKiB: *unrelatedCAKiB,
		quiet: *quiet, pairs: *pairs, sharedPassword: *sharedPassword, hostile: *hostile, binary: *binary, scenario: *scenario, inject: *inject}
	report, err := run(opts)
	fmt.Print(report)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err == nil {
		_ = os.WriteFile(*out, []byte(report), 0o644)
	}
}

// cpuProfile, heapProfile and serverProfile are where -cpuprofile,
// -heapprofile and -serverprofile write; restartBinary is -restart-binary.
var cpuProfile, heapProfile, serverProfile, restartBinary string

// serverConfig reaches the API server the bench started (set in run).
var serverConfig *rest.Config

// fetch writes what certinel's pprof endpoint serves at path into file.
func fetch(path, file string) error {
	resp, err := http.Get("http://127.0.0.1:6065" + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// profileColdStart fetches 5 s CPU profiles of certinel (-cpuprofile) and
// of kube-apiserver (-serverprofile), as asked; the returned channel closes
// when they are written.
func profileColdStart() chan struct{} {
	done := make(chan struct{})
	var wg sync.WaitGroup
	if cpuProfile != "" {
		wg.Go(func() {
			if err := fetch("/debug/pprof/profile?seconds=5", cpuProfile); err != nil {
				fmt.Fprintln(os.Stderr, "bench: cpu profile:", err)
			}
		})
	}
	if serverProfile != "" {
		wg.Go(func() {
			if err := fetchServerProfile(serverProfile); err != nil {
				fmt.Fprintln(os.Stderr, "bench: kube-apiserver profile:", err)
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	return done
}

func fetchServerProfile(file string) error {
	cs, err := kubernetes.NewForConfig(serverConfig)
	if err != nil {
		return err
	}
	b, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", "5").Timeout(time.Minute).DoRaw(context.Background())
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

// profileHeap writes certinel's heap profile into heapProfile, if asked.
func profileHeap() {
	if heapProfile == "" {
		return
	}
	if err := fetch("/debug/pprof/heap", heapProfile); err != nil {
		fmt.Fprintln(os.Stderr, "bench: heap profile:", err)
	}
}

type options struct {
	n, unrelated, unrelatedTLS, unrelatedCAKiB int
	quiet                                      time.Duration
	sharedPassword, hostile                    bool
	binary, scenario                           string
	inject, pairs                              int
}

// serveRoutesOnce lists Routes once and returns how long the API server took.
// A kube-apiserver sets up the storage of a custom resource on its first
// request for it, and answers watches with 429 Retry-After: 1 until that
// storage is ready; client-go then waits a whole second. certinel watches
// Routes whenever they are served, and controller-runtime starts no
// controller until every informer has synced, so on the bench's freshly
// started API server about one cold start in two waited that second for
// Routes nobody had asked for yet. A cluster with Routes has a router that
// has watched them since its API server started, so the bench asks first.
func serveRoutesOnce(ctx context.Context, c client.Client) (time.Duration, error) {
	start := time.Now()
	var routes routev1.RouteList
	err := c.List(ctx, &routes) // served from the watch cache once it is ready
	return time.Since(start), err
}

func run(o options) (string, error) {
	n, unrelated, quiet, sharedPassword := o.n, o.unrelated, o.quiet, o.sharedPassword
	ctx := context.Background()
	var r strings.Builder
	cluster, err := framework.StartCluster(false)
	if err != nil {
		return "", err
	}
	defer cluster.Stop()
	bin := o.binary
	if bin == "" {
		if bin, err = framework.BuildCertinel(cluster.Root, cluster.Dir); err != nil {
			return "", err
		}
	}
	c := cluster.Client
	serverConfig = cluster.Config
	if watcher, err = client.NewWithWatch(cluster.Config, client.Options{Scheme: c.Scheme()}); err != nil {
		return "", err
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return "", err
	}
	if o.scenario == "reload" {
		err := reloadScenario(ctx, c, bin, cluster.Kubeconfig, cluster.Dir, n, &r)
		return r.String(), err
	}
	if o.scenario == "routes" {
		if err := routesScenario(ctx, c, bin, cluster.Kubeconfig, cluster.Dir, n, quiet, &r); err != nil {
			return r.String(), err
		}
		if o.inject > 0 {
			cert, err := framework.StartCertinel(ctx, bin, cluster.Kubeconfig, filepath.Join(cluster.Dir, "certinel-inject.log"))
			if err != nil {
				return r.String(), err
			}
			defer cert.Stop()
			if err := injectScenario(ctx, c, cert, o.inject, &r); err != nil {
				return r.String(), err
			}
			rss, hwm := memory(cert.PID())
			heap, _ := cert.Metric("go_memstats_heap_alloc_bytes")
			fmt.Fprintf(&r, "  certinel RSS %.1f MiB, peak %.1f MiB, Go heap %.1f MiB (1000 Routes, 1000 TLS Secrets, %d ConfigMaps reading the CA, %d more created and deleted for the reference)\n", rss, hwm, heap/(1<<20), o.inject, referenceRuns*o.inject)
		}
		return r.String(), nil
	}
	start := time.Now()
	ann := map[string]string{"certinel.io/keystores": "jks"}
	if sharedPassword {
		ann["certinel.io/keystore-password-secret"] = "store-pw"
		pw := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "store-pw"}, StringData: map[string]string{"password": "bench-pw"}}
		if err := c.Create(ctx, pw); err != nil {
			return "", err
		}
	}
	if err := createSecrets(ctx, c, n, ann); err != nil {
		return "", err
	}
	if err := createUnrelated(ctx, c, unrelated); err != nil {
		return "", err
	}
	if err := createUnrelatedTLS(ctx, c, o.unrelatedTLS, o.unrelatedCAKiB); err != nil {
		return "", err
	}
	fmt.Fprintf(&r, "certinel benchmark: %d annotated kubernetes.io/tls Secrets (ECDSA P-256 leaf, 2-cert chain, ca.crt), certinel.io/keystores=jks\n", n)
	if sharedPassword {
		fmt.Fprintf(&r, "  every one with certinel.io/keystore-password-secret=store-pw (one shared Opaque Secret)\n")
	}
	if unrelated > 0 {
		fmt.Fprintf(&r, "  plus %d unrelated 64 KiB Opaque Secrets (%d MiB of data certinel does not need)\n", unrelated, unrelated*64/1024)
	}
	if o.unrelatedTLS > 0 {
		fmt.Fprintf(&r, "  plus %d unannotated kubernetes.io/tls Secrets with a %d KiB ca.crt each (%d MiB of keys and bundles certinel does not need)\n",
			o.unrelatedTLS, o.unrelatedCAKiB, o.unrelatedTLS*o.unrelatedCAKiB/1024)
	}
	fmt.Fprintf(&r, "  created before certinel starts in %s\n", time.Since(start).Round(time.Millisecond))

	warm, err := serveRoutesOnce(ctx, c)
	if err != nil {
		return r.String(), err
	}
	fmt.Fprintf(&r, "  the API server's first Route request, before certinel starts: %s (see serveRoutesOnce)\n", warm.Round(time.Millisecond))
	obs, err := observeConverged(ctx, n, "app-")
	if err != nil {
		return r.String(), err
	}
	procStart, serverStart := time.Now(), serverCPU()
	cert, err := framework.StartCertinel(ctx, bin, cluster.Kubeconfig, filepath.Join(cluster.Dir, "certinel.log"), extraFlags...)
	ready := time.Now() // StartCertinel returns once /readyz answers
	if err != nil {
		return r.String(), err
	}
	if cpuProfile != "" || serverProfile != "" {
		defer func(done chan struct{}) { <-done }(profileColdStart())
	}
	defer func() { cert.Stop() }()
	converged, err := obs.wait()
	if err != nil {
		return r.String(), err
	}
	rss, hwm := memory(cert.PID())
	cpu, server := cpuSeconds(cert.PID()), serverCPU()-serverStart
	profileHeap()
	var evs corev1.EventList
	if err := c.List(ctx, &evs, client.InNamespace(namespace)); err == nil {
		fmt.Fprintf(&r, "  Events on the API server at convergence: %d\n", len(evs.Items))
	}
	fmt.Fprintf(&r, "  converged: all %d hold keystore.jks %s after certinel started (target < 5s); ready (caches synced) after %s; %s\n",
		n, converged.Sub(procStart).Round(time.Millisecond), ready.Sub(procStart).Round(time.Millisecond), progressSince(procStart))
	fmt.Fprintf(&r, "  certinel RSS at convergence: %.1f MiB, peak %.1f MiB (target < 80 MiB); %s\n", rss, hwm, goMemory(cert))
	if floor, file, err := startupFloor(bin); err == nil {
		fmt.Fprintf(&r, "  the same binary before it does anything (its package initialisation only): RSS %.1f MiB, %.1f MiB of it the binary's own pages\n", floor, file)
	} else {
		fmt.Fprintf(&r, "  the same binary before it does anything: not measured: %v\n", err)
	}
	fmt.Fprintf(&r, "  certinel CPU until convergence: %.2f s; kube-apiserver and etcd CPU meanwhile: %.2f s\n", cpu, server)
	writesConverge, _ := cert.Metric("certinel_writes_total")
	failures, _ := cert.Metric("certinel_write_failures_total")
	fmt.Fprintf(&r, "  writes to converge: %.0f (and %.0f refused, such as conflicts retried)\n", writesConverge, failures)

	rvs, err := resourceVersions(ctx, c)
	if err != nil {
		return r.String(), err
	}
	time.Sleep(quiet)
	writesQuiet, _ := cert.Metric("certinel_writes_total")
	changed, err := changedSince(ctx, c, rvs)
	if err != nil {
		return r.String(), err
	}
	rss2, _ := memory(cert.PID())
	events := 0
	if err := c.List(ctx, &evs, client.InNamespace(namespace)); err == nil {
		events = len(evs.Items)
	}
	fmt.Fprintf(&r, "  quiet %s: %.0f certinel writes, %d Secrets changed (target 0); CPU in the quiet period %.2f s (the cold start's Events are written in it: %d on the API server by its end); RSS %.1f MiB\n",
		quiet, writesQuiet-writesConverge, changed, cpuSeconds(cert.PID())-cpu, events, rss2)

	restart, err := restartCertinel(ctx, cert, "keystores", n)
	if err != nil {
		return r.String(), err
	}
	changed, err = changedSince(ctx, c, rvs)
	if err != nil {
		return r.String(), err
	}
	rss3, _ := memory(cert.PID())
	fmt.Fprintf(&r, "  restart: %d Secrets reconciled again in %s, %.0f certinel writes, %d Secrets changed (target 0), %.0f GET requests; RSS %.1f MiB\n",
		n, restart.took.Round(time.Millisecond), restart.writes, changed, restart.gets, rss3)
	if o.hostile {
		if err := hostileSources(ctx, c, cert, &r); err != nil {
			return r.String(), err
		}
	}
	cert.Stop()
	// certinel's cold start is timed o.pairs times, each right before
	// one run of the reference, so that each pair meets the machine in the
	// same state; the first is the one reported above.
	colds := []coldStart{{took: converged.Sub(procStart), rss: rss, cpu: cpu, server: server}}
	ref, err := medianOf(max(o.pairs, 1), func() (refRun, error) { return keystoreReference(ctx, c, n) }, func(int) error {
		cold, err := coldStartAgain(ctx, c, cert, n)
		colds = append(colds, cold)
		return err
	})
	if err != nil {
		return r.String(), err
	}
	fmt.Fprintf(&r, "  reference: the API server alone took the same %d merge patches (certinel's keystore.jks, truststore.jks and bookkeeping annotations of app-0000-tls, with an optimistic lock) from 16 writers in %s, as seen by the watch that times certinel too\n",
		n, ref)
	var took, rssAll, ratios, cpus []string
	var pairwise []float64
	for i, cold := range colds {
		took = append(took, cold.took.Round(time.Millisecond).String())
		cpus = append(cpus, fmt.Sprintf("%.2f/%.2f s", cold.cpu, cold.server))
		rssAll = append(rssAll, fmt.Sprintf("%.1f", cold.rss))
		pairwise = append(pairwise, cold.took.Seconds()/ref.runs[i].took.Seconds())
		ratios = append(ratios, fmt.Sprintf("%.2fx", pairwise[i]))
	}
	slices.Sort(pairwise)
	median := slices.SortedFunc(slices.Values(colds), func(a, b coldStart) int { return cmp.Compare(a.took, b.took) })[len(colds)/2]
	fmt.Fprintf(&r, "  certinel's %d cold starts, each right before one run of the reference: %s (RSS at convergence %s MiB); certinel's convergence was %.2fx the reference, median to median (target <= 1.3x); cold start to the reference after it: %s (median %.2fx)\n",
		len(colds), strings.Join(took, ", "), strings.Join(rssAll, ", "), median.took.Seconds()/ref.took.Seconds(), strings.Join(ratios, ", "), pairwise[len(pairwise)/2])
	fmt.Fprintf(&r, "  CPU of certinel / of kube-apiserver and etcd in each cold start: %s; the reference's writers (this process, with its watch): %s\n",
		strings.Join(cpus, ", "), ref.writers())
	return r.String(), nil
}

// coldStart is one cold start of certinel with n annotated Secrets.
type coldStart struct {
	took   time.Duration // until all n held keystore.jks
	rss    float64       // MiB at that moment
	cpu    float64       // certinel's CPU seconds until then
	server float64       // kube-apiserver's and etcd's CPU seconds meanwhile
}

// coldStartAgain makes the n annotated Secrets as they were before
// certinel first started (no outputs, no bookkeeping), then starts the
// stopped certinel and times it until all hold keystore.jks again.
func coldStartAgain(ctx context.Context, c client.Client, cert *framework.Certinel, n int) (coldStart, error) {
	strip := []byte(`{"metadata":{"annotations":{"` + annotations.KeystoresFingerprint + `":null,"` + annotations.ManagedKeys + `":null,"` + annotations.ManagedDigests + `":null}},` +
		`"data":{"` + annotations.KeystoreJKSKey + `":null,"` + annotations.TruststoreJKSKey + `":null}}`)
	if _, err := parallel(n, 16, func(i int) error {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("app-%04d-tls", i)}}
		return c.Patch(ctx, s, client.RawPatch(types.MergePatchType, strip))
	}); err != nil {
		return coldStart{}, err
	}
	obs, err := observeConverged(ctx, n, "app-")
	if err != nil {
		return coldStart{}, err
	}
	start, server := time.Now(), serverCPU()
	if err := cert.Start(ctx); err != nil {
		return coldStart{}, err
	}
	defer cert.Stop()
	converged, err := obs.wait()
	if err != nil {
		return coldStart{}, err
	}
	rss, _ := memory(cert.PID())
	return coldStart{took: converged.Sub(start), rss: rss, cpu: cpuSeconds(cert.PID()), server: serverCPU() - server}, nil
}

// referenceRuns is how often a scenario's reference is measured. On this
// kind of machine one reference alone varies by a fifth from run to run
// (0.99-1.29 s in one process), so the ratio is taken to the median.
const referenceRuns = 3

// reference is the median of referenceRuns measurements of the API server
// alone, with all of them for the report.
type reference struct {
	took          time.Duration // until the observer saw the last write
	returned      time.Duration // until the last write returned, in the median run
	serverSeconds float64       // kube-apiserver and etcd CPU of the median run
	runs          []refRun      // in the order measured
}

// writers is the CPU of the writers in each run, beside the server's.
func (r reference) writers() string {
	var all []string
	for _, run := range r.runs {
		all = append(all, fmt.Sprintf("%.2f/%.2f s", run.writers, run.server))
	}
	return strings.Join(all, ", ")
}

func (r reference) String() string {
	var all []string
	for _, run := range r.runs {
		all = append(all, run.took.Round(time.Millisecond).String())
	}
	return fmt.Sprintf("%s (median of %s; the last write returned after %s; kube-apiserver and etcd CPU %.2f s)",
		r.took.Round(time.Millisecond), strings.Join(all, ", "), r.returned.Round(time.Millisecond), r.serverSeconds)
}

// refRun is one measurement of the reference.
type refRun struct {
	took, returned time.Duration
	server         float64
	writers        float64 // CPU seconds of this process: the writers, and the watch that times them
}

// medianOf measures runs times and returns the median run. before, when
// not nil, runs before every measurement but the first.
func medianOf(runs int, measure func() (refRun, error), before func(i int) error) (reference, error) {
	var done []refRun
	for i := range runs {
		if before != nil && i > 0 {
			if err := before(i); err != nil {
				return reference{}, err
			}
		}
		d, err := measure()
		if err != nil {
			return reference{}, err
		}
		done = append(done, d)
	}
	ref := reference{runs: slices.Clone(done)}
	slices.SortFunc(done, func(a, b refRun) int { return cmp.Compare(a.took, b.took) })
	mid := done[len(done)/2]
	ref.took, ref.returned, ref.serverSeconds = mid.took, mid.returned, mid.server
	return ref, nil
}

// keystoreReference times the API server alone taking the writes certinel
// makes at a cold start: n merge patches from 16 writers, each adding the
// keystore data and bookkeeping annotations certinel wrote on one Secret,
// to n fresh Secrets like the annotated ones. The Secrets are deleted after.
func keystoreReference(ctx context.Context, c client.Client, n int) (refRun, error) {
	var model corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "app-0000-tls"}, &model); err != nil {
		return refRun{}, err
	}
	data, ann := map[string][]byte{}, map[string]string{}
	for k, v := range model.Data {
		if k == "keystore.jks" || k == "truststore.jks" {
			data[k] = v
		}
	}
	for k, v := range model.Annotations {
		if k != "certinel.io/keystores" && strings.HasPrefix(k, "certinel.io/") {
			ann[k] = v
		}
	}
	refs := make([]*corev1.Secret, n)
	if _, err := parallel(n, 16, func(i int) error {
		refs[i] = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("ref-%04d", i),
			Annotations: map[string]string{"bench": "reference"}}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": model.Data["tls.crt"], "tls.key": model.Data["tls.key"], "ca.crt": model.Data["ca.crt"]}}
		return c.Create(ctx, refs[i])
	}); err != nil {
		return refRun{}, err
	}
	obs, err := observeConverged(ctx, n, "ref-")
	if err != nil {
		return refRun{}, err
	}
	server, self, start := serverCPU(), cpuSeconds(os.Getpid()), time.Now()
	returned, err := parallel(n, 16, func(i int) error {
		base := refs[i].DeepCopy()
		for k, v := range data {
			refs[i].Data[k] = v
		}
		for k, v := range ann {
			refs[i].Annotations[k] = v
		}
		return c.Patch(ctx, refs[i], client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	})
	if err != nil {
		return refRun{}, err
	}
	seen, err := obs.wait()
	if err != nil {
		return refRun{}, err
	}
	run := refRun{took: seen.Sub(start), returned: returned, server: serverCPU() - server, writers: cpuSeconds(os.Getpid()) - self}
	_, err = parallel(n, 16, func(i int) error { return c.Delete(ctx, refs[i]) })
	return run, err
}

// hostileSources is the scenario of a tenant whose one Secret names 100
// Secrets of 900 KiB as truststore sources (one small CA certificate and
// 900 KiB of anything else each), then deletes it.
func hostileSources(ctx context.Context, c client.Client, cert *framework.Certinel, r *strings.Builder) error {
	const ns, sources = "hostile", 100
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	junk := make([]byte, 900<<10)
	for i := range junk {
		junk[i] = byte('a' + i%26)
	}
	var refs []string
	for i := range sources {
		ca, err := framework.NewTLS(fmt.Sprintf("source-%d", i), framework.SEC1)
		if err != nil {
			return err
		}
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("src-%03d", i)},
			Data: map[string][]byte{"ca.crt": ca.CA, "junk": junk}}
		if err := c.Create(ctx, s); err != nil {
			return err
		}
		refs = append(refs, "secret:"+s.Name)
	}
	time.Sleep(5 * time.Second) // let certinel's cache take them in
	before, _ := memory(cert.PID())
	tls, err := framework.NewTLS("reader", framework.SEC1)
	if err != nil {
		return err
	}
	reader := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "reader",
		Annotations: map[string]string{"certinel.io/keystores": "jks", "certinel.io/truststore-sources": strings.Join(refs, ",")}},
		Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": tls.Cert, "tls.key": tls.Key, "ca.crt": tls.CA}}
	start := time.Now()
	if err := c.Create(ctx, reader); err != nil {
		return err
	}
	for {
		var s corev1.Secret
		if err := c.Get(ctx, client.ObjectKeyFromObject(reader), &s); err != nil {
			return err
		}
		if len(s.Data["truststore.jks"]) > 0 {
			break
		}
		if time.Since(start) > 2*time.Minute {
			return fmt.Errorf("hostile: no truststore after %s", time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
	read := time.Since(start)
	time.Sleep(5 * time.Second)
	while, _ := memory(cert.PID())
	held, _ := cert.Metric("certinel_sources_held")
	if err := c.Delete(ctx, reader); err != nil {
		return err
	}
	time.Sleep(60 * time.Second)
	after, _ := memory(cert.PID())
	heldAfter, _ := cert.Metric("certinel_sources_held")
	fmt.Fprintf(r, "  hostile sources: one Secret naming %d Secrets of 900 KiB as truststore sources (truststore written in %s)\n", sources, read.Round(time.Millisecond))
	fmt.Fprintf(r, "    RSS %.1f MiB before, %.1f MiB while read (+%.1f MiB, target < 5), %.1f MiB 60 s after the Secret was deleted; sources held %.0f, then %.0f\n",
		before, while, while-before, after, held, heldAfter)
	return nil
}

func createSecrets(ctx context.Context, c client.Client, n int, ann map[string]string) error {
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				tls, err := framework.NewTLS(fmt.Sprintf("app-%d.example.com", i), framework.SEC1, fmt.Sprintf("app-%d.example.com", i))
				if err != nil {
					errs <- err
					continue
				}
				s := &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("app-%04d-tls", i),
						Annotations: ann},
					Type: corev1.SecretTypeTLS,
					Data: map[string][]byte{"tls.crt": tls.Cert, "tls.key": tls.Key, "ca.crt": tls.CA},
				}
				if err := c.Create(ctx, s); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

func createUnrelated(ctx context.Context, c client.Client, n int) error {
	payload := make([]byte, 64<<10)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	for i := 0; i < n; i++ {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("release-%04d", i)},
			Type:       "helm.sh/release.v1",
			Data:       map[string][]byte{"release": payload},
		}
		if err := c.Create(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// createUnrelatedTLS creates n unannotated kubernetes.io/tls Secrets, each
// with its own key pair and a ca.crt of about caKiB KiB of certificates: the
// Secrets of a cluster with cert-manager that certinel is not asked about.
func createUnrelatedTLS(ctx context.Context, c client.Client, n, caKiB int) error {
	if n == 0 {
		return nil
	}
	base, err := framework.NewTLS("unrelated", framework.SEC1, "unrelated.example.com")
	if err != nil {
		return err
	}
	var bundle []byte
	for len(bundle) < caKiB<<10 {
		bundle = append(bundle, base.CA...)
	}
	for i := range n {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("unrelated-%04d-tls", i)},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{"tls.crt": base.Cert, "tls.key": base.Key, "ca.crt": bundle},
		}
		if err := c.Create(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// observeConverged observes metadata only (no data) until n Secrets whose
// names start with prefix list keystore.jks in certinel.io/managed-keys.
func observeConverged(ctx context.Context, n int, prefix string) (*observer, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	return observe(ctx, list, namespace, n, 5*time.Minute, func(o client.Object) bool {
		return strings.HasPrefix(o.GetName(), prefix) && strings.Contains(o.GetAnnotations()["certinel.io/managed-keys"], "keystore.jks")
	})
}

// restarted is what a restart of certinel measured.
type restarted struct {
	took         time.Duration // until controller had reconciled n times
	gets, writes float64       // the new process's GET requests and writes
}

// restartCertinel stops certinel, starts it again (with -restart-binary
// when given), waits until controller has reconciled n times, and then
// 2 s more for any write that would follow.
func restartCertinel(ctx context.Context, cert *framework.Certinel, controller string, n int) (restarted, error) {
	cert.Stop()
	if restartBinary != "" {
		defer func(b string) { cert.Binary = b }(cert.Binary) // later starts are the scenario's again
		cert.Binary = restartBinary
	}
	start := time.Now()
	if err := cert.Start(ctx); err != nil {
		return restarted{}, err
	}
	if err := waitReconciled(cert, controller, n, 2*time.Minute); err != nil {
		return restarted{}, err
	}
	r := restarted{took: time.Since(start)}
	time.Sleep(2 * time.Second)
	r.gets, _ = cert.Metric("rest_client_requests_total", `method="GET"`)
	r.writes, _ = cert.Metric("certinel_writes_total")
	return r, nil
}

// waitReconciled waits until controller has reconciled n times.
func waitReconciled(cert *framework.Certinel, controller string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		v, err := cert.Metric("controller_runtime_reconcile_total", `controller="`+controller+`"`)
		if err == nil && v >= float64(n) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("restart: fewer than %d reconciles of %s after %s", n, controller, timeout)
}

func resourceVersions(ctx context.Context, c client.Client) (map[string]string, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	rvs := make(map[string]string, len(list.Items))
	for _, s := range list.Items {
		rvs[s.Name] = s.ResourceVersion
	}
	return rvs, nil
}

func changedSince(ctx context.Context, c client.Client, before map[string]string) (int, error) {
	now, err := resourceVersions(ctx, c)
	if err != nil {
		return 0, err
	}
	return countChanged(before, now), nil
}

// countChanged counts the names of now whose value is not the one in before.
func countChanged(before, now map[string]string) int {
	changed := 0
	for name, v := range now {
		if before[name] != v {
			changed++
		}
	}
	return changed
}

// startupFloor is the RSS of bin once the Go runtime and every package's
// initialisation have run and before it does anything (the part of
// certinel's memory that no work of its own adds), and how much of it is
// the binary's own pages: bin's offline inspect command is started on a
// named pipe, whose open blocks until a writer comes.
func startupFloor(bin string) (rss, file float64, err error) {
	dir, err := os.MkdirTemp("", "certinel-floor")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	fifo := filepath.Join(dir, "input")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(bin, "inspect", fifo)
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	// Blocked in open(2) once its RSS stops growing.
	last := -1.0
	for range 100 {
		time.Sleep(50 * time.Millisecond)
		st := procStatus(cmd.Process.Pid)
		if st["VmRSS"] > 0 && st["VmRSS"] == last {
			return st["VmRSS"], st["RssFile"], nil
		}
		last = st["VmRSS"]
	}
	return 0, 0, fmt.Errorf("its RSS did not settle in 5 s")
}

// memory returns VmRSS and VmHWM of pid in MiB.
func memory(pid int) (rss, hwm float64) {
	st := procStatus(pid)
	return st["VmRSS"], st["VmHWM"]
}

// procStatus is the memory figures of /proc/PID/status (VmRSS, VmHWM,
// RssFile, ...) in MiB.
func procStatus(pid int) map[string]float64 {
	out := map[string]float64{}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[2] == "kB" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			out[strings.TrimSuffix(f[0], ":")] = kb / 1024
		}
	}
	return out
}

// cpuSeconds is the user and system CPU time of pid.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// fields after the command name, which is in parentheses
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// serverCPU is the CPU time of the control plane the bench started (every
// kube-apiserver and etcd process), to show where the time of a phase went.
func serverCPU() float64 {
	entries, _ := os.ReadDir("/proc")
	total := 0.0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		switch strings.TrimSpace(string(comm)) {
		case "kube-apiserver", "etcd":
			total += cpuSeconds(pid)
		}
	}
	return total
}

// goMemory is where certinel's memory is, as the Go runtime sees it: the
// heap in use, heap memory kept for reuse (not yet returned to the OS), and
// the rest of what the runtime took from the OS.
func goMemory(cert *framework.Certinel) string {
	m, err := cert.Scrape()
	if err != nil {
		return err.Error()
	}
	mib := func(name string) float64 { v, _ := m.Sum("go_memstats_" + name + "_bytes"); return v / (1 << 20) }
	return fmt.Sprintf("Go heap in use %.1f MiB, heap kept free %.1f MiB, other runtime memory %.1f MiB (stacks %.1f, GC metadata %.1f, spans %.1f, other %.1f); RSS of the binary's own pages %.1f MiB",
		mib("heap_inuse"), mib("heap_idle")-mib("heap_released"), mib("sys")-mib("heap_sys"),
		mib("stack_sys"), mib("gc_sys"), mib("mspan_sys"), mib("other_sys")+mib("mcache_sys")+mib("buck_hash_sys"), procStatus(cert.PID())["RssFile"])
}
