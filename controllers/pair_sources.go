package controllers

import (
	"context"
	"strings"
	"sync"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	routev1 "github.com/openshift/api/route/v1"

	"github.com/certinel/certinel/pkg/annotations"
)

// pairKeys are the data keys a Route or an Ingress reads from the Secret
// its certinel.io/certs-from-secret names (pairParser).
var pairKeys = []string{annotations.TLSCertKey, annotations.TLSKeyKey, annotations.CACertKey}

// maxKeptPair bounds what the cache keeps of one such Secret: a TLS
// Secret's certificate chain, key and CAs take a few KiB; a larger one is
// trimmed as any other Secret and read from the API server when a reader
// needs it.
const maxKeptPair = 64 << 10

// PairSources are the Secrets that Routes and Ingresses read as key pairs
// (certinel.io/certs-from-secret) in their own namespace. The cache keeps
// the TLS keys of these Secrets (tls.crt, tls.key, ca.crt, no other key),
// which the transform would otherwise drop as for any Secret that asks
// certinel for nothing: a cold start or a restart with a thousand Routes
// then reads their Secrets from the watch it already has, instead of one
// GET each. A Secret in another namespace (an Ingress's, with the source's
// consent) is not kept: no reader's annotation makes certinel hold another
// namespace's key in memory.
//
// The set is seeded before the cache starts (Seed lists the readers'
// metadata) and follows the readers as the cache transform sees them; a
// reader that is deleted is forgotten by its reconcile. A Secret that
// becomes a source after it was cached keeps its data from its next change
// on, and is read from the API server until then.
type PairSources struct {
	mu       sync.RWMutex
	byReader map[string]types.NamespacedName // "Route ns/name" → the Secret it reads
	readers  map[types.NamespacedName]int    // Secret → number of readers
}

// NewPairSources returns an empty set.
func NewPairSources() *PairSources {
	return &PairSources{byReader: map[string]types.NamespacedName{}, readers: map[types.NamespacedName]int{}}
}

// Has reports whether a reader reads the Secret ns/name as a key pair.
func (p *PairSources) Has(ns, name string) bool {
	if p == nil {
		return false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.readers[types.NamespacedName{Namespace: ns, Name: name}] > 0
}

// observe records what the Route or Ingress ns/name with annotations ann
// (translated) reads; kind is "Route" or "Ingress".
func (p *PairSources) observe(kind, ns, name string, ann map[string]string) {
	if p == nil {
		return
	}
	var secret string
	switch kind {
	case "Route":
		if spec, asks, err := annotations.ParseRouteSpec(ann); err == nil && asks {
			secret = spec.CertsFrom
		}
	case "Ingress":
		if ref, asks, err := annotations.ParseIngressSecret(ns, ann); err == nil && asks && ref.Namespace == ns {
			secret = ref.Name
		}
	}
	p.set(kind+" "+ns+"/"+name, ns, secret)
}

// forget drops what the deleted Route or Ingress ns/name read.
func (p *PairSources) forget(kind, ns, name string) {
	if p != nil {
		p.set(kind+" "+ns+"/"+name, ns, "")
	}
}

// set makes reader read the Secret ns/secret, or nothing when secret is "".
func (p *PairSources) set(reader, ns, secret string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev, had := p.byReader[reader]
	if had && prev.Namespace == ns && prev.Name == secret {
		return
	}
	if had {
		if p.readers[prev]--; p.readers[prev] <= 0 {
			delete(p.readers, prev)
		}
		delete(p.byReader, reader)
	}
	if secret != "" {
		k := types.NamespacedName{Namespace: ns, Name: secret}
		p.byReader[reader] = k
		p.readers[k]++
	}
}

// seedTimeout bounds Seed.
const seedTimeout = 30 * time.Second

// pairReaders are the kinds whose certs-from-secret Seed lists.
var pairReaders = []struct {
	kind string
	gvr  schema.GroupVersionResource
}{
	{"Route", routev1.GroupVersion.WithResource("routes")},
	{"Ingress", networkingv1.SchemeGroupVersion.WithResource("ingresses")},
}

// Seed lists the metadata of every Route (when routes) and Ingress in
// namespaces (all when empty) and records what they read, before the cache
// lists the Secrets: their TLS keys are then kept from the first list on.
// translate gives an object's effective annotations (compatibility modes).
// A kind that is not served, or that certinel may not list, is skipped: the
// set only saves reads, and the readers still read what it lacks. It
// reports whether Routes could be listed in every namespace: the API server
// serves them.
func (p *PairSources) Seed(ctx context.Context, c metadata.Interface, namespaces []string, routes bool, translate func(kind string, ann map[string]string) map[string]string) (routesListed bool) {
	log := logf.FromContext(ctx)
	// An API server that does not answer delays the start by this much at
	// most: the manager then starts and waits for it as it always does.
	ctx, cancel := context.WithTimeout(ctx, seedTimeout)
	defer cancel()
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	routesListed = routes
	for _, r := range pairReaders {
		if r.kind == "Route" && !routes {
			continue
		}
		for _, ns := range namespaces {
			opts := metav1.ListOptions{Limit: 500}
			for {
				list, err := c.Resource(r.gvr).Namespace(ns).List(ctx, opts)
				if err != nil {
					if r.kind == "Route" {
						routesListed = false
					}
					if !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
						log.Info("cannot list readers of TLS Secrets; their Secrets are read from the API server", "kind", r.kind, "namespace", ns, "error", err.Error())
					}
					break
				}
				for i := range list.Items {
					o := &list.Items[i]
					if ann := o.Annotations; len(ann) > 0 && hasPairAnnotation(ann) {
						p.observe(r.kind, o.Namespace, o.Name, translate(r.kind, ann))
					}
				}
				if opts.Continue = list.Continue; opts.Continue == "" {
					break
				}
			}
		}
	}
	return routesListed
}

// hasPairAnnotation is a quick look for an annotation that may name a key
// pair (certinel's or a compatibility mode's certs-from-secret).
func hasPairAnnotation(ann map[string]string) bool {
	for k := range ann {
		if strings.HasSuffix(k, "/certs-from-secret") {
			return true
		}
	}
	return false
}
