package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/carepost/carepost/shared/admin"
	"github.com/carepost/carepost/shared/app"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/awsclients"
	"github.com/carepost/carepost/shared/bootstrap"
	"github.com/carepost/carepost/shared/config"
	"github.com/carepost/carepost/shared/demo"
	"github.com/carepost/carepost/shared/emulators"
	"github.com/carepost/carepost/shared/lambdalocal"
	"github.com/carepost/carepost/shared/resources"
	"github.com/carepost/carepost/shared/sqsqueue"
)

const audience = "carepost-local"

// runStack starts the whole product on this machine. With AWS_ENDPOINT_URL
// set (LocalStack), it uses that endpoint instead of starting emulators; the
// code path is otherwise identical.
func runStack(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	apiAddr := fs.String("addr", "127.0.0.1:8080", "loopback address of the API")
	base := fs.Int("base", 0, "first of four consecutive emulator ports instead of the dev ports 18000-18003")
	fs.Parse(args)
	apiURL := "http://" + *apiAddr
	issuer := apiURL + "/local-idp"
	root, err := projectRoot()
	if err != nil {
		return err
	}
	if c, err := net.DialTimeout("tcp", *apiAddr, 200*time.Millisecond); err == nil {
		c.Close()
		return fmt.Errorf("%s is already in use: is another `make run` still running? Stop it and retry", *apiAddr)
	}
	ports, logName := emulators.DevPorts, "emulators.log"
	if *base > 0 {
		ports = emulators.Ports{DynamoDB: *base, Moto: *base + 1, SQS: *base + 2, SES: *base + 3}
		logName = fmt.Sprintf("emulators-%d.log", *base)
	}
	mailbox := ""
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		fmt.Printf("==> starting emulators: DynamoDB Local, moto (KMS, S3), SQS, SES v2 (output in .local/%s)\n", logName)
		logf, err := os.Create(filepath.Join(root, ".local", logName))
		if err != nil {
			return err
		}
		defer logf.Close()
		set, err := emulators.Start(ctx, root, ports, logf)
		if err != nil {
			return err
		}
		defer func() {
			fmt.Println("==> stopping emulators")
			set.Stop()
		}()
		for _, kv := range ports.Env() {
			k, v, _ := strings.Cut(kv, "=")
			os.Setenv(k, v)
		}
		mailbox = os.Getenv("CAREPOST_MAILBOX_URL")
	} else {
		fmt.Println("==> using the endpoint in AWS_ENDPOINT_URL (LocalStack):", os.Getenv("AWS_ENDPOINT_URL"))
	}
	clients, err := awsclients.Load(ctx)
	if err != nil {
		return err
	}
	fmt.Println("==> creating resources from shared/resources (idempotent)")
	res := resources.For(resources.DefaultPrefix, "no-reply@demo-clinic.test")
	out, err := bootstrap.Ensure(ctx, clients, res, prefixed(os.Stdout, "    "))
	if err != nil {
		return err
	}
	cfg := config.Config{
		Table: out.Table, KeyID: out.KeyID, TriageQueueURL: out.TriageQueueURL, NotifyQueueURL: out.NotifyQueueURL,
		CampaignQueueURL: out.CampaignQueueURL, Sender: res.SenderIdentity, Bucket: out.Bucket, BucketKeyID: out.BucketKeyID,
		JWKSURL: issuer + "/.well-known/jwks.json", Issuer: issuer, Audience: audience, PublicURL: apiURL, SESRate: 50,
	}
	// The functions read their configuration from the environment, as in Lambda.
	for _, kv := range cfg.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	if cfg, err = config.Load(); err != nil {
		return err
	}
	iss, err := auth.NewLocalIssuer(auth.LocalIssuerConfig{Issuer: issuer, Audience: audience, KeyPath: filepath.Join(root, ".local", "dev-issuer.pem")})
	if err != nil {
		return err
	}
	dir := auth.NewLocalDirectory(auth.LocalDirectoryConfig{Issuer: iss, PasswordIterations: 10_000})
	verifier := auth.NewVerifier(auth.VerifierConfig{JWKSURL: cfg.JWKSURL, Issuer: cfg.Issuer, Audience: cfg.Audience, Revoked: dir.Revoked})
	a := app.New(cfg, clients, verifier, dir)
	if mailbox != "" {
		a.MailboxCheck = func(ctx context.Context) error { return httpGet(ctx, mailbox+"/store?since=0") }
	}
	fmt.Println("==> seeding the demo practice and one user per role")
	users, err := demo.Seed(ctx, a.Store, dir, dir.SetPassword)
	if err != nil {
		return err
	}
	if err := demo.SeedPatients(ctx, admin.New(a.Store, a.Envelope, nil, dir, a.Mailer, cfg.PublicURL), users); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/local-idp/", http.StripPrefix("/local-idp", iss.Handler()))
	mux.HandleFunc("POST /local-idp/token", tokenHandler(dir))
	mux.Handle("/", lambdalocal.APIGateway(httpadapter.NewV2(a.API()).ProxyWithContext))
	srv := &http.Server{Addr: *apiAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", *apiAddr)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(ln) }()

	workCtx, stopWork := context.WithCancel(ctx)
	for _, w := range a.Workers() {
		p := &sqsqueue.Poller{SQS: clients.SQS, QueueURL: w.QueueURL, BatchSize: w.BatchSize, Wait: 2 * time.Second, Handle: w.Handle,
			OnError: func(err error) { a.Log.Error("poller", "worker", w.Name, "cause", err.Error()) }}
		wg.Add(1)
		go func() { defer wg.Done(); p.Run(workCtx) }()
	}
	for _, s := range a.Schedules() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(min(s.Every, 30*time.Second)) // faster locally so escalations are visible
			defer t.Stop()
			for {
				select {
				case <-workCtx.Done():
					return
				case <-t.C:
					if err := s.Run(workCtx); err != nil {
						a.Log.Error("schedule", "job", s.Name, "cause", err.Error())
					}
				}
			}
		}()
	}
	printBanner(apiURL, users, mailbox, a)
	<-ctx.Done()
	fmt.Println("\n==> stopping API, workers and schedules")
	stopWork()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	wg.Wait()
	return nil
}

