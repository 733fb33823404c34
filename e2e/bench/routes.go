package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	routev1 "github.com/openshift/api/route/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
)

// extraFlags are passed to every certinel the bench starts (-certinel-flags).
var extraFlags []string

// parallel runs do(i) for i in [0, n) on writers goroutines and returns
// the first error and how long it all took.
func parallel(n, writers int, do func(i int) error) (time.Duration, error) {
	start := time.Now()
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := do(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return time.Since(start), <-errs
}

// routeTLS is the apply configuration certinel writes on a Route: its
// spec.tls fields, and the list of them in certinel.io/managed-fields.
func routeTLS(ns, name string, tls *framework.TLS) *unstructured.Unstructured {
	a := &unstructured.Unstructured{}
	a.SetGroupVersionKind(routev1.GroupVersion.WithKind("Route"))
	a.SetNamespace(ns)
	a.SetName(name)
	a.SetAnnotations(map[string]string{"certinel.io/managed-fields": "caCertificate,certificate,key,termination"})
	_ = unstructured.SetNestedStringMap(a.Object, map[string]string{
		"termination": "edge", "certificate": string(tls.Cert), "key": string(tls.Key), "caCertificate": string(tls.CA),
	}, "spec", "tls")
	return a
}

func newRoute(ns, name string, ann map[string]string) *routev1.Route {
	return &routev1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann},
		Spec: routev1.RouteSpec{Host: name + ".example.com", To: routev1.RouteTargetReference{Kind: "Service", Name: "web"}}}
}

// observeRoutes observes the Routes of the bench's namespace until n hold
// certinel's fields (certinel.io/managed-fields names the certificate).
// It watches metadata: certinel sets the annotation in the same apply as
// the fields, and a watch of whole Routes (JSON, with their keys) would
// load the API server and this machine's CPU that certinel shares. The
// fields themselves are checked once after.
func observeRoutes(ctx context.Context, n int) (*observer, error) {
	routes := &metav1.PartialObjectMetadataList{}
	routes.SetGroupVersionKind(routev1.GroupVersion.WithKind("RouteList"))
	return observe(ctx, routes, namespace, n, 5*time.Minute, func(o client.Object) bool {
		return strings.Contains(o.GetAnnotations()["certinel.io/managed-fields"], "certificate")
	})
}

