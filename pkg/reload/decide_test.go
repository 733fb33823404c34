package reload

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestDecide(t *testing.T) {
	const old, cur = "old-hash", "new-hash"
	ms := time.Millisecond
	tests := map[string]struct {
		in   Decision
		want Action
	}{
		"equal hashes": {
			in:   Decision{Now: t0, Current: cur, Baseline: cur, ChangedAt: t0},
			want: Action{Verb: Nothing},
		},
		"equal hashes while keystores are pending": {
			in:   Decision{Now: t0, Current: cur, Baseline: cur, KeystoresPending: true},
			want: Action{Verb: Nothing},
		},
		"first sight records the baseline": {
			in:   Decision{Now: t0, Current: cur},
			want: Action{Verb: RecordBaseline},
		},
		"first sight right after a change still only records": {
			in:   Decision{Now: t0, Current: cur, ChangedAt: t0.Add(-100 * ms)},
			want: Action{Verb: RecordBaseline},
		},
		"first sight with keystores pending waits for them": {
			in:   Decision{Now: t0, Current: cur, KeystoresPending: true},
			want: Action{Verb: Wait},
		},
		"changes that never stop still roll after ten windows": {
			in:   Decision{Now: t0, Current: cur, Baseline: old, ChangedAt: t0.Add(-100 * ms), DifferingSince: t0.Add(-10 * time.Second)},
			want: Action{Verb: Roll},
		},
		"the wait ends at the ten-window bound": {
			in:   Decision{Now: t0, Current: cur, Baseline: old, ChangedAt: t0, DifferingSince: t0.Add(-9500 * ms)},
			want: Action{Verb: Wait, Until: t0.Add(500 * ms)},
		},
		"a change just seen waits for the window": {
			in:   Decision{Now: t0, Current: cur, Baseline: old, ChangedAt: t0},
			want: Action{Verb: Wait, Until: t0.Add(time.Second)},
		},
		"a second change within the window moves the wait": {
			in:   Decision{Now: t0.Add(600 * ms), Current: cur, Baseline: old, ChangedAt: t0.Add(500 * ms)},
			want: Action{Verb: Wait, Until: t0.Add(1500 * ms)},
		},
		"the window has passed": {
			in:   Decision{Now: t0.Add(time.Second), Current: cur, Baseline: old, ChangedAt: t0},
			want: Action{Verb: Roll},
		},
		"a custom window": {
			in:   Decision{Now: t0.Add(time.Second), Current: cur, Baseline: old, ChangedAt: t0, Window: 5 * time.Second},
			want: Action{Verb: Wait, Until: t0.Add(5 * time.Second)},
		},
		"a negative window is the default": {
			in:   Decision{Now: t0, Current: cur, Baseline: old, ChangedAt: t0, Window: -time.Second},
			want: Action{Verb: Wait, Until: t0.Add(time.Second)},
		},
		"an unknown change time rolls at once (caught up after a restart)": {
			in:   Decision{Now: t0, Current: cur, Baseline: old},
			want: Action{Verb: Roll},
		},
		"keystores pending wait for the next event": {
			in:   Decision{Now: t0.Add(time.Hour), Current: cur, Baseline: old, ChangedAt: t0, KeystoresPending: true},
			want: Action{Verb: Wait},
		},
		"keystores pending come before a Helm upgrade": {
			in:   Decision{Now: t0, Current: cur, Baseline: old, ChangedAt: t0, TemplateChangedAt: t0.Add(ms), KeystoresPending: true},
			want: Action{Verb: Wait},
		},
		"Helm: the template changed after the data, within the window": {
			in:   Decision{Now: t0.Add(400 * ms), Current: cur, Baseline: old, ChangedAt: t0, TemplateChangedAt: t0.Add(300 * ms)},
			want: Action{Verb: RecordBaseline},
		},
		"Helm: seen only long after": {
			in:   Decision{Now: t0.Add(time.Hour), Current: cur, Baseline: old, ChangedAt: t0, TemplateChangedAt: t0.Add(300 * ms)},
			want: Action{Verb: RecordBaseline},
		},
		"Helm: same second counts as after": {
			in:   Decision{Now: t0, Current: cur, Baseline: old, ChangedAt: t0, TemplateChangedAt: t0},
			want: Action{Verb: RecordBaseline},
		},
		"Helm: exactly one window later still counts": {
			in:   Decision{Now: t0.Add(2 * time.Second), Current: cur, Baseline: old, ChangedAt: t0, TemplateChangedAt: t0.Add(time.Second)},
			want: Action{Verb: RecordBaseline},
		},
		"the template changed after the data, but beyond the window": {
			in:   Decision{Now: t0.Add(2 * time.Second), Current: cur, Baseline: old, ChangedAt: t0, TemplateChangedAt: t0.Add(time.Second + ms)},
			want: Action{Verb: Roll},
		},
		"the template changed long before the data": {
			in:   Decision{Now: t0.Add(time.Second), Current: cur, Baseline: old, ChangedAt: t0, TemplateChangedAt: t0.Add(-time.Hour)},
			want: Action{Verb: Roll},
		},
		"the template changed just before the data: its pods may have the old data": {
			in:   Decision{Now: t0, Current: cur, Baseline: old, ChangedAt: t0, TemplateChangedAt: t0.Add(-ms)},
			want: Action{Verb: Wait, Until: t0.Add(time.Second)},
		},
		"a template change time without a data change time": {
			in:   Decision{Now: t0, Current: cur, Baseline: old, TemplateChangedAt: t0},
			want: Action{Verb: Roll},
		},
		"a change time slightly ahead of the clock waits": {
			in:   Decision{Now: t0, Current: cur, Baseline: old, ChangedAt: t0.Add(500 * ms)},
			want: Action{Verb: Wait, Until: t0.Add(1500 * ms)},
		},
		"a change time far ahead of the clock is unknown": {
			in:   Decision{Now: t0, Current: cur, Baseline: old, ChangedAt: t0.Add(time.Hour)},
			want: Action{Verb: Roll},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Decide(tc.in); got != tc.want {
				t.Errorf("Decide = %v %v, want %v %v", got.Verb, got.Until, tc.want.Verb, tc.want.Until)
			}
		})
	}
}

