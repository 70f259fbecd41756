package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRequestBytes bounds a request body: ten entries of the largest message,
// base64 overhead included.
const maxRequestBytes = 16 << 20

// IsRequest reports whether r is an SQS API call (AWS JSON protocol), so a
// server that shares its port with other handlers can route it here.
func IsRequest(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
}

// ServeHTTP answers the SQS API over the AWS JSON 1.0 protocol: CreateQueue,
// SendMessage, SendMessageBatch, GetQueueUrl, ListQueues, ReceiveMessage,
// DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility,
// ChangeMessageVisibilityBatch, GetQueueAttributes, PurgeQueue, and the
// dead-letter redrive: StartMessageMoveTask, ListMessageMoveTasks and
// CancelMessageMoveTask. Credentials and signatures are not checked.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !IsRequest(r) {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "", "expected an AmazonSQS.* X-Amz-Target")
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil || len(body) > maxRequestBytes {
		writeError(w, http.StatusBadRequest, "InvalidParameterValue", "", "request body unreadable or too large")
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	var resp any
	switch op {
	case "CreateQueue":
		resp, err = b.apiCreateQueue(body)
	case "SendMessage":
		resp, err = b.apiSend(body)
	case "SendMessageBatch":
		resp, err = b.apiSendBatch(body)
	case "GetQueueUrl":
		resp, err = b.apiGetQueueURL(body)
	case "ListQueues":
		resp, err = b.apiListQueues(body)
	case "ReceiveMessage":
		resp, err = b.apiReceive(r, body)
	case "DeleteMessage":
		resp, err = b.apiDelete(body)
	case "DeleteMessageBatch":
		resp, err = b.apiDeleteBatch(body)
	case "ChangeMessageVisibility":
		resp, err = b.apiChangeVisibility(body)
	case "ChangeMessageVisibilityBatch":
		resp, err = b.apiChangeVisibilityBatch(body)
	case "StartMessageMoveTask":
		resp, err = b.apiStartMoveTask(body)
	case "ListMessageMoveTasks":
		resp, err = b.apiListMoveTasks(body)
	case "CancelMessageMoveTask":
		resp, err = b.apiCancelMoveTask(body)
	case "GetQueueAttributes":
		resp, err = b.apiGetQueueAttributes(body)
	case "PurgeQueue":
		resp, err = b.apiPurge(body)
	default:
		writeError(w, http.StatusBadRequest, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation",
			"operation "+op+" is not supported by the local queue")
		return
	}
	if err != nil {
		writeAPIError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(resp)
}

type apiAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

type apiSendEntry struct {
	ID                string                  `json:"Id"`
	QueueURL          string                  `json:"QueueUrl"`
	MessageBody       *string                 `json:"MessageBody"`
	DelaySeconds      *int                    `json:"DelaySeconds"`
	MessageAttributes map[string]apiAttribute `json:"MessageAttributes"`
}

type apiSendResult struct {
	ID                     string `json:"Id,omitempty"`
	MessageID              string `json:"MessageId"`
	MD5OfMessageBody       string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty"`
}

func (b *Broker) apiSend(body []byte) (any, error) {
	var in apiSendEntry
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := b.queueName(in.QueueURL)
	if err != nil {
		return nil, err
	}
	m, err := b.sendEntry(name, in)
	if err != nil {
		return nil, err
	}
	return apiSendResult{MessageID: m.ID, MD5OfMessageBody: m.MD5OfBody, MD5OfMessageAttributes: m.MD5OfAttributes}, nil
}

func (b *Broker) sendEntry(name string, in apiSendEntry) (Message, error) {
	if in.MessageBody == nil {
		return Message{}, apiErr("MissingParameter", "The request must contain the parameter MessageBody.")
	}
	delay := time.Duration(-1)
	if in.DelaySeconds != nil {
		if *in.DelaySeconds < 0 || *in.DelaySeconds > int(MaxDelay/time.Second) {
			return Message{}, apiErr("InvalidParameterValue", "DelaySeconds must be between 0 and 900.")
		}
		delay = time.Duration(*in.DelaySeconds) * time.Second
	}
	attrs, err := toAttributes(in.MessageAttributes)
	if err != nil {
		return Message{}, err
	}
	return b.Send(name, *in.MessageBody, delay, attrs)
}

func toAttributes(in map[string]apiAttribute) (map[string]Attribute, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > 10 {
		return nil, apiErr("InvalidParameterValue", "A message can have at most 10 message attributes.")
	}
	out := make(map[string]Attribute, len(in))
	for k, a := range in {
		if k == "" || a.DataType == "" {
			return nil, apiErr("InvalidParameterValue", "Message attribute "+strconv.Quote(k)+" must have a name and a DataType.")
		}
		out[k] = Attribute{DataType: a.DataType, StringValue: a.StringValue, BinaryValue: a.BinaryValue}
	}
	return out, nil
}

func (b *Broker) apiSendBatch(body []byte) (any, error) {
	in, name, err := request[struct {
		queueRef
		Entries []apiSendEntry `json:"Entries"`
	}](b, body)
	if err != nil {
		return nil, err
	}
	if len(in.Entries) == 0 {
		return nil, apiErr("EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry in the request.")
	}
	if len(in.Entries) > MaxBatchEntries {
		return nil, apiErr("TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10.")
	}
	seen := map[string]bool{}
	for _, e := range in.Entries {
		if seen[e.ID] {
			return nil, apiErr("BatchEntryIdsNotDistinct", "Id "+e.ID+" repeated.")
		}
		seen[e.ID] = true
	}
	type failed struct {
		ID          string `json:"Id"`
		SenderFault bool   `json:"SenderFault"`
		Code        string `json:"Code"`
		Message     string `json:"Message"`
	}
	out := struct {
		Successful []apiSendResult `json:"Successful"`
		Failed     []failed        `json:"Failed"`
	}{Successful: []apiSendResult{}, Failed: []failed{}}
	for _, e := range in.Entries {
		m, err := b.sendEntry(name, e)
		if err != nil {
			code, msg := errorCode(err)
			out.Failed = append(out.Failed, failed{ID: e.ID, SenderFault: true, Code: code, Message: msg})
			continue
		}
		out.Successful = append(out.Successful, apiSendResult{ID: e.ID, MessageID: m.ID,
			MD5OfMessageBody: m.MD5OfBody, MD5OfMessageAttributes: m.MD5OfAttributes})
	}
	return out, nil
}

func (b *Broker) apiGetQueueURL(body []byte) (any, error) {
	var in struct {
		QueueName string `json:"QueueName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !b.exists(in.QueueName) {
		return nil, fmt.Errorf("localqueue: get queue url %s: %w", in.QueueName, ErrNoQueue)
	}
	return map[string]string{"QueueUrl": b.QueueURL(in.QueueName)}, nil
}

func (b *Broker) apiListQueues(body []byte) (any, error) {
	var in struct {
		QueueNamePrefix string `json:"QueueNamePrefix"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	urls := []string{}
	for _, n := range b.Names() {
		if strings.HasPrefix(n, in.QueueNamePrefix) {
			urls = append(urls, b.QueueURL(n))
		}
	}
	return map[string][]string{"QueueUrls": urls}, nil
}

func (b *Broker) apiReceive(r *http.Request, body []byte) (any, error) {
	in, name, err := request[struct {
		queueRef
		MaxNumberOfMessages int  `json:"MaxNumberOfMessages"`
		VisibilityTimeout   *int `json:"VisibilityTimeout"`
		WaitTimeSeconds     int  `json:"WaitTimeSeconds"`
	}](b, body)
	if err != nil {
		return nil, err
	}
	if in.MaxNumberOfMessages == 0 {
		in.MaxNumberOfMessages = 1
	}
	if in.MaxNumberOfMessages < 1 || in.MaxNumberOfMessages > MaxBatchEntries {
		return nil, apiErr("InvalidParameterValue", "MaxNumberOfMessages must be between 1 and 10.")
	}
	if in.WaitTimeSeconds < 0 || in.WaitTimeSeconds > 20 {
		return nil, apiErr("InvalidParameterValue", "WaitTimeSeconds must be between 0 and 20.")
	}
	var vis time.Duration
	if in.VisibilityTimeout != nil {
		vis = time.Duration(*in.VisibilityTimeout) * time.Second
		if vis == 0 {
			vis = time.Nanosecond // visible again at once
		}
	}
	msgs, err := b.Receive(name, in.MaxNumberOfMessages, vis, time.Duration(in.WaitTimeSeconds)*time.Second, r.Context().Done())
	if err != nil {
		return nil, err
	}
	type apiMessage struct {
		MessageID              string                  `json:"MessageId"`
		ReceiptHandle          string                  `json:"ReceiptHandle"`
		MD5OfBody              string                  `json:"MD5OfBody"`
		Body                   string                  `json:"Body"`
		Attributes             map[string]string       `json:"Attributes"`
		MessageAttributes      map[string]apiAttribute `json:"MessageAttributes,omitempty"`
		MD5OfMessageAttributes string                  `json:"MD5OfMessageAttributes,omitempty"`
	}
	out := []apiMessage{}
	for _, m := range msgs {
		am := apiMessage{MessageID: m.ID, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body,
			Attributes: b.systemAttributes(m), MD5OfMessageAttributes: m.MD5OfAttributes}
		if len(m.Attributes) > 0 {
			am.MessageAttributes = map[string]apiAttribute{}
			for k, a := range m.Attributes {
				am.MessageAttributes[k] = apiAttribute{DataType: a.DataType, StringValue: a.StringValue, BinaryValue: a.BinaryValue}
			}
		}
		out = append(out, am)
	}
	return map[string]any{"Messages": out}, nil
}

// systemAttributes are the attributes SQS reports for a received message.
func (b *Broker) systemAttributes(m Message) map[string]string {
	attrs := map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
		"SentTimestamp":                    strconv.FormatInt(m.SentAt.UnixMilli(), 10),
		"SenderId":                         "AIDAIENQZJOLO23YVJ4VO",
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.FirstReceivedAt.UnixMilli(), 10),
	}
	if m.DeadLetterSourceName != "" {
		attrs["DeadLetterQueueSourceArn"] = b.QueueARN(m.DeadLetterSourceName)
	}
	return attrs
}

