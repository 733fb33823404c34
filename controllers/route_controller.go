package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	routev1 "github.com/openshift/api/route/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/route"
)

const routeController = "routes"

// Event reasons of the Route controller besides the badinput reasons.
const (
	ReasonRouteUpdated = "RouteUpdated"
	ReasonRouteCleared = "RouteFieldsRemoved"
)

// routeSecretIndex maps a Route to the Secrets it reads ("ns/name").
const routeSecretIndex = "certinel.io/route-secrets"

// RouteReconciler fills the spec.tls fields of OpenShift Routes from TLS
// Secrets in their namespace (section 3 of the contract). It applies only
// the fields it manages, under field manager certinel, and records them in
// certinel.io/managed-fields: a Route keeps its own certificate when only
// its destination CA comes from certinel, and removing the annotations
// removes exactly certinel's fields.
type RouteReconciler struct {
	Client   client.Client
	Sources  *SourceReader
	Recorder events.EventRecorder
	// readerIndex finds the objects that read a source (set with the manager).
	readerIndex *readerIndex
}

// Reconcile brings the TLS fields of one Route up to date.
func (r *RouteReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rd := r.Sources.begin(routeController+":"+req.String(), req.Namespace, "a Secret")
	defer rd.done()
	var rt routev1.Route
	if err := r.Client.Get(ctx, req.NamespacedName, &rt); err != nil || rt.DeletionTimestamp != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	warnCompat(ctx, r.Recorder, routeController, &rt)
	spec, asks, err := annotations.ParseRouteSpec(rt.Annotations)
	if err != nil {
		return r.invalid(ctx, &rt, err)
	}
	managed := splitFields(rt.Annotations[annotations.ManagedFields])
	if !asks {
		if len(managed) == 0 {
			return ctrl.Result{}, nil
		}
		if err := r.apply(ctx, &rt, nil); err != nil {
			return r.invalid(ctx, &rt, err)
		}
		r.event(&rt, corev1.EventTypeNormal, ReasonRouteCleared, "Remove", "removed the spec.tls fields certinel set ("+strings.Join(managed, ", ")+"), as the annotations no longer ask for them")
		return ctrl.Result{}, nil
	}
	in := route.Inputs{Spec: spec}
	if spec.CertsFrom != "" {
		pair, err := rd.keyPair(ctx, secretRef(rt.Namespace, spec.CertsFrom, ""), "Secret "+spec.CertsFrom+" (from "+annotations.CertsFromSecret+")", badinput.MissingSecret, false)
		if err != nil {
			return r.invalid(ctx, &rt, err)
		}
		in.Pair = pair.route
	}
	if spec.DestinationCAFrom != "" {
		what := "Secret " + spec.DestinationCAFrom + " (from " + annotations.DestinationCAFromSecret + ")"
		if in.DestinationCAs, err = rd.certificates(ctx, secretRef(rt.Namespace, spec.DestinationCAFrom, annotations.CACertKey), what, badinput.MissingSecret); err != nil {
			return r.invalid(ctx, &rt, err)
		}
	}
	fields, err := route.Desired(in, currentRoute(&rt, managed))
	if err != nil {
		return r.invalid(ctx, &rt, err)
	}
	if !routeUpToDate(&rt, managed, fields) {
		if err := r.apply(ctx, &rt, fields); err != nil {
			return r.invalid(ctx, &rt, err)
		}
		r.event(&rt, corev1.EventTypeNormal, ReasonRouteUpdated, "Write", "set spec.tls "+strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		logf.FromContext(ctx).Info("updated Route", "fields", slices.Sorted(maps.Keys(fields)))
	}
	if in.Pair != nil {
		if hosts := in.Pair.Uncovered(rt.Spec.Host); len(hosts) > 0 {
			r.event(&rt, corev1.EventTypeWarning, badinput.CertificateHostMismatch, "Validate", fmt.Sprintf(
				"the certificate of Secret %s does not cover host %s (it was applied all the same); issue it for that host", spec.CertsFrom, strings.Join(hosts, ", ")))
		}
	}
	return ctrl.Result{}, nil
}

func secretRef(ns, name, key string) annotations.SourceRef {
	return annotations.SourceRef{Kind: annotations.SecretSource, Namespace: ns, Name: name, Key: key}
}

func splitFields(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func currentRoute(rt *routev1.Route, managed []string) route.Current {
	cur := route.Current{Managed: managed}
	if tls := rt.Spec.TLS; tls != nil {
		cur.Termination = string(tls.Termination)
		cur.ExternalCertificate = tls.ExternalCertificate != nil
	}
	return cur
}

// tlsFields are the spec.tls fields of a Route, by their names in pkg/route.
func tlsFields(rt *routev1.Route) map[string]string {
	tls := rt.Spec.TLS
	if tls == nil {
		return map[string]string{}
	}
	return map[string]string{
		route.Termination: string(tls.Termination), route.Certificate: tls.Certificate, route.Key: tls.Key,
		route.CACertificate: tls.CACertificate, route.DestinationCACertificate: tls.DestinationCACertificate,
	}
}

// routeUpToDate reports a Route that holds fields and on which certinel
// manages exactly those.
func routeUpToDate(rt *routev1.Route, managed []string, fields map[string]string) bool {
	cur := tlsFields(rt)
	for k, v := range fields {
		if cur[k] != v {
			return false
		}
	}
	return slices.Equal(slices.Sorted(slices.Values(managed)), slices.Sorted(maps.Keys(fields)))
}

// apply applies fields (nil: none) as certinel's spec.tls of rt, with the
// list of them in certinel.io/managed-fields. The fields certinel is asked
// to manage are its own, so ownership is forced.
func (r *RouteReconciler) apply(ctx context.Context, rt *routev1.Route, fields map[string]string) error {
	a := &unstructured.Unstructured{}
	a.SetGroupVersionKind(routev1.GroupVersion.WithKind("Route"))
	a.SetNamespace(rt.Namespace)
	a.SetName(rt.Name)
	if len(fields) > 0 {
		a.SetAnnotations(map[string]string{annotations.ManagedFields: strings.Join(slices.Sorted(maps.Keys(fields)), ",")})
		for k, v := range fields {
			_ = unstructured.SetNestedField(a.Object, v, "spec", "tls", k)
		}
	}
	return recordWrite(routeController, "apply", "Route "+rt.Name, applyFields(ctx, r.Client, a, true))
}

func (r *RouteReconciler) invalid(ctx context.Context, rt *routev1.Route, err error) (ctrl.Result, error) {
	return reportInvalid(ctx, r.Recorder, routeController, rt, err)
}

func (r *RouteReconciler) event(rt *routev1.Route, eventType, reason, action, note string) {
	emit(r.Recorder, rt, eventType, reason, action, note)
}

// SetupWithManager registers the Secret index and the watches.
func (r *RouteReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrency int) error {
	// First: once the cache runs (the Routes controller may start late), an
	// informer starts as soon as it is asked for.
	if err := followPairs(ctx, mgr, r.Sources, &routev1.Route{}, "Route"); err != nil {
		return err
	}
	var err error
	if r.readerIndex, err = indexReaders(ctx, mgr, &routev1.Route{}, routeSecretIndex, indexRouteSecrets); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(routeController).
		WatchesRawSource(watchObjects(mgr, &routev1.Route{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		WatchesRawSource(watchReaders(mgr, r.Sources, &corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.readers))).
		Complete(r)
}

func indexRouteSecrets(obj client.Object) []string {
	spec, asks, err := annotations.ParseRouteSpec(obj.GetAnnotations())
	if err != nil || !asks {
		return nil
	}
	var out []string
	for _, name := range []string{spec.CertsFrom, spec.DestinationCAFrom} {
		if name != "" {
			out = append(out, obj.GetNamespace()+"/"+name)
		}
	}
	return out
}

// readers maps a Secret to the Routes that read it.
func (r *RouteReconciler) readers(ctx context.Context, obj client.Object) []reconcile.Request {
	found, err := r.readerIndex.find(ctx, r.Client, func() client.ObjectList { return &routev1.RouteList{} }, routeSecretIndex, obj.GetNamespace()+"/"+obj.GetName())
	if err != nil {
		logf.FromContext(ctx).Error(err, "cannot list the Routes that read a Secret", "secret", client.ObjectKeyFromObject(obj))
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(found))
	for _, rt := range found {
		reqs = append(reqs, request(rt.Namespace, rt.Name))
	}
	return reqs
}
