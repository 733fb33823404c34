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

// observer waits until at least n objects of a kind in a namespace satisfy
// a condition. It lists once, then follows a watch; each event costs the
// API server one object sent, as it does for certinel. It works in two
// steps: observe lists and opens the watch, wait follows it. A
// measurement observes before its clock starts, so the observer's first
// list is outside what it times, and the writes it times are those of one
// run: certinel's, or the reference's. Both are timed by the same
// observer, so the API server serves the same watch in both (in five
// interleaved pairs of Route references, the observed one took 0-15%
// longer).
type observer struct {
	ctx       context.Context
	cancel    context.CancelFunc
	list      client.ObjectList
	namespace string
	n         int
	done      func(client.Object) bool
	state     map[string]bool
	satisfied int
	at        time.Time // when n were first seen to satisfy done
	w         watch.Interface
}

func observe(ctx context.Context, list client.ObjectList, namespace string, n int, timeout time.Duration, done func(client.Object) bool) (*observer, error) {
	progress = progress[:0]
	ctx, cancel := context.WithTimeout(ctx, timeout)
	o := &observer{ctx: ctx, cancel: cancel, list: list, namespace: namespace, n: n, done: done, state: map[string]bool{}}
	if err := o.listAndWatch(); err != nil {
		cancel()
		return nil, err
	}
	return o, nil
}

func (o *observer) set(obj client.Object, ok bool) {
	if o.state[obj.GetName()] {
		o.satisfied--
	}
	if ok {
		o.satisfied++
		o.state[obj.GetName()] = true
		if len(progress) < len(progressMarks) && o.satisfied*100 >= o.n*progressMarks[len(progress)] {
			progress = append(progress, time.Now())
		}
	} else {
		delete(o.state, obj.GetName())
	}
	if o.satisfied >= o.n && o.at.IsZero() {
		o.at = time.Now()
	}
}

// listAndWatch lists, then opens a watch from the list's resourceVersion.
func (o *observer) listAndWatch() error {
	if err := watcher.List(o.ctx, o.list, client.InNamespace(o.namespace)); err != nil {
		return err
	}
	clear(o.state)
	o.satisfied = 0
	if err := meta.EachListItem(o.list, func(item runtime.Object) error {
		obj := item.(client.Object)
		o.set(obj, o.done(obj))
		return nil
	}); err != nil {
		return err
	}
	rv, err := meta.NewAccessor().ResourceVersion(o.list)
	if err != nil {
		return err
	}
	o.w, err = watcher.Watch(o.ctx, o.list, client.InNamespace(o.namespace), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
	return err
}

// wait returns the moment at least n objects satisfied done.
func (o *observer) wait() (time.Time, error) {
	defer o.cancel()
	for {
		if !o.at.IsZero() {
			o.w.Stop()
			return o.at, nil
		}
		for ev := range o.w.ResultChan() {
			obj, ok := ev.Object.(client.Object)
			if !ok || ev.Type == watch.Error {
				break // expired: list again
			}
			o.set(obj, ev.Type != watch.Deleted && o.done(obj))
			if !o.at.IsZero() {
				break
			}
		}
		o.w.Stop()
		if !o.at.IsZero() {
			return o.at, nil
		}
		if o.ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("%d of %d after the timeout", o.satisfied, o.n)
		}
		if err := o.listAndWatch(); err != nil {
			return time.Time{}, err
		}
	}
}
