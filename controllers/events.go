package controllers

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/reference"
)

// PacedEvents is the Event recorder of every controller. An Event is queued
// as a reference to its object (never the object itself, whose data may be
// large) and handed to the API server's recorder once certinel's writes
// pause, at most qps per second after a burst. At a cold start with a
// thousand annotated objects, the writes users wait for (keystores, Routes,
// bundles) then do not share the API server with an Event write each (7%
// of kube-apiserver's CPU in make bench's Routes cold start): the Events of
// such a burst follow it, or come at the paced rate once they have waited
// MaxDelay. In normal operation (one renewal) an Event is written Settle
// after its write. When the queue is full, an Event is dropped and counted
// in certinel_events_dropped_total; the change it tells of is not.
type PacedEvents struct {
	inner   events.EventRecorder
	scheme  *runtime.Scheme
	limiter *rate.Limiter
	// queue holds the Events waiting, at most capacity; it is a slice that
	// grows with a burst and is let go once drained, not a channel whose
	// whole capacity (a megabyte) would be held while nothing waits.
	mu       sync.Mutex
	queue    []pacedEvent
	capacity int
	wake     chan struct{}
	// Settle is how long certinel's writes must have paused before an
	// Event is written, and MaxDelay how long an Event waits for that at
	// most.
	Settle, MaxDelay time.Duration
}

type pacedEvent struct {
	ref                             *corev1.ObjectReference
	eventType, reason, action, note string
	queued                          time.Time
}

// NewPacedEvents paces Events to inner at qps per second after burst, with
// at most capacity waiting.
func NewPacedEvents(inner events.EventRecorder, scheme *runtime.Scheme, qps float64, burst, capacity int) *PacedEvents {
	return &PacedEvents{inner: inner, scheme: scheme, limiter: rate.NewLimiter(rate.Limit(qps), burst), capacity: capacity, wake: make(chan struct{}, 1),
		Settle: 250 * time.Millisecond, MaxDelay: 10 * time.Second}
}

// lastWrite is when certinel last wrote an object (Unix nanoseconds).
var lastWrite atomic.Int64

func noteWrite() { lastWrite.Store(time.Now().UnixNano()) }

// awaitPause waits until certinel's writes have paused for Settle, or until
// an Event queued at queued has waited MaxDelay.
func (p *PacedEvents) awaitPause(ctx context.Context, queued time.Time) error {
	for {
		quiet := time.Since(time.Unix(0, lastWrite.Load()))
		waited := time.Since(queued)
		if quiet >= p.Settle || waited >= p.MaxDelay {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(p.Settle-quiet, p.MaxDelay-waited)):
		}
	}
}

// Eventf queues an Event about regarding; related is not used by certinel.
func (p *PacedEvents) Eventf(regarding, _ runtime.Object, eventType, reason, action, note string, args ...any) {
	ref, err := reference.GetReference(p.scheme, regarding)
	if err != nil {
		eventsDropped.Inc()
		return
	}
	e := pacedEvent{ref: ref, eventType: eventType, reason: reason, action: action, note: fmt.Sprintf(note, args...), queued: time.Now()}
	p.mu.Lock()
	full := len(p.queue) >= p.capacity
	if !full {
		p.queue = append(p.queue, e)
	}
	p.mu.Unlock()
	if full {
		eventsDropped.Inc()
		return
	}
	select {
	case p.wake <- struct{}{}:
	default: // Start is already woken
	}
}

// next takes the oldest Event waiting, if any.
func (p *PacedEvents) next() (pacedEvent, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		return pacedEvent{}, false
	}
	e := p.queue[0]
	p.queue[0] = pacedEvent{}
	if p.queue = p.queue[1:]; len(p.queue) == 0 {
		p.queue = nil // the burst's array goes with it
	}
	return e, true
}

// Start hands queued Events to the recorder until ctx ends.
func (p *PacedEvents) Start(ctx context.Context) error {
	for {
		e, ok := p.next()
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-p.wake:
				continue
			}
		}
		if err := p.awaitPause(ctx, e.queued); err != nil {
			return nil
		}
		if err := p.limiter.Wait(ctx); err != nil {
			return nil
		}
		p.inner.Eventf(e.ref, nil, e.eventType, e.reason, e.action, "%s", e.note)
	}
}

// NeedLeaderElection is false: a standby has no Events to write, and a new
// leader's must not wait.
func (p *PacedEvents) NeedLeaderElection() bool { return false }