func (b *Broker) apiDelete(body []byte) (any, error) {
	in, name, err := request[struct {
		queueRef
		ReceiptHandle string `json:"ReceiptHandle"`
	}](b, body)
	if err != nil {
		return nil, err
	}
	return struct{}{}, b.Delete(name, in.ReceiptHandle)
}

func (b *Broker) apiDeleteBatch(body []byte) (any, error) {
	in, name, err := request[struct {
		queueRef
		Entries []struct {
			ID            string `json:"Id"`
			ReceiptHandle string `json:"ReceiptHandle"`
		} `json:"Entries"`
	}](b, body)
	if err != nil {
		return nil, err
	}
	type ok struct {
		ID string `json:"Id"`
	}
	out := struct {
		Successful []ok  `json:"Successful"`
		Failed     []any `json:"Failed"`
	}{Successful: []ok{}, Failed: []any{}}
	for _, e := range in.Entries {
		if err := b.Delete(name, e.ReceiptHandle); err != nil {
			code, msg := errorCode(err)
			out.Failed = append(out.Failed, map[string]any{"Id": e.ID, "SenderFault": true, "Code": code, "Message": msg})
			continue
		}
		out.Successful = append(out.Successful, ok{ID: e.ID})
	}
	return out, nil
}

func (b *Broker) apiChangeVisibility(body []byte) (any, error) {
	in, name, err := request[struct {
		queueRef
		ReceiptHandle     string `json:"ReceiptHandle"`
		VisibilityTimeout int    `json:"VisibilityTimeout"`
	}](b, body)
	if err != nil {
		return nil, err
	}
	return struct{}{}, b.ChangeVisibility(name, in.ReceiptHandle, time.Duration(in.VisibilityTimeout)*time.Second)
}

