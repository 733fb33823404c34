package reload

import "time"

// DefaultWindow is the coalescing window when Decision.Window is not set.
const DefaultWindow = time.Second

// Decision is what Decide needs to know about one workload.
type Decision struct {
	// Now is the time of the decision.
	Now time.Time
	// Current is the Hash of the referenced data now.
	Current string
	// Baseline is the hash recorded on the workload, "" when none yet.
	Baseline string
	// ChangedAt is when the referenced data was last seen to change; zero
	// when unknown (e.g. it changed while certinel was down).
	ChangedAt time.Time
	// TemplateChangedAt is when the workload's own pod template last
	// changed; zero when unknown.
	TemplateChangedAt time.Time
	// Window is the coalescing window; DefaultWindow when zero or negative.
	Window time.Duration
	// KeystoresPending is true while a referenced Secret's keystores do
	// not match its certificate yet (certinel is about to rewrite them).
	KeystoresPending bool
	// DifferingSince is when the data first differed from the baseline
	// since the last rollout; zero when unknown. Coalescing never holds a
	// rollout more than MaxWaitWindows windows after it, so data that
	// changes more often than once a window still rolls.
	DifferingSince time.Time
}

// MaxWaitWindows bounds coalescing: a rollout waits at most this many
// windows after the data first differed from the baseline.
const MaxWaitWindows = 10

// Verb is what to do with a workload.
type Verb int

const (
	// Nothing: the data is what the pods were started with.
	Nothing Verb = iota
	// RecordBaseline: record Current as the baseline and roll nothing.
	RecordBaseline
	// Wait: decide again at Action.Until, or at the next event when
	// Until is zero.
	Wait
	// Roll: record Current as the baseline and roll the pods.
	Roll
)

func (v Verb) String() string {
	switch v {
	case Nothing:
		return "Nothing"
	case RecordBaseline:
		return "RecordBaseline"
	case Wait:
		return "Wait"
	case Roll:
		return "Roll"
	}
	return "Verb(?)"
}

// Action is the outcome of Decide.
type Action struct {
	Verb Verb
	// Until is set with Wait: when to decide again. Zero means at the
	// next event (the keystores being rewritten is one).
	Until time.Time
}

// Decide says what to do with a workload whose referenced data hashes to
// in.Current, so that one change gives one rollout:
//   - Nothing when Current is the baseline;
//   - Wait, until the next event, while keystores are pending: the Secret
//     is not consistent yet, and its rewrite is one more change (also
//     before the first baseline, which would otherwise miss the rewrite);
//   - RecordBaseline when there is no baseline yet: opting in, a restart or
//     a new leader never rolls pods by itself;
//   - RecordBaseline when the pod template changed after the data did,
//     within the window (a Helm upgrade that changes a ConfigMap and the
//     Deployment together): the new pods already see the new data. Both
//     times equal counts as after, since API timestamps are in seconds;
//   - Wait until ChangedAt+Window while inside the window, so that changes
//     that follow each other closely give one rollout;
//   - Roll otherwise, also when ChangedAt is unknown: a change made while
//     certinel was away is caught up at once.
//
// A ChangedAt more than a window after Now (a clock that ran ahead) counts
// as unknown, so that nothing waits forever.
func Decide(in Decision) Action {
	switch {
	case in.Current == in.Baseline:
		return Action{Verb: Nothing}
	case in.KeystoresPending:
		// Also before the first baseline: certinel is about to write the
		// keystores, and a baseline recorded now would roll once more.
		return Action{Verb: Wait}
	case in.Baseline == "":
		return Action{Verb: RecordBaseline}
	}
	window := in.Window
	if window <= 0 {
		window = DefaultWindow
	}
	changed := in.ChangedAt
	if changed.IsZero() || changed.After(in.Now.Add(window)) {
		return Action{Verb: Roll}
	}
	if t := in.TemplateChangedAt; !t.IsZero() && !t.Before(changed) && t.Sub(changed) <= window {
		return Action{Verb: RecordBaseline}
	}
	if until := changed.Add(window); in.Now.Before(until) {
		if first := in.DifferingSince; !first.IsZero() {
			if limit := first.Add(MaxWaitWindows * window); !in.Now.Before(limit) {
				return Action{Verb: Roll}
			} else if limit.Before(until) {
				until = limit
			}
		}
		return Action{Verb: Wait, Until: until}
	}
	return Action{Verb: Roll}
}
