// Command carepost is the practice's command-line client. It talks to the
// CarePost API over HTTP with a bearer token — never to the database:
//
//	CAREPOST_API    base URL of the API (default http://127.0.0.1:8080, the dev stack)
//	CAREPOST_TOKEN  bearer token (the dev stack: POST /local-idp/token)
//
// Each command group lives in its own file and registers itself in
// commands from an init function; this file only dispatches.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one command group ("campaign", ...).
type command struct {
	summary string
	run     func(ctx context.Context, args []string, out io.Writer) error
}

var commands = map[string]command{}

// exitCode lets a command choose the process exit status (1: it failed,
// 2: bad usage) without printing anything more.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		usage(os.Stderr)
		os.Exit(2)
	}
	err := c.run(ctx, os.Args[2:], os.Stdout)
	var code exitCode
	switch {
	case errors.As(err, &code):
		os.Exit(int(code))
	case err != nil:
		fmt.Fprintln(os.Stderr, "carepost:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: carepost <command> ...  (set CAREPOST_API and CAREPOST_TOKEN)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}
