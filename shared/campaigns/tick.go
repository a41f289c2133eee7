package campaigns

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// Timing of the fan-out and of the schedule's checks.
const (
	fanoutLease = 2 * time.Minute  // a fan-out renews it per page
	staleClaim  = 10 * time.Minute // a "sending" claim this old belongs to a dead sender
	stalledFor  = 10 * time.Minute // no progress this long with recipients waiting: fan out again
)

// clock parses "HH:MM" into minutes after midnight.
func clock(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

// Sendable reports whether c may send at now: inside its window and
// outside its quiet hours (in its time zone).
func Sendable(c carepost.Campaign, now time.Time) bool {
	if !c.WindowStart.IsZero() && now.Before(c.WindowStart) {
		return false
	}
	if !c.WindowEnd.IsZero() && !now.Before(c.WindowEnd) {
		return false
	}
	return !quiet(c, now)
}

func quiet(c carepost.Campaign, now time.Time) bool {
	start, ok1 := clock(c.Quiet.Start)
	end, ok2 := clock(c.Quiet.End)
	if !ok1 || !ok2 || start == end {
		return false
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	l := now.In(loc)
	t := l.Hour()*60 + l.Minute()
	if start < end {
		return t >= start && t < end
	}
	return t >= start || t < end // spans midnight
}

// FanOut puts every pending recipient of a running, sendable campaign on the
// queue. One fan-out runs at a time (a lease on the campaign); a crash
// leaves the lease to expire and NeedsFanout or the stall check to start it
// again. Recipients put on the queue twice are claimed once.
func (s *Service) FanOut(ctx context.Context, pid, cid string) (int, error) {
	now := s.now()
	c, err := s.Store.Campaign(ctx, pid, cid)
	if err != nil {
		if carepost.ErrorCode(err) == carepost.CodeNotFound {
			return 0, nil
		}
		return 0, err
	}
	if c.State != carepost.CampaignRunning {
		return 0, nil
	}
	if !Sendable(c, now) {
		return 0, s.flagFanout(ctx, c)
	}
	c, ok, err := s.Store.AcquireFanout(ctx, pid, cid, now, fanoutLease)
	if err != nil || !ok {
		return 0, err
	}
	defer func() { _ = s.Store.ReleaseFanout(context.WithoutCancel(ctx), pid, cid, s.now()) }()
	queued := 0
	var after map[string]string
	for {
		page, err := s.Store.Recipients(ctx, pid, cid, carepost.RecipientPending, true, after, 1000)
		if err != nil {
			return queued, err
		}
		ids := make([]string, 0, len(page.Items))
		for _, r := range page.Items {
			ids = append(ids, r.ID)
		}
		if err := s.Queue.EnqueueSends(ctx, pid, cid, ids); err != nil {
			t := true
			_, _ = s.Store.ChangeCampaign(context.WithoutCancel(ctx), pid, cid, carepost.CampaignChange{NeedsFanout: &t, Now: s.now()})
			return queued, err
		}
		queued += len(ids)
		if page.Next == nil {
			return queued, nil
		}
		after = page.Next
		if err := s.Store.RenewFanout(ctx, pid, cid, s.now(), fanoutLease); err != nil {
			return queued, err
		}
	}
}

// flagFanout notes that recipients wait that are not on the queue.
func (s *Service) flagFanout(ctx context.Context, c carepost.Campaign) error {
	if c.NeedsFanout {
		return nil
	}
	t := true
	_, err := s.Store.ChangeCampaign(ctx, c.PracticeID, c.ID, carepost.CampaignChange{
		From: []carepost.CampaignState{carepost.CampaignScheduled, carepost.CampaignRunning, carepost.CampaignPaused}, NeedsFanout: &t, Now: s.now()})
	if carepost.ErrorCode(err) == carepost.CodeConflict {
		return nil // cancelled or completed meanwhile
	}
	return err
}

// Tick is the campaigns' scheduled job (every minute): it starts campaigns
// whose window opened, fans out what waits (after a pause, quiet hours, a
// lost queue message), resolves claims of senders that died, and completes
// campaigns with nothing left to send or whose window closed.
func (s *Service) Tick(ctx context.Context) error {
	pids, err := s.Store.Practices(ctx)
	if err != nil {
		return err
	}
	var firstErr error
	for _, pid := range pids {
		var after map[string]string
		for {
			page, err := s.Store.Campaigns(ctx, pid, after, 100)
			if err != nil {
				return err
			}
			for _, c := range page.Items {
				if err := s.tickOne(ctx, c); err != nil {
					s.Log.Warn("campaign tick", "practice", pid, "campaign", c.ID, "code", carepost.ErrorCode(err), "cause", err.Error())
					if firstErr == nil {
						firstErr = err
					}
				}
			}
			if page.Next == nil {
				break
			}
			after = page.Next
		}
	}
	return firstErr
}

func (s *Service) tickOne(ctx context.Context, c carepost.Campaign) error {
	now := s.now()
	switch c.State {
	case carepost.CampaignScheduled:
		if now.Before(c.WindowStart) {
			return nil
		}
		t := true
		var err error
		c, err = s.Store.ChangeCampaign(ctx, c.PracticeID, c.ID, carepost.CampaignChange{From: []carepost.CampaignState{carepost.CampaignScheduled},
			To: carepost.CampaignRunning, Started: now, NeedsFanout: &t, Now: now})
		if err != nil {
			if carepost.ErrorCode(err) == carepost.CodeConflict {
				return nil
			}
			return err
		}
	case carepost.CampaignRunning:
	default:
		return nil
	}
	if !c.WindowEnd.IsZero() && !now.Before(c.WindowEnd) {
		// The window closed: claims still in flight are settled, the rest
		// is left unsent.
		if c.Counts.Sending > 0 {
			if err := s.sweepStale(ctx, c, now); err != nil {
				return err
			}
			if c.Counts.Sending > 0 && now.Sub(c.WindowEnd) < staleClaim {
				return nil
			}
		}
		return s.complete(ctx, c, now)
	}
	if c.Counts.Queued() > 0 {
		stalled := now.Sub(latest(c.Progress, c.LastFanout, c.Started)) > stalledFor
		if (c.NeedsFanout || stalled) && Sendable(c, now) {
			n, err := s.FanOut(ctx, c.PracticeID, c.ID)
			if err != nil || n > 0 || !stalled {
				return err
			}
			// Stalled, and not one recipient is pending: the counters
			// drifted (an ADD lost to a timeout). The exact recount
			// corrects them and completes the campaign if nothing is left.
			return s.complete(ctx, c, now)
		}
		return nil
	}
	if c.Counts.Sending > 0 {
		return s.sweepStale(ctx, c, now)
	}
	return s.complete(ctx, c, now)
}

func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// sweepStale settles recipients claimed by a sender that died before it
// could record the outcome: "failed", reason "unknown" — the e-mail may or
// may not have gone out, and it is never sent again.
func (s *Service) sweepStale(ctx context.Context, c carepost.Campaign, now time.Time) error {
	var after map[string]string
	for {
		page, err := s.Store.Recipients(ctx, c.PracticeID, c.ID, carepost.RecipientSending, true, after, 1000)
		if err != nil {
			return err
		}
		for _, r := range page.Items {
			if now.Sub(r.Claimed) < staleClaim {
				continue
			}
			err := s.Store.ChangeRecipient(ctx, c.PracticeID, c.ID, r.ID, carepost.RecipientChange{From: carepost.RecipientSending,
				To: carepost.RecipientFailed, Reason: "unknown", ClaimedBefore: now.Add(-staleClaim)})
			if carepost.ErrorCode(err) == carepost.CodeConflict {
				continue
			}
			if err != nil {
				return err
			}
			if err := s.Store.AddCampaignCounts(ctx, c.PracticeID, c.ID, carepost.CampaignCounts{Sending: -1, Failed: 1}); err != nil {
				return err
			}
		}
		if page.Next == nil {
			return nil
		}
		after = page.Next
	}
}

// complete recounts exactly and closes the campaign when nothing is in
// flight.
func (s *Service) complete(ctx context.Context, c carepost.Campaign, now time.Time) error {
	n, err := s.Recount(ctx, c.PracticeID, c.ID)
	if err != nil {
		return err
	}
	windowClosed := !c.WindowEnd.IsZero() && !now.Before(c.WindowEnd)
	if n.Sending > 0 || (n.Queued() > 0 && !windowClosed) {
		return nil // the counters had drifted; the recount fixed them
	}
	_, err = s.Store.ChangeCampaign(ctx, c.PracticeID, c.ID, carepost.CampaignChange{From: []carepost.CampaignState{carepost.CampaignRunning},
		To: carepost.CampaignCompleted, Finished: now, Now: now})
	if carepost.ErrorCode(err) == carepost.CodeConflict {
		return nil
	}
	return err
}