func printBanner(apiURL string, users []demo.User, mailbox string, a *app.App) {
	fmt.Printf("\nCarePost is running.\n\n")
	fmt.Printf("  API           %s   (try: curl -s %s/health)\n", apiURL, apiURL)
	fmt.Printf("  OpenAPI       %s/v1/openapi.json\n", apiURL)
	if mailbox != "" {
		fmt.Printf("  Mailbox       %s   (every e-mail the stack sends)\n", mailbox)
	}
	fmt.Printf("  Workers       ")
	for _, w := range a.Workers() {
		fmt.Printf("%s ", w.Name)
	}
	fmt.Printf("\n  Schedules     ")
	for _, s := range a.Schedules() {
		fmt.Printf("%s ", s.Name)
	}
	fmt.Printf("\n\nDemo users (practice %q). Get a bearer token with:\n\n", demo.PracticeID)
	fmt.Printf("  TOKEN=$(curl -s -X POST %s/local-idp/token -d '{\"email\":\"<email>\",\"password\":\"<password>\"}' | sed 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/')\n\n", apiURL)
	for _, u := range users {
		fmt.Printf("  %-10s %-26s %s\n", u.Role, u.Email, u.Password)
	}
	fmt.Printf("\nThen: curl -s -H \"Authorization: Bearer $TOKEN\" %s/v1/consent\n\nPress Ctrl-C to stop everything.\n", apiURL)
}

// tokenHandler is the local stand-in for Cognito's sign-in.
func tokenHandler(dir *auth.LocalDirectory) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Email    string `json:"email"`
			Password string `json:"password"`
		}
		if err := decodeJSON(r, &in); err != nil {
			http.Error(w, `{"error":{"code":"invalid_request","message":"send {\"email\":...,\"password\":...}"}}`, http.StatusBadRequest)
			return
		}
		sub, ok := dir.SubjectForEmail(in.Email)
		tok, err := "", errors.New("unknown")
		if ok {
			tok, err = dir.IssueToken(sub, in.Password)
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":"unauthenticated","message":"wrong e-mail or password"}}`)
			return
		}
		fmt.Fprintf(w, `{"token":%q,"tokenType":"Bearer","expiresIn":3600}`+"\n", tok)
	}
}
