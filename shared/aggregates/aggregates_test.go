package aggregates

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// fakeStore is the messaging store: writes succeed unless failWrite is set.
type fakeStore struct {
	carepost.Store
	practice  carepost.Practice
	failWrite bool
}

func (f *fakeStore) Practice(context.Context, string) (carepost.Practice, error) {
	return f.practice, nil
}
func (f *fakeStore) CreateThread(context.Context, carepost.ThreadRecord, carepost.MessageRecord) error {
	return f.err()
}
func (f *fakeStore) AppendMessage(context.Context, carepost.MessageRecord, carepost.ThreadChange) error {
	return f.err()
}
func (f *fakeStore) UpdateThread(context.Context, carepost.ThreadChange) error { return f.err() }
func (f *fakeStore) err() error {
	if f.failWrite {
		return carepost.Errorf(carepost.CodeConflict, "version moved")
	}
	return nil
}

// fakeSink records what the decorator writes.
type fakeSink struct {
	days      map[string]carepost.DayDelta // last delta per day, merged
	closed    []string
	markers   map[string]bool
	failStats bool
	failIndex bool
}

func (f *fakeSink) AddDayStats(_ context.Context, pid, day string, d carepost.DayDelta) error {
	if f.failStats {
		return errors.New("throttled")
	}
	cur := f.days[day]
	cur.Opened += d.Opened
	cur.OpenedByStaff += d.OpenedByStaff
	cur.PatientMessages += d.PatientMessages
	cur.StaffMessages += d.StaffMessages
	cur.Closed += d.Closed
	cur.Senders = append(cur.Senders, d.Senders...)
	if d.FirstResponse != nil {
		cur.FirstResponse = d.FirstResponse
	}
	if d.TimeToClose != nil {
		cur.TimeToClose = d.TimeToClose
	}
	f.days[day] = cur
	return nil
}
func (f *fakeSink) PutClosed(_ context.Context, pid, day, tid string) error {
	if f.failIndex {
		return carepost.Unavailable(errors.New("throttled"), "the database")
	}
	f.closed = append(f.closed, day+"#"+tid)
	return nil
}
func (f *fakeSink) MarkDone(_ context.Context, pid, tid, step, mid string, _ time.Duration) (bool, error) {
	k := pid + tid + step + mid
	if f.markers[k] {
		return false, nil
	}
	f.markers[k] = true
	return true, nil
}