func (b *Broker) apiGetQueueAttributes(body []byte) (any, error) {
	_, name, err := request[queueRef](b, body)
	if err != nil {
		return nil, err
	}
	visible, inFlight, delayed, err := b.Counts(name)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	cfg := b.queues[name].cfg
	b.mu.Unlock()
	attrs := map[string]string{
		"QueueArn":                              b.QueueARN(name),
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inFlight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
		"VisibilityTimeout":                     strconv.Itoa(int(cfg.VisibilityTimeout / time.Second)),
		"DelaySeconds":                          strconv.Itoa(int(cfg.Delay / time.Second)),
		"MaximumMessageSize":                    strconv.Itoa(cfg.MaxMessageBytes),
	}
	if cfg.DeadLetterQueue != "" {
		rp, _ := json.Marshal(map[string]any{"deadLetterTargetArn": b.QueueARN(cfg.DeadLetterQueue), "maxReceiveCount": cfg.MaxReceiveCount})
		attrs["RedrivePolicy"] = string(rp)
	}
	return map[string]any{"Attributes": attrs}, nil
}

func (b *Broker) apiPurge(body []byte) (any, error) {
	_, name, err := request[queueRef](b, body)
	if err != nil {
		return nil, err
	}
	return struct{}{}, b.Purge(name)
}

