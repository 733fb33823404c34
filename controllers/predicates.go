package controllers

import (
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// notInitialList drops the Create events of an informer's initial list
// from a watch that maps a source (a Secret or ConfigMap) to the objects
// that read it. Those events wake no one who is not woken anyway: every
// reader gets its own initial event, and a controller works only once all
// its watches have synced, so each reader then reads its sources as they
// are. At a cold start with 1000 Secrets, this spares each such watch 1000
// index lookups (a tenth of certinel's allocations in make bench when each
// lookup was a List; readerIndex has made them cheaper since).
var notInitialList = predicate.Funcs{CreateFunc: func(e event.CreateEvent) bool { return !e.IsInInitialList }}