func TestWritePathAggregates(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	practice := carepost.Practice{ID: "p1", TimeZone: "America/New_York", Routing: map[carepost.Category]carepost.Owner{
		carepost.CategoryQuestion: carepost.PoolOwner("nurses"), carepost.CategoryBilling: carepost.UserOwner("dr-x"),
	}}
	store := &fakeStore{practice: practice}
	sink := &fakeSink{days: map[string]carepost.DayDelta{}, markers: map[string]bool{}}
	var reported []string
	s := Wrap(store, sink, func(op string, err error) { reported = append(reported, op) })
	ctx := context.Background()

	// 02:30 UTC on 1 March is 21:30 on 28 February in New York.
	created := time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC)
	th := carepost.ThreadRecord{Thread: carepost.Thread{PracticeID: "p1", ID: "t1", PatientID: "pat1", Category: carepost.CategoryQuestion,
		Status: carepost.StatusOpen, Owner: carepost.PoolOwner("nurses"), OpenedByRole: carepost.RoleProxy, Created: created, Updated: created}}
	if err := s.CreateThread(ctx, th, carepost.MessageRecord{Message: carepost.Message{Kind: carepost.KindPatient, Sent: created}}); err != nil {
		t.Fatal(err)
	}
	feb28 := sink.days["2026-02-28"]
	if feb28.Opened != 1 || feb28.PatientMessages != 1 || len(feb28.Senders) != 1 || feb28.Senders[0] != "pat1" {
		t.Fatalf("day of creation (practice zone) = %+v", feb28)
	}

	// Claimed by a nurse, who answers 90 minutes later: one first-response
	// sample per dimension (the pool is still the category's pool).
	reply := created.Add(90 * time.Minute)
	th.Owner = carepost.UserOwner("nurse-1")
	staff := carepost.MessageRecord{Message: carepost.Message{Kind: carepost.KindStaff, SenderID: "nurse-1", Sent: reply}}
	if err := s.AppendMessage(ctx, staff, carepost.ThreadChange{PracticeID: "p1", ThreadID: "t1", Set: th}); err != nil {
		t.Fatal(err)
	}
	day := sink.days["2026-02-28"]
	for dim, want := range map[string]int64{"all": 5400, "pool:nurses": 5400, "user:nurse-1": 5400} {
		if got := day.FirstResponse[dim]; got != want {
			t.Errorf("first response %s = %d, want %d", dim, got, want)
		}
	}
	// A second staff reply is not a first response.
	sink.days = map[string]carepost.DayDelta{}
	if err := s.AppendMessage(ctx, staff, carepost.ThreadChange{PracticeID: "p1", ThreadID: "t1", Set: th}); err != nil {
		t.Fatal(err)
	}
	if d := sink.days["2026-02-28"]; d.FirstResponse != nil || d.StaffMessages != 1 {
		t.Errorf("second reply counted as %+v", d)
	}
	// System notes are not counted.
	sink.days = map[string]carepost.DayDelta{}
	if err := s.AppendMessage(ctx, carepost.MessageRecord{Message: carepost.Message{Kind: carepost.KindSystem, Sent: reply}}, carepost.ThreadChange{PracticeID: "p1", ThreadID: "t1", Set: th}); err != nil {
		t.Fatal(err)
	}
	if len(sink.days) != 0 {
		t.Errorf("system note counted: %+v", sink.days)
	}

	// Closing: the index entry (UTC day of the update) and one
	// time-to-close sample; closing again indexes again, samples not.
	closedAt := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
	th.Status, th.Updated = carepost.StatusClosed, closedAt
	for i := 0; i < 2; i++ {
		if err := s.UpdateThread(ctx, carepost.ThreadChange{PracticeID: "p1", ThreadID: "t1", Set: th}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := len(sink.closed), 2; got != want || sink.closed[0] != "2026-03-02#t1" {
		t.Fatalf("closed index %v", sink.closed)
	}
	if d := sink.days[Day(closedAt, ny)]; d.Closed != 1 || d.TimeToClose["all"] != int64(closedAt.Sub(created)/time.Second) || d.TimeToClose["user:nurse-1"] == 0 {
		t.Errorf("close counted as %+v", d)
	}

	// A failed domain write adds nothing.
	store.failWrite = true
	sink.days = map[string]carepost.DayDelta{}
	if err := s.AppendMessage(ctx, staff, carepost.ThreadChange{PracticeID: "p1", ThreadID: "t1", Set: th}); carepost.ErrorCode(err) != carepost.CodeConflict {
		t.Errorf("failed write answered %v", err)
	}
	if len(sink.days) != 0 {
		t.Errorf("failed write counted: %+v", sink.days)
	}
	store.failWrite = false

	// An aggregate that cannot be written is reported, not returned.
	sink.failStats = true
	if err := s.CreateThread(ctx, th, carepost.MessageRecord{Message: carepost.Message{Kind: carepost.KindPatient, Sent: created}}); err != nil {
		t.Errorf("stats failure returned %v", err)
	}
	if len(reported) != 1 || reported[0] != "create" {
		t.Errorf("reported %v", reported)
	}
	// The closed index is returned on a close, so the client retries.
	sink.failIndex = true
	if err := s.UpdateThread(ctx, carepost.ThreadChange{PracticeID: "p1", ThreadID: "t1", Set: th}); !carepost.IsTransient(err) {
		t.Errorf("index failure on close answered %v, want a transient error", err)
	}
}

func TestPoolOf(t *testing.T) {
	p := carepost.Practice{Routing: map[carepost.Category]carepost.Owner{
		carepost.CategoryQuestion: carepost.PoolOwner("nurses"), carepost.CategoryBilling: carepost.UserOwner("dr-x"),
	}}
	for _, tc := range []struct {
		owner carepost.Owner
		cat   carepost.Category
		want  string
	}{
		{carepost.PoolOwner("oncall"), carepost.CategoryQuestion, "pool:oncall"},
		{carepost.UserOwner("n1"), carepost.CategoryQuestion, "pool:nurses"},
		{carepost.UserOwner("dr-x"), carepost.CategoryBilling, "pool:direct"},
		{carepost.UserOwner("n1"), carepost.CategoryForms, "pool:frontdesk"},
	} {
		th := carepost.ThreadRecord{Thread: carepost.Thread{Owner: tc.owner, Category: tc.cat}}
		if got := poolOf(p, th); got != tc.want {
			t.Errorf("poolOf(%s, %s) = %s, want %s", tc.owner, tc.cat, got, tc.want)
		}
	}
}