func (b *Broker) exists(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.queues[name]
	return ok
}

// queueName takes the name from a queue URL (its last path segment), whatever
// host the client used to reach this broker.
func (b *Broker) queueName(queueURL string) (string, error) {
	if queueURL == "" {
		return "", apiErr("MissingParameter", "The request must contain the parameter QueueUrl.")
	}
	name := queueURL[strings.LastIndex(queueURL, "/")+1:]
	if !b.exists(name) {
		return "", fmt.Errorf("localqueue: %s: %w", name, ErrNoQueue)
	}
	return name, nil
}

// queueRef is the QueueUrl member of every request that names a queue.
type queueRef struct {
	QueueURL string `json:"QueueUrl"`
}

func (q queueRef) queueURL() string { return q.QueueURL }

// request decodes a request body that names a queue and resolves the queue.
func request[T interface{ queueURL() string }](b *Broker, body []byte) (T, string, error) {
	var in T
	if err := decode(body, &in); err != nil {
		return in, "", err
	}
	name, err := b.queueName(in.queueURL())
	return in, name, err
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return apiErr("InvalidParameterValue", "The request body is not valid JSON for this operation.")
	}
	return nil
}

// apiError is an SQS error with its code, as the JSON protocol reports it.
type apiError struct{ code, msg string }

func (e *apiError) Error() string { return "localqueue: " + e.code + ": " + e.msg }

func apiErr(code, msg string) error { return &apiError{code: code, msg: msg} }

func errorCode(err error) (code, msg string) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.code, ae.msg
	case errors.Is(err, ErrNoQueue):
		return "QueueDoesNotExist", "The specified queue does not exist."
	case errors.Is(err, ErrNotDeadLetterQueue):
		return "UnsupportedOperation", "Source queue must be configured as a Dead Letter Queue."
	case errors.Is(err, ErrMoveTaskRunning):
		return "UnsupportedOperation", "There is already a task running. Only one active task is allowed for a source queue arn at a given time."
	case errors.Is(err, ErrMoveTaskNotRunning):
		return "UnsupportedOperation", "Only active tasks can be cancelled."
	case errors.Is(err, ErrNoMoveTask):
		return "ResourceNotFoundException", "Task does not exist."
	case errors.Is(err, ErrTooLarge):
		return "InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter than the queue's maximum message size."
	case errors.Is(err, ErrReceiptHandle):
		return "ReceiptHandleIsInvalid", "The input receipt handle is invalid."
	case errors.Is(err, ErrInvalidParameter):
		return "InvalidParameterValue", strings.TrimPrefix(err.Error(), "localqueue: ")
	}
	return "InternalError", "internal error"
}

// queryCodes are the legacy query-protocol codes that SDKs read from the
// x-amzn-query-error header to keep error codes stable across protocols.
var queryCodes = map[string]string{
	"QueueDoesNotExist":    "AWS.SimpleQueueService.NonExistentQueue",
	"QueueNameExists":      "QueueAlreadyExists",
	"UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
}

func writeAPIError(w http.ResponseWriter, err error) {
	code, msg := errorCode(err)
	status := http.StatusBadRequest
	if code == "InternalError" {
		status = http.StatusInternalServerError
	}
	writeError(w, status, code, queryCodes[code], msg)
}

func writeError(w http.ResponseWriter, status int, code, queryCode, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if queryCode == "" {
		queryCode = code
	}
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	w.Header().Set("x-amzn-query-error", queryCode+";"+fault)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + code, "message": msg})
}

