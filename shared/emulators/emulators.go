// Package emulators starts, health-checks and stops the local stand-ins for
// the AWS services CarePost uses: DynamoDB Local (the real one, on Java),
// moto server (KMS, S3), local-aws-sqs and aws-ses-v2-local. They are
// installed into .local/ by emulators/install.sh; this package never
// downloads anything.
//
// Every emulator listens on 127.0.0.1 (DynamoDB Local has no bind flag and
// listens on all interfaces; nothing ever talks to it on another address) on
// fixed, non-default ports, runs in its own process group and is stopped with
// its whole group when Stop is called or, on Linux, when the parent dies.
package emulators

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Ports are the loopback ports of one set of emulators.
type Ports struct {
	DynamoDB int
	Moto     int // KMS and S3
	SQS      int
	SES      int
}

// DevPorts serve `make run`; TestPorts serve `make test`, so the two can run
// side by side.
var (
	DevPorts  = Ports{DynamoDB: 18000, Moto: 18001, SQS: 18002, SES: 18003}
	TestPorts = Ports{DynamoDB: 18100, Moto: 18101, SQS: 18102, SES: 18103}
)

// Endpoints returns the endpoint URL of each emulator.
func (p Ports) url(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// Env is the environment that points every AWS SDK client at the emulators
// (the SDK reads AWS_ENDPOINT_URL_<SERVICE> by itself) with dummy
// credentials, plus CAREPOST_MAILBOX_URL for the SES emulator's captured mail.
func (p Ports) Env() []string {
	return []string{
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_ENDPOINT_URL_DYNAMODB=" + p.url(p.DynamoDB),
		"AWS_ENDPOINT_URL_KMS=" + p.url(p.Moto),
		"AWS_ENDPOINT_URL_S3=" + p.url(p.Moto),
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + p.url(p.Moto),
		"AWS_ENDPOINT_URL_SQS=" + p.url(p.SQS),
		"AWS_ENDPOINT_URL_SESV2=" + p.url(p.SES),
		"CAREPOST_MAILBOX_URL=" + p.url(p.SES),
		"CAREPOST_EMULATORS=1",
	}
}

// Set is a running set of emulators.
type Set struct {
	Ports Ports
	mu    sync.Mutex
	procs []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start launches every emulator from the install under root/.local and waits
// until each answers on its port. On any failure it stops what it started
// and returns an error saying what to do next.
func Start(ctx context.Context, root string, ports Ports, logs io.Writer) (*Set, error) {
	local := filepath.Join(root, ".local")
	jar := filepath.Join(local, "dynamodb", "emulator", "DynamoDBLocal.jar")
	for _, f := range []string{jar, filepath.Join(local, "venv", "bin", "moto_server"), filepath.Join(local, "node", "node_modules", "local-aws-sqs"), filepath.Join(local, "node", "node_modules", "aws-ses-v2-local")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("emulators are not installed (%s is missing): run emulators/install.sh or `make install`", f)
		}
	}
	for name, port := range map[string]int{"DynamoDB Local": ports.DynamoDB, "moto": ports.Moto, "SQS": ports.SQS, "SES": ports.SES} {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond); err == nil {
			c.Close()
			return nil, fmt.Errorf("port %d for %s is already in use: stop the other CarePost stack (or whatever listens there) and retry", port, name)
		}
	}
	s := &Set{Ports: ports}
	specs := []struct {
		name string
		port int
		argv []string
		dir  string
	}{
		{"dynamodb", ports.DynamoDB, []string{"java", "-Xmx256m", "-Djava.library.path=" + filepath.Join(local, "dynamodb", "emulator", "DynamoDBLocal_lib"), "-jar", jar, "-inMemory", "-port", strconv.Itoa(ports.DynamoDB), "-disableTelemetry"}, filepath.Join(local, "dynamodb")},
		{"moto", ports.Moto, []string{filepath.Join(local, "venv", "bin", "moto_server"), "-H", "127.0.0.1", "-p", strconv.Itoa(ports.Moto)}, ""},
		{"sqs", ports.SQS, []string{"node", "-e", fmt.Sprintf(`require("local-aws-sqs").createSqsServer({port:%d,hostname:"127.0.0.1",emulateQueueCreationLifecycle:false})`, ports.SQS)}, filepath.Join(local, "node")},
		{"ses", ports.SES, []string{"node", filepath.Join(local, "node", "node_modules", "aws-ses-v2-local", "dist", "cli.js"), "--host", "127.0.0.1", "--port", strconv.Itoa(ports.SES)}, ""},
	}
	for _, sp := range specs {
		if _, err := exec.LookPath(sp.argv[0]); err != nil {
			s.Stop()
			return nil, fmt.Errorf("%s needs %q on PATH: %w (see emulators/install.sh for the prerequisites)", sp.name, sp.argv[0], err)
		}
		cmd := exec.Command(sp.argv[0], sp.argv[1:]...)
		cmd.Dir = sp.dir
		if sp.dir != "" {
			cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(sp.dir, "node_modules"))
		}
		w := prefixWriter(logs, sp.name)
		cmd.Stdout, cmd.Stderr = w, w
		cmd.SysProcAttr = sysProcAttr()
		if err := cmd.Start(); err != nil {
			s.Stop()
			return nil, fmt.Errorf("start %s: %w", sp.name, err)
		}
		p := &proc{name: sp.name, cmd: cmd, done: make(chan struct{})}
		go func() { cmd.Wait(); close(p.done) }()
		s.mu.Lock()
		s.procs = append(s.procs, p)
		s.mu.Unlock()
	}
	deadline := time.Now().Add(60 * time.Second)
	for i, sp := range specs {
		if err := waitHTTP(ctx, sp.port, deadline, s.procs[i].done); err != nil {
			s.Stop()
			return nil, fmt.Errorf("%s did not come up on 127.0.0.1:%d: %w (its output above says why)", sp.name, sp.port, err)
		}
	}
	return s, nil
}

// waitHTTP polls until the port answers any HTTP response.
func waitHTTP(ctx context.Context, port int, deadline time.Time, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("the process exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(150 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("timed out after 60s")
		}
	}
}

// Stop terminates every emulator's process group and waits for it to exit.
func (s *Set) Stop() {
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	for _, p := range procs {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
}

type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func prefixWriter(w io.Writer, name string) io.Writer {
	if w == nil {
		return io.Discard
	}
	return &lineWriter{w: w, prefix: fmt.Sprintf("[%-8s] ", name)}
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		fmt.Fprintf(l.w, "%s%s\n", l.prefix, l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}
