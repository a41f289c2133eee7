package main

import (
	"context"
	"fmt"
	"io"
)

func init() {
	commands["audit"] = command{summary: "verify the practice's audit hash chain (admin): carepost audit verify", run: runAudit}
}

func runAudit(ctx context.Context, args []string, out io.Writer) error {
	if len(args) != 1 || args[0] != "verify" {
		fmt.Fprintln(out, "usage: carepost audit verify")
		return exitCode(2)
	}
	c, err := newAPIClient()
	if err != nil {
		return err
	}
	var rep struct {
		OK       bool   `json:"ok"`
		Events   int64  `json:"events"`
		FirstBad int64  `json:"firstBad"`
		Problem  string `json:"problem"`
		Head     string `json:"head"`
	}
	if err := c.do(ctx, "GET", "/v1/audit/verify", nil, &rep); err != nil {
		return err
	}
	if !rep.OK {
		fmt.Fprintf(out, "audit chain BROKEN at event %d: %s (%d events read)\n", rep.FirstBad, rep.Problem, rep.Events)
		return exitCode(1)
	}
	fmt.Fprintf(out, "audit chain OK: %d events, head %s\n", rep.Events, rep.Head)
	return nil
}