func (b *Broker) apiCreateQueue(body []byte) (any, error) {
	var in struct {
		QueueName  string            `json:"QueueName"`
		Attributes map[string]string `json:"Attributes"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter QueueName.")
	}
	if !validQueueName(in.QueueName) {
		return nil, apiErr("InvalidParameterValue", "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	cfg, err := b.queueConfig(in.QueueName, in.Attributes)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	existing, ok := b.queues[in.QueueName]
	b.mu.Unlock()
	switch {
	case ok && len(in.Attributes) > 0 && existing.cfg != cfg:
		return nil, apiErr("QueueNameExists", "A queue already exists with the same name and a different value for an attribute.")
	case !ok:
		if err := b.CreateQueue(cfg); err != nil {
			return nil, err
		}
	}
	return map[string]string{"QueueUrl": b.QueueURL(in.QueueName)}, nil
}

// queueConfig reads the CreateQueue attributes the broker models:
// VisibilityTimeout, DelaySeconds, MaximumMessageSize and RedrivePolicy.
// Others (retention, encryption, policies) are accepted and ignored.
func (b *Broker) queueConfig(name string, attrs map[string]string) (QueueConfig, error) {
	cfg := QueueConfig{Name: name, VisibilityTimeout: DefaultVisibilityTimeout, MaxMessageBytes: DefaultMaxMessageBytes}
	seconds := func(attr string, lo, hi int) (time.Duration, error) {
		n, err := strconv.Atoi(attrs[attr])
		if err != nil || n < lo || n > hi {
			return 0, apiErr("InvalidAttributeValue", fmt.Sprintf("Invalid value for the parameter %s: must be %d to %d.", attr, lo, hi))
		}
		return time.Duration(n) * time.Second, nil
	}
	var err error
	if _, ok := attrs["VisibilityTimeout"]; ok {
		if cfg.VisibilityTimeout, err = seconds("VisibilityTimeout", 0, 43200); err != nil {
			return cfg, err
		}
		if cfg.VisibilityTimeout == 0 {
			cfg.VisibilityTimeout = time.Nanosecond // visible again at once
		}
	}
	if _, ok := attrs["DelaySeconds"]; ok {
		if cfg.Delay, err = seconds("DelaySeconds", 0, int(MaxDelay/time.Second)); err != nil {
			return cfg, err
		}
	}
	if v, ok := attrs["MaximumMessageSize"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1024 || n > DefaultMaxMessageBytes {
			return cfg, apiErr("InvalidAttributeValue", "Invalid value for the parameter MaximumMessageSize.")
		}
		cfg.MaxMessageBytes = n
	}
	if v, ok := attrs["RedrivePolicy"]; ok {
		var p struct {
			DeadLetterTargetArn string      `json:"deadLetterTargetArn"`
			MaxReceiveCount     json.Number `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(v), &p); err != nil {
			return cfg, apiErr("InvalidAttributeValue", "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.")
		}
		n, err := strconv.Atoi(p.MaxReceiveCount.String())
		if err != nil || n < 1 || n > 1000 {
			return cfg, apiErr("InvalidAttributeValue", "Invalid value for the parameter RedrivePolicy. Reason: Invalid value for maxReceiveCount: must be 1 to 1000.")
		}
		dlq, err := b.arnQueue(p.DeadLetterTargetArn, "deadLetterTargetArn")
		if err != nil {
			return cfg, apiErr("InvalidAttributeValue", "Invalid value for the parameter RedrivePolicy. Reason: Dead letter target does not exist.")
		}
		cfg.DeadLetterQueue, cfg.MaxReceiveCount = dlq, n
	}
	return cfg, nil
}

