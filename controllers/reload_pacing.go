package controllers

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Reloads is what the reload controllers of every kind share: the rollout
// rate limit and the coalescing window.
type Reloads struct {
	Window  time.Duration
	Limiter *rate.Limiter

	mu       sync.Mutex
	reserved map[workloadKey]time.Time // workload → when its turn comes
}

// release gives up the place a workload held in the queue (it rolls no
// more, or is gone).
func (s *Reloads) release(key workloadKey) {
	s.mu.Lock()
	delete(s.reserved, key)
	s.mu.Unlock()
}

// turn returns how long the workload must still wait for its rollout under
// the rate limit (0: roll now), and whether it was already waiting. A
// workload takes one place in the queue, however often it is reconciled.
func (s *Reloads) turn(key workloadKey, now time.Time) (wait time.Duration, held bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.reserved[key]; ok {
		if !now.Before(at) {
			delete(s.reserved, key)
			return 0, true
		}
		return at.Sub(now), true
	}
	res := s.Limiter.ReserveN(now, 1)
	if !res.OK() {
		return time.Second, false
	}
	if d := res.DelayFrom(now); d > 0 {
		if s.reserved == nil {
			s.reserved = map[workloadKey]time.Time{}
		}
		s.reserved[key] = now.Add(d)
		return d, false
	}
	return 0, false
}
