package campaigns_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/app"
	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/campaigns"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/linkkeys"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/sqsqueue"
	"github.com/carepost/carepost/shared/testenv"
)

// runSenders polls the campaign queue with n pollers running the app's
// campaign worker until ctx ends.
func runSenders(ctx context.Context, a *app.App, n int) *sync.WaitGroup {
	w, _ := a.Worker("campaign")
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &sqsqueue.Poller{SQS: a.Clients.SQS, QueueURL: a.Config.CampaignQueueURL, BatchSize: 10, Wait: time.Second, Handle: w.Handle}
			p.Run(ctx)
		}()
	}
	return &wg
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func campaign(t testing.TB, a *app.App, pid, cid string) carepost.Campaign {
	t.Helper()
	c, err := a.Store.Campaign(context.Background(), pid, cid)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// csvOf makes an audience list of n recipients at domain.
func csvOf(n int, domain string) string {
	var b strings.Builder
	b.WriteString("email,firstName\n")
	for i := range n {
		fmt.Fprintf(&b, "r%05d@%s,Name%05d\n", i, domain, i)
	}
	return b.String()
}

func mailsTo(t testing.TB, start time.Time, domain string) []testenv.Mail {
	t.Helper()
	var out []testenv.Mail
	for _, m := range testenv.Mailbox(t, start) {
		for _, to := range m.Destination.To {
			if strings.HasSuffix(strings.ToLower(to), "@"+domain) {
				out = append(out, m)
			}
		}
	}
	return out
}

var linkRE = regexp.MustCompile(`https?://[^\s]+/v1/public/unsubscribe/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+`)

// serviceFor builds a campaigns service over the app's adapters, for tests
// that drive the sender directly.
func serviceFor(a *app.App) *campaigns.Service {
	return &campaigns.Service{
		Store: a.Store, Sealer: a.Envelope, Keys: linkkeys.New(a.Store, a.Envelope), Audit: nil,
		Queue:     &campaigns.Queue{SQS: a.Clients.SQS, URL: a.Config.CampaignQueueURL},
		PublicURL: a.Config.PublicURL, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now, NewID: messaging.RandomID,
	}
}

// startedCampaign creates a campaign of n recipients at domain through svc
// as the scheduler, starts it, and returns its id and recipient ids.
func startedCampaign(t testing.TB, h *apptest.Harness, svc *campaigns.Service, n int, domain string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	who := carepost.Principal{Subject: h.Subject(t, "scheduler"), Role: carepost.RoleScheduler, PracticeID: apptest.PracticeA}
	list := csvOf(n, domain)
	res, err := svc.Create(ctx, who, campaigns.CreateInput{Name: domain, Template: carepost.CampaignTemplate{Subject: "Hi", Text: "x"}, Audience: campaigns.Audience{CSV: &list}})
	if err != nil {
		t.Fatal(err)
	}
	cid := res.Campaign.ID
	if _, err := svc.Schedule(ctx, who, cid, campaigns.ScheduleInput{}); err != nil {
		t.Fatal(err)
	}
	page, err := h.App.Store.Recipients(ctx, apptest.PracticeA, cid, "", true, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var rids []string
	for _, r := range page.Items {
		rids = append(rids, r.ID)
	}
	return cid, rids
}
