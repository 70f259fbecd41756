package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/oklog/ulid/v2"

	"github.com/finance/fbdi-notify/internal/auth"
	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/local/apigw"
	"github.com/finance/fbdi-notify/internal/local/invoke"
	"github.com/finance/fbdi-notify/internal/local/queue"
	"github.com/finance/fbdi-notify/internal/local/samtemplate"
	"github.com/finance/fbdi-notify/internal/local/stream"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// functions are the template's functions by logical ID, as the local stack
// calls them: the WebSocket integrations, the queues' consumers, (for
// functions behind the Invoke API) the DynamoDB streams' consumers, and
// the scheduled SweeperFunction.
type functions struct {
	websocket map[string]apigw.Handler
	queue     map[string]queue.Handler
	streams   []streamConsumer
	sweep     scheduledHandler
}

// scheduledHandler is a function run on an EventBridge schedule.
type scheduledHandler func(ctx context.Context, ev events.EventBridgeEvent) (workflow.SweepResult, error)

// streamConsumer is a DynamoDB stream event-source mapping of the template,
// read through api.
type streamConsumer struct {
	api       stream.StreamsAPI
	function  string
	streamARN string
	handler   stream.Handler
	opts      stream.Options
}

// inProcessFunctions builds the functions' handlers in this process, on
// the given stores, wired as the functions' mains wire them. WelcomeFunction
// is fed by the connection store itself (there is no stream to read).
func (s *system) inProcessFunctions(stores stores) (functions, error) {
	cfg, log := s.cfg, s.log
	// The management API client, reaching this process's gateway.
	mgmt := managementClient(s.base, &s.gateway)
	sqsClient := s.queues.client

	// The functions record their metrics on stdout, as on Lambda, under
	// Stack "local". One recorder serves them all here (they share one
	// Notifier): what is pending is written when any invocation ends.
	var rec *metrics.Recorder // nil records nothing
	if cfg.Metrics {
		rec = metrics.New(os.Stdout, "local", nil)
	}

	// E-mail: scheduled by every function that stores notifications,
	// sent by MailFunction through the real SES client (see mail.go).
	sched, err := mail.NewScheduler(stores.mail, sqsClient, mail.SchedulerConfig{QueueURL: s.queues.URL("mail"),
		Window: cfg.EmailWindow, UnreadDelay: cfg.EmailUnreadDelay}, time.Now, log, rec)
	if err != nil {
		return functions{}, err
	}
	mailer := mail.NewHandler(stores.mail, stores.history, stores.preferences, s.sesClient(s.awsCfg), sched,
		mail.HandlerConfig{Sender: cfg.EmailSender, ConfigurationSet: "local", Defaults: cfg.Preferences}, log, rec)

	conns := &streamingStore{Store: stores.connections}
	n := notifier.New(conns, stores.history, mgmt, notifier.Options{Logger: log, Concurrency: fanOut, Metrics: rec,
		Preferences: stores.preferences, Defaults: cfg.Preferences, Unread: cfg.Unread, Outbox: sched})
	welcome := notifier.NewWelcomeHandler(n, notifier.WelcomeOptions{Logger: log, Claims: stores.connections})
	conns.onInsert = func(c connection.Connection) {
		// As Lambda invokes it: with a Lambda context, whose request id the handler logs.
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: ulid.Make().String()})
		go metrics.Flushing(rec, welcome.Handle)(ctx, streamRecord(c))
	}

	verifier, err := auth.NewVerifier([]byte(cfg.JWTSecret), auth.DefaultLeeway, time.Now, auth.WithTokenTypes(cfg.TokenTypes...))
	if err != nil {
		return functions{}, err
	}
	oc := oracle.New(oracle.Config{BaseURL: s.oracleURL, Username: cfg.OracleUsername, Password: cfg.OraclePassword},
		&http.Client{Timeout: 30 * time.Second})

	wcfg := workflow.DefaultConfig()
	wcfg.QueueURL = s.queues.URL("workflow")
	wcfg.PollInterval = cfg.PollInterval
	wcfg.Deadline = cfg.Deadline
	wcfg.RetryBase, wcfg.RetryMax, wcfg.MaxAttempts = cfg.RetryBase, cfg.RetryMax, cfg.RetryAttempts
	wcfg.DataAccessSet = cfg.DataAccessSet
	wcfg.AutoPostCriteriaID = cfg.AutoPostCriteriaID
	notify := func(ctx context.Context, userID string, note notification.Notification) error {
		_, err := n.Notify(ctx, userID, note)
		return err
	}
	gate := oraclegate.New(stores.gate, oracle.Config{BaseURL: s.oracleURL}.Host(), cfg.Gate, nil, log)
	engine, err := workflow.NewEngine(stores.workflows, oc, sqsClient, notify, wcfg, workflow.Options{Logger: log, Gate: gate, Metrics: rec})
	if err != nil {
		return functions{}, err
	}
	worker := workflow.NewWorker(engine, sqsClient, s.queues.URL("workflow-dlq"), log)
	sweeper, err := workflow.NewSweeper(stores.workflows, sqsClient, notify, wcfg, workflow.SweepOptions{Logger: log, Gate: gate,
		Metrics: rec, Connections: stores.connections})
	if err != nil {
		return functions{}, err
	}
	notifyQueue := notifier.NewQueueHandler(n, sqsClient, s.queues.URL("notifications-dlq"), log).WithOptions(
		notifier.QueueOptions{QueueURL: s.queues.URL("notifications"), RetryDelays: cfg.NotifyRetryDelays})

	return functions{
		websocket: map[string]apigw.Handler{
			"ConnectFunction":    metrics.Flushing(rec, route.NewConnect(verifier, conns, time.Now, log).WithMetrics(rec).Handle),
			"DisconnectFunction": route.NewDisconnect(conns, log).Handle,
			"MessageFunction": metrics.Flushing(rec, route.NewMessage(route.MessageConfig{
				Connections: conns, History: stores.history, Endpoint: s.base, Logger: log,
				Posters:     func(string) route.Poster { return n },
				Status:      workflow.NewService(stores.workflows).Status,
				Metrics:     rec,
				Preferences: route.Preferences{Store: stores.preferences, Defaults: cfg.Preferences},
			}).Handle),
		},
		queue: map[string]queue.Handler{
			"WorkerFunction": metrics.Flushing(rec, worker.Handle),
			"NotifyFunction": metrics.Flushing(rec, notifyQueue.Handle),
			"MailFunction":   metrics.Flushing(rec, mailer.Handle),
		},
		sweep: metrics.Flushing(rec, sweeper.Handle),
	}, nil
}

