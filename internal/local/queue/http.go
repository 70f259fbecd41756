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

// ServeHTTP answers the SQS API over the AWS JSON 1.0 protocol: SendMessage,
// SendMessageBatch, GetQueueUrl, ListQueues, ReceiveMessage, DeleteMessage,
// DeleteMessageBatch, ChangeMessageVisibility, GetQueueAttributes and
// PurgeQueue. Credentials and signatures are not checked.
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
	"QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
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
