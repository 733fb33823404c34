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
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
// metadata) and then follows the readers through a handler on their
// informer (Follow), on every replica that runs that informer: the handler
// sees only what reached the informer's store, in order, deletions
// included (the transform also sees objects of a list that failed and was
// retried). Once the informer has synced, what the seed found of readers
// deleted before the informer listed them is dropped. (A standby runs no
// Route informer: it keeps what the seed found of Routes until it leads.)
// A Secret that becomes a source after it was cached keeps its data from
// its next change on, and is read from the API server until then; one that
// stops being a source is trimmed whole at its next change.
type PairSources struct {
	mu       sync.RWMutex
	byReader map[string]pairRead          // "Route ns/name" → what it reads
	readers  map[types.NamespacedName]int // Secret → number of readers
}

// pairRead is the Secret one reader, identified by its UID, reads.
type pairRead struct {
	uid    types.UID
	secret types.NamespacedName
	// seeded: only Seed has seen the reader, not yet its informer.
	seeded bool
}

// NewPairSources returns an empty set.
func NewPairSources() *PairSources {
	return &PairSources{byReader: map[string]pairRead{}, readers: map[types.NamespacedName]int{}}
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

// observe records what the Route or Ingress o, with annotations ann
// (translated), reads; kind is "Route" or "Ingress".
func (p *PairSources) observe(kind string, o metav1.Object, ann map[string]string) {
	p.record(kind, o, ann, false)
}

// record is observe, by Seed when seeded.
func (p *PairSources) record(kind string, o metav1.Object, ann map[string]string, seeded bool) {
	if p == nil {
		return
	}
	ns := o.GetNamespace()
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
	p.mu.Lock()
	defer p.mu.Unlock()
	reader := readerKey(kind, o)
	now := pairRead{uid: o.GetUID(), secret: types.NamespacedName{Namespace: ns, Name: secret}, seeded: seeded}
	if prev, ok := p.byReader[reader]; ok {
		if prev.uid == now.uid && prev.secret == now.secret {
			p.byReader[reader] = now
			return
		}
		p.drop(reader, prev)
	}
	if secret != "" {
		p.byReader[reader] = now
		p.readers[now.secret]++
	}
}

// forget drops what the deleted Route or Ingress o read, unless a reader of
// the same name but another UID (created since) has replaced it.
func (p *PairSources) forget(kind string, o metav1.Object) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	reader := readerKey(kind, o)
	if prev, ok := p.byReader[reader]; ok && prev.uid == o.GetUID() {
		p.drop(reader, prev)
	}
}

// drop removes reader's read; p.mu is held.
func (p *PairSources) drop(reader string, r pairRead) {
	delete(p.byReader, reader)
	if p.readers[r.secret]--; p.readers[r.secret] <= 0 {
		delete(p.readers, r.secret)
	}
}

func readerKey(kind string, o metav1.Object) string {
	return kind + " " + o.GetNamespace() + "/" + o.GetName()
}

// followPairs makes the PairSources of sources (if any) follow the
// informer of obj, of kind. Call it before anything else asks for that
// informer: on a cache that runs already, the informer starts at once, and
// a handler added later would miss a reader deleted in between.
func followPairs(ctx context.Context, mgr ctrl.Manager, sources *SourceReader, obj client.Object, kind string) error {
	if sources == nil || sources.pairs == nil {
		return nil
	}
	inf, err := mgr.GetCache().GetInformer(ctx, obj, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	return sources.pairs.Follow(ctx, inf, kind)
}

// settle drops the readers of kind that only Seed saw: its informer has
// synced without them, so they were deleted in between.
func (p *PairSources) settle(kind string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for reader, r := range p.byReader {
		if r.seeded && strings.HasPrefix(reader, kind+" ") {
			p.drop(reader, r)
		}
	}
}

// informer is what Follow needs of an informer.
type informer interface {
	AddEventHandler(toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error)
	HasSynced() bool
}

// Follow records, through a handler on inf (the informer of kind, whose
// cache holds translated annotations), what each Route or Ingress reads,
// forgets those deleted, and once inf has synced, those the seed found
// that it did not.
func (p *PairSources) Follow(ctx context.Context, inf informer, kind string) error {
	if p == nil {
		return nil
	}
	observe := func(obj any) {
		if o, ok := obj.(metav1.Object); ok {
			p.observe(kind, o, o.GetAnnotations())
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj any) { observe(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if o, ok := obj.(metav1.Object); ok {
				p.forget(kind, o)
			}
		},
	}); err != nil {
		return err
	}
	go func() {
		if toolscache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			p.settle(kind)
		}
	}()
	return nil
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
// set only saves reads, and the readers still read what it lacks.
func (p *PairSources) Seed(ctx context.Context, c metadata.Interface, namespaces []string, routes bool, translate func(kind string, ann map[string]string) map[string]string) {
	log := logf.FromContext(ctx)
	// An API server that does not answer delays the start by this much at
	// most: the manager then starts and waits for it as it always does.
	ctx, cancel := context.WithTimeout(ctx, seedTimeout)
	defer cancel()
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	for _, r := range pairReaders {
		if r.kind == "Route" && !routes {
			continue
		}
		for _, ns := range namespaces {
			opts := metav1.ListOptions{Limit: 500}
			for {
				list, err := c.Resource(r.gvr).Namespace(ns).List(ctx, opts)
				if err != nil {
					if !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
						log.Info("cannot list readers of TLS Secrets; their Secrets are read from the API server", "kind", r.kind, "namespace", ns, "error", err.Error())
					}
					break
				}
				for i := range list.Items {
					o := &list.Items[i]
					p.record(r.kind, o, translate(r.kind, o.Annotations), true)
				}
				if opts.Continue = list.Continue; opts.Continue == "" {
					break
				}
			}
		}
	}
}
