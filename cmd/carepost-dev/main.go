// Command carepost-dev runs CarePost on this machine, with no AWS account:
//
//	carepost-dev run                 the whole product: emulators, resources, demo data, API and workers
//	carepost-dev emulators [-- CMD]  only the emulators (test ports with -test); runs CMD against them
//	carepost-dev mailscan            after the tests: no e-mail the SES emulator captured carries thread text
//
// It is a development tool: it is never deployed and no Lambda imports it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/carepost/carepost/shared/emulators"
	"github.com/carepost/carepost/shared/testenv"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "emulators":
		err = runEmulators(ctx, os.Args[2:])
	case "run":
		err = runStack(ctx, os.Args[2:])
	case "mailscan":
		err = mailScan()
	case "env":
		ports := emulators.DevPorts
		if len(os.Args) > 2 && os.Args[2] == "-test" {
			ports = emulators.TestPorts
		}
		for _, kv := range ports.Env() {
			fmt.Println(kv)
		}
	default:
		usage()
	}
	var exit exitCode
	if errors.As(err, &exit) {
		os.Exit(int(exit))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "carepost-dev:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: carepost-dev run [-addr 127.0.0.1:8080] [-base PORT] | carepost-dev emulators [-test] [-- command args...] | carepost-dev env [-test]")
	os.Exit(2)
}

type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// projectRoot finds the directory holding go.mod and .local/.
func projectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "emulators", "install.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run carepost-dev from inside the CarePost checkout")
		}
		dir = parent
	}
}

func runEmulators(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("emulators", flag.ExitOnError)
	test := fs.Bool("test", false, "use the test ports (so tests can run beside `make run`)")
	quiet := fs.Bool("quiet", false, "do not echo the emulators' own output")
	base := fs.Int("base", 0, "first of four consecutive ports to use instead of the dev or test ports (e.g. 18200)")
	fs.Parse(args)
	root, err := projectRoot()
	if err != nil {
		return err
	}
	ports := emulators.DevPorts
	if *test {
		ports = emulators.TestPorts
	}
	if *base > 0 {
		ports = emulators.Ports{DynamoDB: *base, Moto: *base + 1, SQS: *base + 2, SES: *base + 3}
	}
	logs := os.Stderr
	if *quiet {
		logs = nil
	}
	fmt.Fprintln(os.Stderr, "==> starting emulators: DynamoDB Local, moto (KMS, S3), SQS, SES v2 on 127.0.0.1")
	set, err := emulators.Start(ctx, root, ports, writerOrNil(logs))
	if err != nil {
		return err
	}
	defer set.Stop()
	fmt.Fprintf(os.Stderr, "==> emulators up: DynamoDB :%d, KMS/S3 :%d, SQS :%d, SES :%d\n", ports.DynamoDB, ports.Moto, ports.SQS, ports.SES)
	if fs.NArg() == 0 {
		for _, kv := range ports.Env() {
			fmt.Println("export " + kv)
		}
		fmt.Fprintln(os.Stderr, "==> press Ctrl-C to stop them")
		<-ctx.Done()
		return nil
	}
	cmd := exec.CommandContext(ctx, fs.Arg(0), fs.Args()[1:]...)
	cmd.Env = append(os.Environ(), ports.Env()...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitCode(ee.ExitCode())
	}
	return err
}

// mailScan checks every e-mail the SES emulator captured during the test run
// against every text the tests put into threads (testenv.NoteThreadText).
func mailScan() error {
	mailbox, log := os.Getenv("CAREPOST_MAILBOX_URL"), os.Getenv(testenv.ThreadTextLogVar)
	if mailbox == "" || log == "" {
		return fmt.Errorf("mailscan needs CAREPOST_MAILBOX_URL and %s: run it through `make test`", testenv.ThreadTextLogVar)
	}
	texts, err := testenv.ReadThreadTexts(log)
	if err != nil {
		return fmt.Errorf("read the thread texts the tests noted: %w", err)
	}
	mails, err := testenv.FetchMailbox(mailbox, 0)
	if err != nil {
		return fmt.Errorf("read the SES emulator's mailbox: %w", err)
	}
	if len(texts) == 0 || len(mails) == 0 {
		return fmt.Errorf("mail scan: %d thread texts and %d e-mails: nothing was scanned, so nothing is proven", len(texts), len(mails))
	}
	leaks := testenv.ThreadTextLeaks(mails, texts)
	for _, l := range leaks {
		fmt.Fprintf(os.Stderr, "    e-mail to %v (subject %q) carries thread text %q\n", l.To, l.Subject, l.Text)
	}
	if len(leaks) > 0 {
		return fmt.Errorf("mail scan: %d e-mails carry patient data from threads", len(leaks))
	}
	fmt.Printf("==> mail scan: %d e-mails sent during the tests carry none of the %d texts the tests put into threads\n", len(mails), len(texts))
	return nil
}
