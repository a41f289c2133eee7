package auditlog

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
	"github.com/carepost/carepost/shared/testenv"
)

// event builds the i-th test event of a practice; every third one names no
// patient.
func event(practiceID string, i int) Event {
	e := Event{
		PracticeID: practiceID, Actor: fmt.Sprintf("sub-%d", i%3), ActorRole: "nurse", SourceIP: "192.0.2.1",
		Action: "thread.read", Object: fmt.Sprintf("thread/T%d", i), Outcome: OutcomeOK,
	}
	if i%3 != 0 {
		e.PatientID = "pat-1"
	}
	return e
}

func record(t testing.TB, l *Log, events ...Event) []Event {
	t.Helper()
	var out []Event
	for _, e := range events {
		got, err := l.Append(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	return out
}

func verify(t *testing.T, l *Log, practiceID string) VerifyReport {
	t.Helper()
	r, err := l.Verify(context.Background(), practiceID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAppendListVerify(t *testing.T) {
	st := testenv.NewStack(t)
	l := New(st.Clients.DynamoDB, st.Outputs.Table)
	ctx := context.Background()

	var in []Event
	for i := range 10 {
		in = append(in, event("p1", i))
	}
	in[4].Time = time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.FixedZone("CET", 3600))
	in[5].Outcome, in[5].Action, in[5].Object = OutcomeDenied, "thread.export", ""
	stored := record(t, l, in...)

	r := verify(t, l, "p1")
	if !r.OK || r.Events != 10 || r.FirstBad != 0 || r.Problem != "" {
		t.Errorf("Verify = %+v, want OK with 10 events", r)
	}
	if got, want := r.Head, stored[9].Hash; got != want {
		t.Errorf("Head = %s, want the last hash %s", got, want)
	}

	listed, err := l.List(ctx, "p1", 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(listed), 10; got != want {
		t.Fatalf("List returned %d events, want %d", got, want)
	}
	for i, e := range listed {
		want := in[i]
		want.Seq, want.Time = int64(i+1), stored[i].Time
		want.Prev, want.Hash = stored[i].Prev, stored[i].Hash
		if !e.Time.Equal(want.Time) || !sameButTime(e, want) {
			t.Errorf("List[%d] = %+v, want %+v", i, e, want)
		}
		if got, want := e.Prev, prevOf(listed, i); got != want {
			t.Errorf("List[%d].Prev = %s, want %s", i, got, want)
		}
	}
	if got, want := listed[4].Time.UnixNano(), in[4].Time.UnixNano(); got != want {
		t.Errorf("time round trip = %d, want %d (nanoseconds kept)", got, want)
	}

	page, err := l.List(ctx, "p1", 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := seqs(page), []int64{8, 9}; !slices.Equal(got, want) {
		t.Errorf("List(from 8, limit 2) seqs = %v, want %v", got, want)
	}
}

func sameButTime(a, b Event) bool { a.Time, b.Time = time.Time{}, time.Time{}; return a == b }

func prevOf(events []Event, i int) string {
	if i == 0 {
		return Genesis
	}
	return events[i-1].Hash
}

func seqs(events []Event) []int64 {
	var s []int64
	for _, e := range events {
		s = append(s, e.Seq)
	}
	return s
}

// A second process appending makes this process's cached head stale; the
// conditional put fails, the log re-reads and the chain stays linear. Then it
// reads before each append until a read shows it wrote last again.
func TestStaleCacheRecovers(t *testing.T) {
	st := testenv.NewStack(t)
	a := New(st.Clients.DynamoDB, st.Outputs.Table)
	b := New(st.Clients.DynamoDB, st.Outputs.Table)
	got := seqs(slices.Concat(
		record(t, a, event("p1", 1)), // reads the empty chain
		record(t, b, event("p1", 2)),
		record(t, a, event("p1", 3)), // cached head is seq 1: loses, re-reads
		record(t, b, event("p1", 4)), // the same
		record(t, a, event("p1", 5)), // reads first: b wrote last
		record(t, a, event("p1", 6)), // reads first: a wrote last, trust again
		record(t, a, event("p1", 7)), // cached
	))
	if want := []int64{1, 2, 3, 4, 5, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("seqs = %v, want %v", got, want)
	}
	if got, want := a.Stats(), (Stats{Appends: 5, HeadReads: 4, Conflicts: 1, MostAttempts: 2}); got != want {
		t.Errorf("a.Stats() = %+v, want %+v", got, want)
	}
	if r := verify(t, a, "p1"); !r.OK || r.Events != 7 {
		t.Errorf("Verify = %+v, want OK with 7 events", r)
	}
}

// Tampering with the stored chain in any of these ways is found at the
// right seq.
func TestVerifyDetectsTampering(t *testing.T) {
	st := testenv.NewStack(t)
	db := st.Clients.DynamoDB
	table := st.Outputs.Table
	ctx := context.Background()
	key := func(pid string, seq int64) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{resources.AttrPK: str(chainPK(pid)), resources.AttrSK: str(seqSK(seq))}
	}
	get := func(t *testing.T, pid string, seq int64) map[string]types.AttributeValue {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(pid, seq), ConsistentRead: aws.Bool(true)})
		if err != nil || out.Item == nil {
			t.Fatalf("get seq %d: %v", seq, err)
		}
		return out.Item
	}
	put := func(t *testing.T, item map[string]types.AttributeValue) {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	set := func(t *testing.T, pid string, seq int64, attr string, v types.AttributeValue) {
		item := get(t, pid, seq)
		item[attr] = v
		put(t, item)
	}
	del := func(t *testing.T, pid string, seq int64) {
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key(pid, seq)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		tamper   func(t *testing.T, pid string)
		firstBad int64
		problem  string
	}{
		{"actor changed", func(t *testing.T, pid string) { set(t, pid, 5, attrActor, str("someone-else")) }, 5, ProblemChanged},
		{"outcome changed", func(t *testing.T, pid string) { set(t, pid, 7, attrOutcome, str("denied")) }, 7, ProblemChanged},
		{"time changed by 1 ns", func(t *testing.T, pid string) {
			e, _ := fromItem(pid, get(t, pid, 3))
			set(t, pid, 3, attrTime, str(e.Time.Add(time.Nanosecond).Format(TimeLayout)))
		}, 3, ProblemChanged},
		{"patient removed", func(t *testing.T, pid string) {
			item := get(t, pid, 2)
			delete(item, attrPatient)
			delete(item, resources.AttrGSI1PK)
			delete(item, resources.AttrGSI1SK)
			put(t, item)
		}, 2, ProblemChanged},
		{"hidden from the patient's list", func(t *testing.T, pid string) { set(t, pid, 4, resources.AttrGSI1PK, str(patientPK(pid, "pat-9"))) }, 4, ProblemIndexKeys},
		{"changed and rehashed", func(t *testing.T, pid string) {
			e, _ := fromItem(pid, get(t, pid, 5))
			e.Actor = "someone-else"
			put(t, toItem(withHash(e)))
		}, 6, ProblemLink},
		{"middle event deleted", func(t *testing.T, pid string) { del(t, pid, 5) }, 5, ProblemMissing},
		{"first event deleted", func(t *testing.T, pid string) { del(t, pid, 1) }, 1, ProblemMissing},
		{"deleted and renumbered", func(t *testing.T, pid string) {
			for seq := int64(5); seq < 10; seq++ {
				item := get(t, pid, seq+1)
				item[resources.AttrSK] = str(seqSK(seq))
				put(t, item)
			}
			del(t, pid, 10)
		}, 5, ProblemMoved},
		{"two events swapped", func(t *testing.T, pid string) {
			a, b := get(t, pid, 4), get(t, pid, 5)
			a[resources.AttrSK], b[resources.AttrSK] = b[resources.AttrSK], a[resources.AttrSK]
			put(t, a)
			put(t, b)
		}, 4, ProblemMoved},
		{"two events swapped with their seqs", func(t *testing.T, pid string) {
			a, b := get(t, pid, 4), get(t, pid, 5)
			a[resources.AttrSK], b[resources.AttrSK] = b[resources.AttrSK], a[resources.AttrSK]
			a[attrSeq], b[attrSeq] = b[attrSeq], a[attrSeq]
			put(t, a)
			put(t, b)
		}, 4, ProblemLink},
		{"copied from another practice", func(t *testing.T, pid string) {
			other := record(t, New(db, table), event(pid+"x", 0))[0]
			item := get(t, pid+"x", other.Seq)
			item[resources.AttrPK] = str(chainPK(pid))
			item[resources.AttrSK] = str(seqSK(1))
			put(t, item)
		}, 1, ProblemChanged},
		{"wrong type", func(t *testing.T, pid string) { set(t, pid, 6, attrSeq, str("6")) }, 6, ProblemMalformed + ": attribute seq is missing or not a number"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid := fmt.Sprintf("tamper%d", i)
			l := New(db, table)
			for j := range 10 {
				record(t, l, event(pid, j))
			}
			if r := verify(t, l, pid); !r.OK {
				t.Fatalf("before tampering: %+v", r)
			}
			tt.tamper(t, pid)
			r := verify(t, l, pid)
			if r.OK {
				t.Fatalf("Verify = %+v, want a problem", r)
			}
			if got, want := r.FirstBad, tt.firstBad; got != want {
				t.Errorf("FirstBad = %d, want %d (%s)", got, want, r.Problem)
			}
			if got, want := r.Problem, tt.problem; got != want {
				t.Errorf("Problem = %q, want %q", got, want)
			}
		})
	}

	// Dropping the newest events leaves a valid shorter chain: only a head
	// kept elsewhere reveals it.
	t.Run("tail dropped", func(t *testing.T) {
		l := New(db, table)
		for j := range 5 {
			record(t, l, event("tail", j))
		}
		before := verify(t, l, "tail")
		del(t, "tail", 5)
		after := verify(t, l, "tail")
		if !after.OK || after.Events != 4 {
			t.Errorf("Verify = %+v, want OK with 4 events", after)
		}
		if after.Head == before.Head {
			t.Errorf("Head unchanged after dropping the newest event")
		}
	})
}

func withHash(e Event) Event { e.Hash = Hash(e); return e }

// Concurrent writers never fork or gap the chain and never lose or duplicate
// an event. Each Log stands for one process (a Lambda container) with its own
// cache.
func TestConcurrentRecords(t *testing.T) {
	st := testenv.NewStack(t)
	tests := []struct {
		name                  string
		processes, goroutines int
		each                  int
		think                 time.Duration // pause between one goroutine's Records, 0 to 2×think
		mayBeUnavailable      bool
	}{
		// The case the messaging service meets in one container: appends
		// to a practice are serialised in-process, so no race is lost.
		{name: "one process, 20 goroutines", processes: 1, goroutines: 20, each: 10},
		// Several containers at a busy practice's pace: together about 40
		// events/s, each pausing for request handling between Records.
		// (A put to DynamoDB Local under -race takes 10-20 ms here, so
		// this is still a third to half of what one chain can take.)
		{name: "four processes at 40 events per second", processes: 4, goroutines: 4, each: 25, think: 100 * time.Millisecond},
		// Overload: 20 writers in 4 processes appending back to back, more
		// than one chain can take (one put per round trip). The chain must
		// stay intact; a Record may give up with a transient error.
		{name: "four processes overloaded", processes: 4, goroutines: 20, each: 10, mayBeUnavailable: true},
	}
	for n, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid := fmt.Sprintf("conc%d", n)
			logs := make([]*Log, tt.processes)
			for i := range logs {
				logs[i] = New(st.Clients.DynamoDB, st.Outputs.Table)
			}
			var (
				mu             sync.Mutex
				wrote, refused = map[string]bool{}, map[string]bool{}
				wg             sync.WaitGroup
			)
			for g := range tt.goroutines {
				wg.Go(func() {
					for i := range tt.each {
						if tt.think > 0 {
							time.Sleep(rand.N(2 * tt.think))
						}
						e := event(pid, i)
						e.Object = fmt.Sprintf("thread/G%d-%d", g, i)
						err := logs[g%tt.processes].Record(context.Background(), e)
						mu.Lock()
						switch {
						case err == nil:
							wrote[e.Object] = true
						case tt.mayBeUnavailable && carepost.IsTransient(err):
							refused[e.Object] = true
						default:
							t.Errorf("Record: %v", err)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()

			var total Stats
			for _, l := range logs {
				s := l.Stats()
				total.Appends += s.Appends
				total.HeadReads += s.HeadReads
				total.Conflicts += s.Conflicts
				total.MostAttempts = max(total.MostAttempts, s.MostAttempts)
			}
			t.Logf("%s: %+v, %d Records refused", tt.name, total, len(refused))
			if got, want := total.Appends, int64(len(wrote)); got != want {
				t.Errorf("Stats.Appends = %d, want %d", got, want)
			}
			if got, want := len(wrote)+len(refused), tt.goroutines*tt.each; got != want {
				t.Errorf("%d Records answered, want %d", got, want)
			}
			if tt.processes == 1 && (total.Conflicts != 0 || total.HeadReads != 1) {
				t.Errorf("one process: %+v, want no conflicts and one head read", total)
			}

			all, err := logs[0].List(context.Background(), pid, 1, MaxLimit)
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range all {
				if got, want := e.Seq, int64(i+1); got != want {
					t.Fatalf("List[%d].Seq = %d, want %d (gap or duplicate)", i, got, want)
				}
				if !wrote[e.Object] {
					t.Errorf("seq %d holds an event that was refused or stored twice", e.Seq)
				}
				delete(wrote, e.Object) // a second copy fails the check above
			}
			if len(wrote) != 0 {
				t.Errorf("%d acknowledged events are missing", len(wrote))
			}
			if r := verify(t, logs[0], pid); !r.OK || r.Events != int64(len(all)) {
				t.Errorf("Verify = %+v, want OK with %d events", r, len(all))
			}
		})
	}
}

func TestListPatient(t *testing.T) {
	st := testenv.NewStack(t)
	l := New(st.Clients.DynamoDB, st.Outputs.Table)
	ctx := context.Background()
	want := map[string][]int64{} // patient -> seqs newest first
	// pat-1 has 7 events, pat-2 exactly 3 (a full page at limit 3), 4 name
	// no patient.
	patients := []string{"pat-1", "", "pat-2", "pat-1", "pat-1", "", "pat-2", "pat-1", "", "pat-1", "pat-2", "pat-1", "", "pat-1"}
	for i, patient := range patients {
		e := event("p1", i)
		e.PatientID = patient
		got := record(t, l, e)[0]
		if patient != "" {
			want[patient] = slices.Insert(want[patient], 0, got.Seq)
		}
	}
	for _, patient := range slices.Sorted(maps.Keys(want)) {
		for _, limit := range []int{1, 3, 100} {
			t.Run(fmt.Sprintf("%s limit %d", patient, limit), func(t *testing.T) {
				var got []int64
				cursor, pages := "", 0
				for {
					page, next, err := l.ListPatient(ctx, "p1", patient, limit, cursor)
					if err != nil {
						t.Fatal(err)
					}
					pages++
					if len(page) > limit {
						t.Fatalf("page of %d events, limit %d", len(page), limit)
					}
					for _, e := range page {
						if e.PatientID != patient {
							t.Errorf("event %d is about another patient", e.Seq)
						}
					}
					got = append(got, seqs(page)...)
					if next == "" {
						break
					}
					if pages > 20 {
						t.Fatal("paging does not end")
					}
					cursor = next
				}
				if w := want[patient]; !slices.Equal(got, w) {
					t.Errorf("seqs = %v, want %v", got, w)
				}
				if got, w := pages, max(1, (len(want[patient])+limit-1)/limit); got != w {
					t.Errorf("%d pages, want %d (no empty last page)", got, w)
				}
			})
		}
	}
	t.Run("bad cursor", func(t *testing.T) {
		_, _, err := l.ListPatient(ctx, "p1", "pat-1", 10, "SEQ#000000000001")
		if got, want := carepost.ErrorCode(err), carepost.CodeInvalid; got != want {
			t.Errorf("code = %s, want %s", got, want)
		}
	})
	t.Run("unknown patient", func(t *testing.T) {
		page, next, err := l.ListPatient(ctx, "p1", "pat-404", 10, "")
		if err != nil || len(page) != 0 || next != "" {
			t.Errorf("ListPatient = %v, %q, %v; want nothing", page, next, err)
		}
	})
}

// Two practices with the same patient id share a table and nothing else.
func TestPracticeIsolation(t *testing.T) {
	st := testenv.NewStack(t)
	l := New(st.Clients.DynamoDB, st.Outputs.Table)
	ctx := context.Background()
	for i := range 4 {
		e := event("pracA", i)
		e.PatientID = "pat-1"
		record(t, l, e)
	}
	for _, e := range []Event{event("pracB", 1), event("pracB", 2)} {
		e.PatientID = "pat-1"
		e.Actor = "sub-b"
		record(t, l, e)
	}
	tests := []struct {
		practice string
		events   int
		actor    func(string) bool
	}{
		{"pracA", 4, func(a string) bool { return a != "sub-b" }},
		{"pracB", 2, func(a string) bool { return a == "sub-b" }},
		{"pracC", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.practice, func(t *testing.T) {
			all, err := l.List(ctx, tt.practice, 1, 100)
			if err != nil {
				t.Fatal(err)
			}
			pat, _, err := l.ListPatient(ctx, tt.practice, "pat-1", 100, "")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(all), tt.events; got != want {
				t.Errorf("List has %d events, want %d", got, want)
			}
			if got, want := len(pat), tt.events; got != want {
				t.Errorf("ListPatient has %d events, want %d", got, want)
			}
			for _, e := range slices.Concat(all, pat) {
				if e.PracticeID != tt.practice || !tt.actor(e.Actor) {
					t.Errorf("event of another practice listed: seq %d actor %s", e.Seq, e.Actor)
				}
			}
			reversed := slices.Clone(pat)
			slices.Reverse(reversed)
			if got, want := seqs(all), seqs(reversed); !slices.Equal(got, want) {
				t.Errorf("List seqs %v, ListPatient seqs reversed %v", got, want)
			}
			r := verify(t, l, tt.practice)
			if !r.OK || r.Events != int64(tt.events) {
				t.Errorf("Verify = %+v, want OK with %d events", r, tt.events)
			}
			if tt.events == 0 && r.Head != Genesis {
				t.Errorf("empty chain Head = %s, want Genesis", r.Head)
			}
		})
	}
}
