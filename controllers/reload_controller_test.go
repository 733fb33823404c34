package controllers

import (
	"testing"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/types"
)

// The rollout rate limit gives each held workload one place in the queue:
// reconciling it again while it waits neither takes another place nor
// reports it held again, and it rolls when its turn comes.
func TestReloadsTurn(t *testing.T) {
	s := &Reloads{Limiter: rate.NewLimiter(1, 1)}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b, c := workloadKey{"deployment", types.NamespacedName{Name: "a"}}, workloadKey{"deployment", types.NamespacedName{Name: "b"}},
		workloadKey{"statefulset", types.NamespacedName{Name: "b"}}
	steps := []struct {
		key      workloadKey
		at       time.Duration
		wantWait time.Duration
		wantHeld bool
	}{
		{a, 0, 0, false},                                          // the burst
		{b, 0, time.Second, false},                                // next second
		{c, 0, 2 * time.Second, false},                            // the one after
		{b, 500 * time.Millisecond, 500 * time.Millisecond, true}, // still waiting, same place
		{b, time.Second, 0, true},                                 // its turn
		{c, 2 * time.Second, 0, true},
		{a, 3 * time.Second, 0, false}, // a new change, a free token
	}
	for i, st := range steps {
		wait, held := s.turn(st.key, t0.Add(st.at))
		if wait != st.wantWait || held != st.wantHeld {
			t.Fatalf("step %d (%s at %v): wait %v held %t, want %v %t", i, st.key.Name, st.at, wait, held, st.wantWait, st.wantHeld)
		}
	}
}

func TestOnlyIgnored(t *testing.T) {
	base := map[string]string{"secret:a": "1", "configmap:noisy": "1"}
	ignored := map[string]bool{"configmap:noisy": true}
	for name, tc := range map[string]struct {
		digests map[string]string
		want    bool
	}{
		"only the ignored one changed": {map[string]string{"secret:a": "1", "configmap:noisy": "2"}, true},
		"a watched one changed too":    {map[string]string{"secret:a": "2", "configmap:noisy": "2"}, false},
		"a watched one is gone":        {map[string]string{"configmap:noisy": "1"}, false},
		"a watched one is new":         {map[string]string{"secret:a": "1", "configmap:noisy": "1", "secret:b": "1"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := onlyIgnored(base, tc.digests, ignored); got != tc.want {
				t.Errorf("onlyIgnored = %t, want %t", got, tc.want)
			}
		})
	}
}
