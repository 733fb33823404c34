package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// TestAfterInitialList: a source watch ignores the Create events of the
// initial list and nothing else.
func TestAfterInitialList(t *testing.T) {
	p := notInitialList
	s := &corev1.Secret{ObjectMeta: objectMeta("ca", nil)}
	cases := map[string]struct {
		got, want bool
	}{
		"created, initial list": {p.Create(event.CreateEvent{Object: s, IsInInitialList: true}), false},
		"created later":         {p.Create(event.CreateEvent{Object: s}), true},
		"updated":               {p.Update(event.UpdateEvent{ObjectOld: s, ObjectNew: s}), true},
		"deleted":               {p.Delete(event.DeleteEvent{Object: s}), true},
		"generic":               {p.Generic(event.GenericEvent{Object: s}), true},
	}
	for name, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: passes %t, want %t", name, tc.got, tc.want)
		}
	}
}
