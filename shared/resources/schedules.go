package resources

import "time"

// Schedule is a function run on a timer: an EventBridge Scheduler schedule
// in AWS (the CDK stack reads these), a ticker in the local stack.
type Schedule struct {
	Function string        // functions/<Function>
	Every    time.Duration // whole minutes (EventBridge rate expressions)
	Purpose  string
}

// Schedules lists every scheduled function.
func Schedules() []Schedule {
	return []Schedule{
		{Function: "sweep", Every: 5 * time.Minute, Purpose: "overdue threads, unacknowledged pages, lost triage events, digests, the overdue-urgent metric"},
		{Function: "campaigntick", Every: time.Minute, Purpose: "start campaigns whose window opened, fan out recipients, settle dead senders' claims, complete campaigns"},
		{Function: "reminders", Every: 15 * time.Minute, Purpose: "appointment reminders due at their offsets"},
		{Function: "retention", Every: 24 * time.Hour, Purpose: "delete closed threads past the practice's retention period, except under legal hold"},
		{Function: "proxyage", Every: 24 * time.Hour, Purpose: "narrow proxies' grants when a minor patient comes of age"},
	}
}