// remoteFunctions invokes every function of the template by its logical ID
// through the Lambda Invoke API at LAMBDA_ENDPOINT (`sam local
// start-lambda`), as API Gateway and Lambda's event-source mappings do:
// the WebSocket routes, the queues' mappings, and the DynamoDB streams'
// mappings, read from the tables the stack made on AWS_ENDPOINT_URL, which
// the functions must use too (db is that DynamoDB API's client).
func (s *system) remoteFunctions(ctx context.Context, tmpl *samtemplate.Template, awsCfg aws.Config, db *dynamodb.Client) (functions, error) {
	api := lambda.NewFromConfig(awsCfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(s.cfg.LambdaEndpoint) })
	fns := functions{websocket: map[string]apigw.Handler{}, queue: map[string]queue.Handler{},
		sweep: invoke.Func[events.EventBridgeEvent, workflow.SweepResult](api, "SweeperFunction")}
	for _, r := range tmpl.Routes() {
		fns.websocket[r.Function] = invoke.Func[events.APIGatewayWebsocketProxyRequest, events.APIGatewayProxyResponse](api, r.Function)
	}
	for _, m := range tmpl.QueueMappings() {
		fns.queue[m.Function] = invoke.Func[events.SQSEvent, events.SQSEventResponse](api, m.Function)
	}
	streams := dynamodbstreams.NewFromConfig(awsCfg)
	for _, f := range tmpl.Functions() {
		for _, e := range f.Events {
			if e.Type != "DynamoDB" {
				continue
			}
			suffix, ok := localTables[e.Source]
			if !ok {
				return functions{}, fmt.Errorf("function %s reads the stream of %s, which the local stack does not make", f.LogicalID, e.Source)
			}
			table, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.cfg.ResourcePrefix + suffix)})
			if err != nil {
				return functions{}, fmt.Errorf("stream of %s: %w", e.Source, err)
			}
			arn := aws.ToString(table.Table.LatestStreamArn)
			if arn == "" {
				return functions{}, fmt.Errorf("table %s has no stream", aws.ToString(table.Table.TableName))
			}
			fns.streams = append(fns.streams, streamConsumer{
				api: streams, function: f.LogicalID, streamARN: arn,
				handler: invoke.Func[events.DynamoDBEvent, events.DynamoDBEventResponse](api, f.LogicalID),
				opts: stream.Options{BatchSize: e.BatchSize, StartingPosition: e.StartingPosition,
					MaximumRetryAttempts: e.MaximumRetryAttempts, MaximumRecordAge: e.MaximumRecordAge,
					Filters: e.FilterPatterns, ReportBatchItemFailures: e.ReportBatchItemFailures,
					Timeout: f.Timeout, Region: awsCfg.Region, Logger: s.log},
			})
		}
	}
	return fns, nil
}
