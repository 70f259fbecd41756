package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/oklog/ulid/v2"

	fbdinotify "github.com/finance/fbdi-notify"
	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/local/apigw"
	"github.com/finance/fbdi-notify/internal/local/devtoken"
	"github.com/finance/fbdi-notify/internal/local/oraclesim"
	"github.com/finance/fbdi-notify/internal/local/queue"
	"github.com/finance/fbdi-notify/internal/local/samtemplate"
	"github.com/finance/fbdi-notify/internal/local/ses"
	"github.com/finance/fbdi-notify/internal/local/stream"
	"github.com/finance/fbdi-notify/internal/userid"
	"github.com/finance/fbdi-notify/web"
)

// consumer is an event-source mapping of the template: a queue's function
// and how the poller feeds it (the template's batch size and maximum
// concurrency; localqueue's defaults where it sets none).
type consumer struct {
	handler queue.Handler
	opts    queue.SourceOptions
}

// system is the running system.
type system struct {
	cfg      config
	log      *slog.Logger
	listener net.Listener
	base     string // http://host:port
	server   *http.Server
	gateway  *apigw.Gateway
	queues   *queues
	// consumers maps a queue name to its event-source mapping.
	consumers map[string]consumer
	// streams are the DynamoDB stream mappings, when the functions run
	// behind the Lambda Invoke API.
	streams []streamConsumer
	// functionValues are the variables' values for functions behind the
	// Invoke API (GET /dev/sam-env.json).
	functionValues map[string]string
	tmpl           *samtemplate.Template
	oracleURL      string // where the worker's Oracle client points
	// mail is the e-mail service the functions' SES client reaches
	// without AWS_ENDPOINT_URL (/v2/email/..., /dev/mail).
	mail   *ses.Server
	awsCfg aws.Config // the AWS API's, with AWS_ENDPOINT_URL
	// sweep is SweeperFunction, which run invokes every cfg.SweepInterval
	// as its EventBridge schedule does when deployed.
	sweep scheduledHandler
}