// routesScenario: n Routes, each reading its own TLS Secret, exist before
// certinel starts. The reference is the API server alone taking the same n
// Route applies from 16 writers, measured in the same run.
func routesScenario(ctx context.Context, c client.Client, bin, kubeconfig, logDir string, n int, quiet time.Duration, r *strings.Builder) error {
	tlsFor := make([]*framework.TLS, n)
	if _, err := parallel(n, 8, func(i int) error {
		var err error
		tlsFor[i], err = framework.NewTLS(fmt.Sprintf("r%d.example.com", i), framework.SEC1, fmt.Sprintf("r%04d.example.com", i))
		return err
	}); err != nil {
		return err
	}
	// The reference: the API server alone. Its Routes are deleted before
	// certinel starts, so certinel's cache holds n Routes, not 2n. Only the
	// first of its runs is profiled: the reference's kube-apiserver profile
	// must end before certinel's starts, as the API server runs one CPU
	// profile at a time.
	profiled := false
	ref, err := medianOf(referenceRuns, func() (refRun, error) {
		if _, err := parallel(n, 16, func(i int) error { return c.Create(ctx, newRoute(namespace, fmt.Sprintf("ref-%04d", i), nil)) }); err != nil {
			return refRun{}, err
		}
		server := serverCPU()
		profileDone := make(chan struct{})
		if serverProfile != "" && !profiled {
			profiled = true
			go func() {
				defer close(profileDone)
				if err := fetchServerProfile(serverProfile + ".reference"); err != nil {
					fmt.Fprintln(os.Stderr, "bench: kube-apiserver profile:", err)
				}
			}()
			time.Sleep(100 * time.Millisecond)
		} else {
			close(profileDone)
		}
		obs, err := observeRoutes(ctx, n)
		if err != nil {
			return refRun{}, err
		}
		start := time.Now()
		returned, err := parallel(n, 16, func(i int) error {
			return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(routeTLS(namespace, fmt.Sprintf("ref-%04d", i), tlsFor[i])),
				client.FieldOwner("bench"), client.ForceOwnership)
		})
		if err != nil {
			return refRun{}, err
		}
		seen, err := obs.wait()
		if err != nil {
			return refRun{}, err
		}
		run := refRun{took: seen.Sub(start), returned: returned, server: serverCPU() - server}
		if _, err := parallel(n, 16, func(i int) error { return c.Delete(ctx, newRoute(namespace, fmt.Sprintf("ref-%04d", i), nil)) }); err != nil {
			return refRun{}, err
		}
		<-profileDone
		return run, nil
	}, nil)
	if err != nil {
		return err
	}
	if _, err := parallel(n, 16, func(i int) error {
		name := fmt.Sprintf("r%04d", i)
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-tls"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": tlsFor[i].Cert, "tls.key": tlsFor[i].Key, "ca.crt": tlsFor[i].CA}}
		if err := c.Create(ctx, s); err != nil {
			return err
		}
		return c.Create(ctx, newRoute(namespace, name, map[string]string{"certinel.io/certs-from-secret": name + "-tls"}))
	}); err != nil {
		return err
	}
	fmt.Fprintf(r, "routes: %d Routes, each with certinel.io/certs-from-secret naming its own TLS Secret, created before certinel starts\n", n)
	fmt.Fprintf(r, "  reference: the API server alone took the same %d Route applies from 16 writers in %s, as seen by the watch that times certinel too\n", n, ref)

	obs, err := observeRoutes(ctx, n)
	if err != nil {
		return err
	}
	procStart, serverStart := time.Now(), serverCPU()
	cert, err := framework.StartCertinel(ctx, bin, kubeconfig, logDir+"/certinel-routes.log", extraFlags...)
	if err != nil {
		return err
	}
	defer cert.Stop()
	if cpuProfile != "" || serverProfile != "" {
		defer func(done chan struct{}) { <-done }(profileColdStart())
	}
	filled, err := obs.wait()
	if err != nil {
		return fmt.Errorf("routes: %w", err)
	}
	took := filled.Sub(procStart)
	var list routev1.RouteList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return err
	}
	for i, rt := range list.Items {
		leaf, _ := pem.Decode(tlsFor[i].Cert)
		if got := []byte(nil); rt.Spec.TLS != nil {
			if b, _ := pem.Decode([]byte(rt.Spec.TLS.Certificate)); b != nil {
				got = b.Bytes
			}
			if !bytes.Equal(got, leaf.Bytes) {
				return fmt.Errorf("routes: Route %s does not hold the certificate of its Secret", rt.Name)
			}
		}
	}
	rss, hwm := memory(cert.PID())
	cpu, server := cpuSeconds(cert.PID()), serverCPU()-serverStart
	profileHeap()
	fmt.Fprintf(r, "  all %d Routes hold their certificate %s after certinel started: %.2fx the reference (target <= 1.5x); %s\n", n, took.Round(time.Millisecond), took.Seconds()/ref.took.Seconds(), progressSince(procStart))
	coldGets, _ := cert.Metric("rest_client_requests_total", `method="GET"`)
	fmt.Fprintf(r, "  certinel CPU until then: %.2f s; kube-apiserver and etcd CPU meanwhile: %.2f s; %.0f GET requests (Secrets read from the API server, and discovery)\n", cpu, server, coldGets)
	fmt.Fprintf(r, "  certinel RSS %.1f MiB, peak %.1f MiB (target < 80 MiB with %d Routes and %d Secrets); %s\n", rss, hwm, n, n, goMemory(cert))
	before, _ := cert.Metric("certinel_writes_total", `controller="routes"`)
	time.Sleep(quiet)
	after, _ := cert.Metric("certinel_writes_total", `controller="routes"`)
	fmt.Fprintf(r, "  quiet %s: %.0f Route writes (target 0)\n", quiet, after-before)
	cert.Stop()
	if err := cert.Start(ctx); err != nil {
		return err
	}
	if err := waitIdle(cert, "routes", n, 2*time.Minute); err != nil {
		return err
	}
	restart, _ := cert.Metric("certinel_writes_total", `controller="routes"`)
	gets, _ := cert.Metric("rest_client_requests_total", `method="GET"`)
	fmt.Fprintf(r, "  restart: %.0f Route writes (target 0), %.0f GET requests (the Secrets read from the API server, and discovery)\n", restart, gets)
	return nil
}

