package main

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// watcher reads what the bench waits for through a watch (set in run).
// Polling with a LIST instead would load the API server it measures: a
// list of 1000 Secrets or 2000 Routes every 50 ms is a read of every one
// of them from etcd.
var watcher client.WithWatch

// waitCount returns the moment at least n objects of list's kind in
// namespace satisfy done. It lists once, then follows a watch; each event
// costs the API server one object sent, as it does for certinel.
func waitCount(ctx context.Context, list client.ObjectList, namespace string, n int, timeout time.Duration, done func(client.Object) bool) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	state, satisfied := map[string]bool{}, 0
	set := func(obj client.Object, ok bool) {
		if state[obj.GetName()] {
			satisfied--
		}
		if ok {
			satisfied++
			state[obj.GetName()] = true
		} else {
			delete(state, obj.GetName())
		}
	}
	for {
		if err := watcher.List(ctx, list, client.InNamespace(namespace)); err != nil {
			return time.Time{}, err
		}
		clear(state)
		satisfied = 0
		if err := meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			set(obj, done(obj))
			return nil
		}); err != nil {
			return time.Time{}, err
		}
		if satisfied >= n {
			return time.Now(), nil
		}
		rv, err := meta.NewAccessor().ResourceVersion(list)
		if err != nil {
			return time.Time{}, err
		}
		w, err := watcher.Watch(ctx, list, client.InNamespace(namespace), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
		if err != nil {
			return time.Time{}, err
		}
		for ev := range w.ResultChan() {
			obj, ok := ev.Object.(client.Object)
			if !ok || ev.Type == watch.Error {
				break // expired: list again
			}
			set(obj, ev.Type != watch.Deleted && done(obj))
			if satisfied >= n {
				w.Stop()
				return time.Now(), nil
			}
		}
		w.Stop()
		if ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("%d of %d after %s", satisfied, n, timeout)
		}
	}
}