func newStack(ctx context.Context, cfg config, log *slog.Logger) (*system, error) {
	tmpl, err := samtemplate.Parse(fbdinotify.Template)
	if err != nil {
		return nil, fmt.Errorf("read template.yaml: %w", err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	// The local stack is one process whose heap stays small; trading a larger
	// heap for fewer GC cycles buys a sixth of a fan-out's CPU and a third
	// of the latency p99 (make bench, GOGC 100 against 400).
	debug.SetGCPercent(400)
	s := &system{cfg: cfg, log: log, listener: l, base: "http://" + l.Addr().String(), tmpl: tmpl}
	fail := func(err error) (*system, error) { l.Close(); return nil, err }

	// With AWS_ENDPOINT_URL, tables and queues live on that AWS API.
	var awsCfg aws.Config
	var db *dynamodb.Client
	if cfg.AWSEndpoint != "" {
		if awsCfg, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region),
			awsconfig.WithBaseEndpoint(cfg.AWSEndpoint)); err != nil {
			return fail(fmt.Errorf("aws config: %w", err))
		}
		db = dynamodb.NewFromConfig(awsCfg)
		if err := verifySender(ctx, sesv2.NewFromConfig(awsCfg), cfg.EmailSender); err != nil {
			return fail(err)
		}
	}
	s.awsCfg = awsCfg
	// Upstream intake: the template's queues, with their settings.
	if s.queues, err = newQueues(ctx, cfg, tmpl, s.base, awsCfg); err != nil {
		return fail(err)
	}
	s.mail = s.newMailServer()
	stores, err := newStores(ctx, cfg, tmpl, db)
	if err != nil {
		return fail(err)
	}

	// Oracle: the simulator unless ORACLE_BASE_URL names an endpoint.
	var oracleHandler http.Handler
	s.oracleURL = cfg.OracleBaseURL
	if s.oracleURL == "" {
		sim := oraclesim.New(oraclesim.Options{Username: cfg.OracleUsername, Password: cfg.OraclePassword,
			WaitFor: cfg.SimJobTime / 4, RunFor: cfg.SimJobTime, Logger: log})
		oracleHandler = http.StripPrefix("/oracle", sim)
		s.oracleURL = s.base + "/oracle"
	}

	// The functions, by the template's logical IDs: in this process, or
	// behind a Lambda Invoke API.
	var fns functions
	if cfg.LambdaEndpoint == "" {
		fns, err = s.inProcessFunctions(stores)
	} else {
		fns, err = s.remoteFunctions(ctx, tmpl, awsCfg, db)
		if err == nil {
			s.functionValues, err = s.functionEnv(ctx, secretsmanager.NewFromConfig(awsCfg))
		}
	}
	if err != nil {
		return fail(err)
	}
	ws, queueFns := fns.websocket, fns.queue
	s.streams = fns.streams
	s.sweep = fns.sweep

	var routes []apigw.Route
	for _, r := range tmpl.Routes() {
		h, ok := ws[r.Function]
		if !ok {
			return fail(fmt.Errorf("template route %s targets %s, which the local stack does not run", r.Key, r.Function))
		}
		routes = append(routes, apigw.Route{Key: r.Key, Handler: h, TwoWay: r.TwoWay})
	}
	s.consumers = map[string]consumer{}
	for _, m := range tmpl.QueueMappings() {
		h, ok := queueFns[m.Function]
		if !ok {
			return fail(fmt.Errorf("template maps %s to %s, which the local stack does not run", m.Queue, m.Function))
		}
		concurrency := m.MaximumConcurrency
		if cfg.MaxConcurrency > 0 && (concurrency == 0 || concurrency > cfg.MaxConcurrency) {
			concurrency = cfg.MaxConcurrency
		}
		s.consumers[queueNames[m.Queue]] = consumer{handler: h,
			opts: queue.SourceOptions{BatchSize: m.BatchSize, Concurrency: concurrency, Logger: log}}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /dev/token", s.devToken)
	mux.HandleFunc("GET /dev/sample", devSample)
	mux.HandleFunc("GET /dev/queues", s.devQueues)
	mux.HandleFunc("POST /dev/send", s.devSend)
	for _, pattern := range ses.Routes {
		mux.Handle(pattern, s.mail)
	}
	if cfg.LambdaEndpoint != "" {
		mux.HandleFunc("GET /dev/sam-env.json", s.devSAMEnv)
	}
	if oracleHandler != nil {
		mux.Handle("/oracle/", oracleHandler)
	}
	static, _ := fs.Sub(web.Files, ".")
	mux.Handle("/", http.FileServerFS(static))
	// The examples' pinned React and Vue, from web/node_modules (npm ci in web/).
	mux.Handle("GET /vendor/{name}", web.Vendor(web.FindModules(".")))
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if queue.IsRequest(r) {
			s.serveSQS(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	s.gateway = apigw.New(apigw.Config{
		Routes: routes, RouteSelectionExpression: tmpl.RouteSelectionExpression(),
		IdleTimeout: cfg.IdleTimeout, MaxDuration: cfg.MaxDuration, Fallback: fallback, Logger: log,
		Throttles: routeThrottles(tmpl.Stage(), routes),
	})
	s.server = &http.Server{Handler: s.gateway, ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// runSchedule invokes h every interval until ctx ends, one invocation at a
// time, each with a Lambda context and SweeperFunction's timeout.
func (s *system) runSchedule(ctx context.Context, interval time.Duration, h scheduledHandler) {
	timeout := time.Minute
	if f, err := s.tmpl.Function("SweeperFunction"); err == nil {
		timeout = f.Timeout
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			id := ulid.Make().String()
			ictx, cancel := context.WithTimeout(lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: id}), timeout)
			_, err := h(ictx, events.EventBridgeEvent{Version: "0", ID: id, DetailType: "Scheduled Event",
				Source: "aws.events", Time: now.UTC(), Detail: json.RawMessage("{}")})
			cancel()
			if err != nil && ctx.Err() == nil {
				s.log.Error("scheduled invocation failed", "function", "SweeperFunction", "error", err)
			}
		}
	}
}

// run serves until ctx ends, then stops cleanly: every connection gets
// $disconnect, in-flight invocations finish, and the port is released.
func (s *system) run(ctx context.Context) error {
	consumeCtx, stopConsumers := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for name, c := range s.consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.queues.Consume(consumeCtx, name, c.handler, c.opts); err != nil {
				s.log.Error("queue consumer stopped", "queue", name, "error", err)
			}
		}()
	}
	for _, c := range s.streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := stream.Consume(consumeCtx, c.api, c.streamARN, c.handler, c.opts); err != nil {
				s.log.Error("stream consumer stopped", "function", c.function, "error", err)
			}
		}()
	}
	if s.sweep != nil && s.cfg.SweepInterval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runSchedule(consumeCtx, s.cfg.SweepInterval, s.sweep)
		}()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.server.Serve(s.listener) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.gateway.Close(shutdownCtx)
	if e := s.server.Shutdown(shutdownCtx); e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	stopConsumers()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *system) printBanner(w io.Writer) {
	ws := strings.Replace(s.base, "http://", "ws://", 1)
	oracleNote := s.oracleURL + " (simulator)"
	if s.cfg.OracleBaseURL != "" {
		oracleNote = "ORACLE_BASE_URL (set)"
	}
	functionsNote := "in this process"
	if s.cfg.LambdaEndpoint != "" {
		functionsNote = "Lambda Invoke API at " + s.cfg.LambdaEndpoint + "\n  SAM --env-vars     " + s.base +
			"/dev/sam-env.json   (?host=host.docker.internal for Docker Desktop)"
	}
	fmt.Fprintf(w, `FBDI notifications: local stack
  Functions          %s
  WebSocket API      %s
  Management API     %s/@connections/{id}
  SQS endpoint       %s   (aws sqs send-message --endpoint-url %s ...)
  Workflow queue     %s
  Notification queue %s
  Oracle             %s
  Test page          %s/
  Dev token          %s/dev/token?user_id=123   or   go run ./infra/local token 123
Ctrl-C stops.
`, functionsNote, ws, s.base, s.queues.endpoint, s.queues.endpoint, s.queues.URL("workflow"), s.queues.URL("notifications"),
		oracleNote, s.base, s.base)
}

