package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Helpers of the practice administration commands (practice, staff,
// patients). They use the shared API client (api.go) and dispatcher
// (main.go).

// adminOut is where progress bars and usage go (stdout stays for results).
var adminOut io.Writer = os.Stderr

// adminVerb is one subcommand ("practice init").
type adminVerb func(ctx context.Context, c *apiClient, args []string, out io.Writer) error

// adminGroup returns a command that dispatches "group verb args..." to verbs.
func adminGroup(group string, verbs map[string]adminVerb) func(ctx context.Context, args []string, out io.Writer) error {
	return func(ctx context.Context, args []string, out io.Writer) error {
		names := make([]string, 0, len(verbs))
		for n := range verbs {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" {
			fmt.Fprintf(adminOut, "usage: carepost %s %s (each takes -h)\n", group, strings.Join(names, "|"))
			return exitCode(2)
		}
		f, ok := verbs[args[0]]
		if !ok {
			fmt.Fprintf(adminOut, "unknown command %q; use carepost %s %s\n", args[0], group, strings.Join(names, "|"))
			return exitCode(2)
		}
		c, err := newAPIClient()
		if err != nil {
			return err
		}
		return f(ctx, c, args[1:], out)
	}
}

// repeated is a repeatable string flag.
type repeated []string

func (m *repeated) String() string     { return strings.Join(*m, " ") }
func (m *repeated) Set(v string) error { *m = append(*m, v); return nil }

func adminFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("carepost "+name, flag.ContinueOnError)
	fs.SetOutput(adminOut)
	return fs
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