// observeCAs observes the ConfigMaps of ns whose names start with prefix
// until n hold want certificates in ca.crt.
func observeCAs(ctx context.Context, ns string, n int, prefix string, want int) (*observer, error) {
	return observe(ctx, &corev1.ConfigMapList{}, ns, n, 5*time.Minute, func(o client.Object) bool {
		cm := o.(*corev1.ConfigMap)
		return strings.HasPrefix(cm.Name, prefix) && strings.Count(cm.Data["ca.crt"], "BEGIN CERTIFICATE") == want
	})
}

// injectScenario: n ConfigMaps read one CA Secret; the Secret's CA
// rotates, and every ConfigMap must hold the new CA and the previous one.
func injectScenario(ctx context.Context, c client.Client, cert *framework.Certinel, n int, r *strings.Builder) error {
	const ns = "inject"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	first, err := framework.NewTLS("ca-one", framework.SEC1)
	if err != nil {
		return err
	}
	second, err := framework.NewTLS("ca-two", framework.SEC1)
	if err != nil {
		return err
	}
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "root-ca"}, Data: map[string][]byte{"ca.crt": first.CA}}); err != nil {
		return err
	}
	// The reference: the API server alone taking n ConfigMap applies, to
	// ConfigMaps made for each run and deleted after it.
	ref, err := medianOf(referenceRuns, func() (refRun, error) {
		name := func(i int) string { return fmt.Sprintf("ref-%04d", i) }
		if _, err := parallel(n, 16, func(i int) error {
			return c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name(i)}})
		}); err != nil {
			return refRun{}, err
		}
		obs, err := observeCAs(ctx, ns, n, "ref-", 2)
		if err != nil {
			return refRun{}, err
		}
		server, start := serverCPU(), time.Now()
		returned, err := parallel(n, 16, func(i int) error {
			a := &unstructured.Unstructured{}
			a.SetAPIVersion("v1")
			a.SetKind("ConfigMap")
			a.SetNamespace(ns)
			a.SetName(name(i))
			_ = unstructured.SetNestedField(a.Object, string(second.CA)+string(first.CA), "data", "ca.crt")
			return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(a), client.FieldOwner("bench"))
		})
		if err != nil {
			return refRun{}, err
		}
		seen, err := obs.wait()
		if err != nil {
			return refRun{}, err
		}
		run := refRun{took: seen.Sub(start), returned: returned, server: serverCPU() - server}
		_, err = parallel(n, 16, func(i int) error {
			return c.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name(i)}})
		})
		return run, err
	}, nil)
	if err != nil {
		return err
	}
	if _, err := parallel(n, 16, func(i int) error {
		return c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("trust-%04d", i),
			Annotations: map[string]string{"certinel.io/inject-ca-from": "root-ca"}}})
	}); err != nil {
		return err
	}
	one, err := observeCAs(ctx, ns, n, "trust-", 1)
	if err != nil {
		return err
	}
	if _, err := one.wait(); err != nil {
		return fmt.Errorf("inject: not all %d ConfigMaps hold the CA: %w", n, err)
	}
	two, err := observeCAs(ctx, ns, n, "trust-", 2)
	if err != nil {
		return err
	}
	start := time.Now()
	var s corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "root-ca"}, &s); err != nil {
		return err
	}
	s.Data["ca.crt"] = second.CA
	if err := c.Update(ctx, &s); err != nil {
		return err
	}
	seen, err := two.wait()
	if err != nil {
		return fmt.Errorf("inject: not all %d ConfigMaps hold both CAs: %w", n, err)
	}
	took := seen.Sub(start)
	fmt.Fprintf(r, "  CA rotation of one Secret read by %d ConfigMaps: all hold the new CA and the previous one %s after the update; the API server alone took the same %d applies in %s (%.2fx)\n",
		n, took.Round(time.Millisecond), n, ref, took.Seconds()/ref.took.Seconds())
	return nil
}

// waitIdle waits until controller has done at least min reconciles since
// the process started and has nothing queued or in progress.
func waitIdle(cert *framework.Certinel, controller string, min int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		done, _ := cert.Metric("controller_runtime_reconcile_total", `controller="`+controller+`"`)
		queued, _ := cert.Metric("workqueue_depth", `name="`+controller+`"`)
		active, _ := cert.Metric("controller_runtime_active_workers", `controller="`+controller+`"`)
		if done >= float64(min) && queued == 0 && active == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s: not idle after %s", controller, timeout)
}
