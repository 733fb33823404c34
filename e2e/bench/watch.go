package main

import (
	"context"
	"fmt"
	"strings"
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

// progressMarks are the shares of n (in percent) whose moments waitCount
// records in progress: a slow tail shows apart from a slow start.
var (
	progressMarks = []int{1, 50, 90, 99}
	progress      []time.Time
)

// progressSince describes progress relative to start.
func progressSince(start time.Time) string {
	var parts []string
	for i, t := range progress {
		parts = append(parts, fmt.Sprintf("%d%% at %s", progressMarks[i], t.Sub(start).Round(10*time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

// waitCount returns the moment at least n objects of list's kind in
// namespace satisfy done. It lists once, then follows a watch; each event
// costs the API server one object sent, as it does for certinel.
func waitCount(ctx context.Context, list client.ObjectList, namespace string, n int, timeout time.Duration, done func(client.Object) bool) (time.Time, error) {
	progress = progress[:0]
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
			if len(progress) < len(progressMarks) && satisfied*100 >= n*progressMarks[len(progress)] {
				progress = append(progress, time.Now())
			}
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