// TestDecideSequence plays events against one workload the way a
// controller would: record what Decide says, decide again at Until.
func TestDecideSequence(t *testing.T) {
	type event struct {
		at        time.Duration // after t0
		data      string        // the referenced data changes to this hash
		template  bool          // the pod template changes (not by certinel)
		keystores *bool         // keystores start or stop being pending
	}
	yes, no := true, false
	tests := map[string]struct {
		events    []event
		wantRolls []time.Duration
		wantHash  string
	}{
		"opting in rolls nothing": {
			events: []event{{at: 0, data: "h1"}},
		},
		"one change, one rollout after the window": {
			events:    []event{{at: 0, data: "h1"}, {at: time.Minute, data: "h2"}},
			wantRolls: []time.Duration{time.Minute + time.Second}, wantHash: "h2",
		},
		"two changes within the window, one rollout": {
			events:    []event{{at: 0, data: "h1"}, {at: time.Minute, data: "h2"}, {at: time.Minute + 700*time.Millisecond, data: "h3"}},
			wantRolls: []time.Duration{time.Minute + 1700*time.Millisecond}, wantHash: "h3",
		},
		"changes further apart than the window, two rollouts": {
			events:    []event{{at: 0, data: "h1"}, {at: time.Minute, data: "h2"}, {at: 2 * time.Minute, data: "h3"}},
			wantRolls: []time.Duration{time.Minute + time.Second, 2*time.Minute + time.Second}, wantHash: "h3",
		},
		"a change and back within the window rolls nothing": {
			events:   []event{{at: 0, data: "h1"}, {at: time.Minute, data: "h2"}, {at: time.Minute + 100*time.Millisecond, data: "h1"}},
			wantHash: "h1",
		},
		"a Helm upgrade: ConfigMap then Deployment": {
			events:   []event{{at: 0, data: "h1"}, {at: time.Minute, data: "h2"}, {at: time.Minute + 200*time.Millisecond, template: true}},
			wantHash: "h2",
		},
		"a cert renewal then certinel's keystores: one rollout once consistent": {
			events: []event{
				{at: 0, data: "h1"},
				{at: time.Minute, data: "renewed", keystores: &yes},
				{at: time.Minute + 3*time.Second, data: "keystores", keystores: &no},
			},
			wantRolls: []time.Duration{time.Minute + 4*time.Second}, wantHash: "keystores",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var (
				current, baseline string
				changedAt, tmplAt time.Time
				pending           bool
				until             time.Time // a pending timer
				rolls             []time.Duration
			)
			decide := func(now time.Time) {
				a := Decide(Decision{Now: now, Current: current, Baseline: baseline, ChangedAt: changedAt, TemplateChangedAt: tmplAt, KeystoresPending: pending})
				until = time.Time{}
				switch a.Verb {
				case RecordBaseline:
					baseline = current
				case Roll:
					baseline = current
					tmplAt = now
					rolls = append(rolls, now.Sub(t0))
				case Wait:
					until = a.Until
				}
			}
			for _, e := range tc.events {
				at := t0.Add(e.at)
				for !until.IsZero() && !until.After(at) {
					decide(until)
				}
				if e.data != "" && e.data != current {
					current, changedAt = e.data, at
				}
				if e.template {
					tmplAt = at
				}
				if e.keystores != nil {
					pending = *e.keystores
				}
				decide(at)
			}
			for !until.IsZero() {
				decide(until)
			}
			if len(rolls) != len(tc.wantRolls) {
				t.Fatalf("rolled at %v, want %v", rolls, tc.wantRolls)
			}
			for i := range rolls {
				if rolls[i] != tc.wantRolls[i] {
					t.Errorf("rolled at %v, want %v", rolls, tc.wantRolls)
				}
			}
			if tc.wantHash == "" {
				tc.wantHash = "h1"
			}
			if baseline != tc.wantHash {
				t.Errorf("baseline %q, want %q", baseline, tc.wantHash)
			}
			if a := Decide(Decision{Now: t0.Add(time.Hour), Current: current, Baseline: baseline}); a.Verb != Nothing {
				t.Errorf("afterwards Decide = %v, want Nothing", a.Verb)
			}
		})
	}
}

func TestVerbString(t *testing.T) {
	for v, want := range map[Verb]string{Nothing: "Nothing", RecordBaseline: "RecordBaseline", Wait: "Wait", Roll: "Roll", Verb(9): "Verb(?)"} {
		if got := v.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(v), got, want)
		}
	}
}