func validQueueName(name string) bool {
	if len(name) > 80 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (b *Broker) apiChangeVisibilityBatch(body []byte) (any, error) {
	in, name, err := request[struct {
		queueRef
		Entries []struct {
			ID                string `json:"Id"`
			ReceiptHandle     string `json:"ReceiptHandle"`
			VisibilityTimeout int    `json:"VisibilityTimeout"`
		} `json:"Entries"`
	}](b, body)
	if err != nil {
		return nil, err
	}
	if len(in.Entries) == 0 {
		return nil, apiErr("EmptyBatchRequest", "There should be at least one ChangeMessageVisibilityBatchRequestEntry in the request.")
	}
	if len(in.Entries) > MaxBatchEntries {
		return nil, apiErr("TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10.")
	}
	type ok struct {
		ID string `json:"Id"`
	}
	out := struct {
		Successful []ok  `json:"Successful"`
		Failed     []any `json:"Failed"`
	}{Successful: []ok{}, Failed: []any{}}
	for _, e := range in.Entries {
		if err := b.ChangeVisibility(name, e.ReceiptHandle, time.Duration(e.VisibilityTimeout)*time.Second); err != nil {
			code, msg := errorCode(err)
			out.Failed = append(out.Failed, map[string]any{"Id": e.ID, "SenderFault": true, "Code": code, "Message": msg})
			continue
		}
		out.Successful = append(out.Successful, ok{ID: e.ID})
	}
	return out, nil
}

// arnQueue returns the name of the queue an ARN names; param names the
// request parameter in errors.
func (b *Broker) arnQueue(arn, param string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[5] == "" {
		return "", apiErr("InvalidAddress", "The address "+arn+" is not valid for this endpoint.")
	}
	name := parts[5]
	if arn != b.QueueARN(name) || !b.exists(name) {
		return "", apiErr("ResourceNotFoundException", "The resource that you specified for the "+param+" parameter doesn't exist.")
	}
	return name, nil
}

func (b *Broker) apiStartMoveTask(body []byte) (any, error) {
	var in struct {
		SourceArn                    string `json:"SourceArn"`
		DestinationArn               string `json:"DestinationArn"`
		MaxNumberOfMessagesPerSecond *int   `json:"MaxNumberOfMessagesPerSecond"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.SourceArn == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter SourceArn.")
	}
	source, err := b.arnQueue(in.SourceArn, "SourceArn")
	if err != nil {
		return nil, err
	}
	var dest string
	if in.DestinationArn != "" {
		if dest, err = b.arnQueue(in.DestinationArn, "DestinationArn"); err != nil {
			return nil, err
		}
		if dest == source {
			return nil, apiErr("UnsupportedOperation", "The source queue and the destination queue must be different.")
		}
	}
	rate := 0
	if in.MaxNumberOfMessagesPerSecond != nil {
		if rate = *in.MaxNumberOfMessagesPerSecond; rate < 1 || rate > MaxMoveRate {
			return nil, apiErr("InvalidParameterValue", fmt.Sprintf("Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be between 1 and %d.", MaxMoveRate))
		}
	}
	t, err := b.StartMoveTask(source, dest, rate)
	if err != nil {
		return nil, err
	}
	return map[string]string{"TaskHandle": t.Handle}, nil
}

// apiMoveTask is a ListMessageMoveTasksResultEntry. As in SQS, TaskHandle
// is given while the task runs, DestinationArn and the rate only when the
// task was started with them, and FailureReason only for a failed task.
type apiMoveTask struct {
	TaskHandle                        string `json:"TaskHandle,omitempty"`
	Status                            string `json:"Status"`
	SourceArn                         string `json:"SourceArn"`
	DestinationArn                    string `json:"DestinationArn,omitempty"`
	MaxNumberOfMessagesPerSecond      int    `json:"MaxNumberOfMessagesPerSecond,omitempty"`
	ApproximateNumberOfMessagesMoved  int64  `json:"ApproximateNumberOfMessagesMoved"`
	ApproximateNumberOfMessagesToMove int64  `json:"ApproximateNumberOfMessagesToMove"`
	StartedTimestamp                  int64  `json:"StartedTimestamp"`
	FailureReason                     string `json:"FailureReason,omitempty"`
}

func (b *Broker) apiListMoveTasks(body []byte) (any, error) {
	var in struct {
		SourceArn  string `json:"SourceArn"`
		MaxResults *int   `json:"MaxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.SourceArn == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter SourceArn.")
	}
	source, err := b.arnQueue(in.SourceArn, "SourceArn")
	if err != nil {
		return nil, err
	}
	max := 1
	if in.MaxResults != nil {
		if max = *in.MaxResults; max < 1 || max > maxMoveTasks {
			return nil, apiErr("InvalidParameterValue", fmt.Sprintf("Value for parameter MaxResults is invalid. Reason: must be between 1 and %d.", maxMoveTasks))
		}
	}
	tasks, err := b.MoveTasks(source, max)
	if err != nil {
		return nil, err
	}
	out := make([]apiMoveTask, 0, len(tasks))
	for _, t := range tasks {
		e := apiMoveTask{Status: t.Status, SourceArn: b.QueueARN(t.Source), MaxNumberOfMessagesPerSecond: t.MaxPerSecond,
			ApproximateNumberOfMessagesMoved: int64(t.Moved), ApproximateNumberOfMessagesToMove: int64(t.ToMove),
			StartedTimestamp: t.StartedAt.UnixMilli()}
		if t.Status == MoveRunning {
			e.TaskHandle = t.Handle
		}
		if t.Destination != "" {
			e.DestinationArn = b.QueueARN(t.Destination)
		}
		if t.Status == MoveFailed {
			e.FailureReason = t.FailureReason
		}
		out = append(out, e)
	}
	return map[string]any{"Results": out}, nil
}

func (b *Broker) apiCancelMoveTask(body []byte) (any, error) {
	var in struct {
		TaskHandle string `json:"TaskHandle"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.TaskHandle == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter TaskHandle.")
	}
	t, err := b.CancelMoveTask(in.TaskHandle)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"ApproximateNumberOfMessagesMoved": int64(t.Moved)}, nil
}