// devToken mints a token for the user_id query parameter. It exists only in
// the local stack.
func (s *system) devToken(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user_id")
	if err := userid.Validate(user); err != nil {
		http.Error(w, "user_id: "+err.Error(), http.StatusBadRequest)
		return
	}
	tok, err := devtoken.Mint([]byte(s.cfg.JWTSecret), user, time.Now(), devtoken.DefaultTTL)
	if err != nil {
		http.Error(w, "cannot mint a token", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `{"token":%q,"user_id":%q}`+"\n", tok, user)
}

// streamingStore emulates the connections table's DynamoDB stream: after a
// successful Put it hands an INSERT record to onInsert, as the stream feeds
// WelcomeFunction on AWS.
type streamingStore struct {
	connection.Store
	onInsert func(connection.Connection)
}

func (s *streamingStore) Put(ctx context.Context, c connection.Connection) error {
	if err := s.Store.Put(ctx, c); err != nil {
		return err
	}
	if s.onInsert != nil {
		s.onInsert(c)
	}
	return nil
}

// streamRecord is the stream event of the connections table for a new row.
func streamRecord(c connection.Connection) events.DynamoDBEvent {
	image := map[string]events.DynamoDBAttributeValue{
		"connectionId": events.NewStringAttribute(c.ID),
		"userId":       events.NewStringAttribute(c.UserID),
		"connectedAt":  events.NewStringAttribute(c.ConnectedAt.Format(time.RFC3339Nano)),
		"expiresAt":    events.NewNumberAttribute(strconv.FormatInt(c.ExpiresAt.Unix(), 10)),
	}
	return events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{
		EventID: c.ID, EventName: "INSERT", EventSource: "aws:dynamodb", EventVersion: "1.1", AWSRegion: "us-east-1",
		EventSourceArn: "arn:aws:dynamodb:us-east-1:000000000000:table/connections/stream/local",
		Change: events.DynamoDBStreamRecord{
			Keys:           map[string]events.DynamoDBAttributeValue{"connectionId": events.NewStringAttribute(c.ID)},
			NewImage:       image,
			SequenceNumber: strconv.FormatInt(time.Now().UnixNano(), 10),
			StreamViewType: "NEW_IMAGE",
		},
	}}}
}

// serveSQS answers an SQS API request on the stack's port: the embedded
// broker's, or, when the queues are on an AWS API, an SQS error naming that
// API, so that a client pointed at the wrong endpoint is told where to go.
func (s *system) serveSQS(w http.ResponseWriter, r *http.Request) {
	if s.queues.broker != nil {
		s.queues.broker.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#QueueDoesNotExist",
		"message": "this local stack keeps its queues on the SQS API at " + s.queues.endpoint + " (AWS_ENDPOINT_URL); send there"})
}

// devQueues tells the test page where to send workflow messages: the SQS
// endpoint, the workflow and notification queues' URLs, and whether that
// endpoint is this stack's own port (local).
func (s *system) devQueues(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"endpoint": s.queues.endpoint, "local": s.queues.broker != nil,
		"workflow": s.queues.URL("workflow"), "notifications": s.queues.URL("notifications")})
}

// devSend sends the request's body ({"queue": "workflow" or
// "notifications", "body": "..."}) to that queue with the stack's own SQS
// client. The test page uses it when the queues are on an AWS API, which a
// browser cannot call unsigned.
func (s *system) devSend(w http.ResponseWriter, r *http.Request) {
	var in struct{ Queue, Body string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 512*1024)).Decode(&in); err != nil {
		writeDevError(w, http.StatusBadRequest, "the body must be JSON: {\"queue\": \"workflow\", \"body\": \"...\"}")
		return
	}
	if in.Queue != "workflow" && in.Queue != "notifications" {
		writeDevError(w, http.StatusBadRequest, "queue must be workflow or notifications")
		return
	}
	out, err := s.queues.client.SendMessage(r.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(s.queues.URL(in.Queue)), MessageBody: aws.String(in.Body)})
	if err != nil {
		s.log.Warn("dev send failed", "queue", in.Queue, "error", err)
		writeDevError(w, http.StatusBadGateway, "SendMessage failed: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"MessageId": aws.ToString(out.MessageId)})
}

func writeDevError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

// devSample serves a sample workflow message (kind=budget_transfer or
// journal_import) for the test page.
func devSample(w http.ResponseWriter, r *http.Request) {
	file := map[string]string{"budget_transfer": "budget-transfer.json", "journal_import": "journal-import.json"}[r.URL.Query().Get("kind")]
	if file == "" {
		http.Error(w, "kind must be budget_transfer or journal_import", http.StatusBadRequest)
		return
	}
	data, err := fs.ReadFile(fbdinotify.Samples, "events/messages/"+file)
	if err != nil {
		http.Error(w, "sample missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

// fanOut is how many posts of one notification the local notifier has in
// flight at once.
const fanOut = 32
