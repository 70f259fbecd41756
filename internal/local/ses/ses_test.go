package ses_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/finance/fbdi-notify/internal/local/ses"
)

func client(url string) *sesv2.Client {
	return sesv2.New(sesv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

// The real SDK client sends through the server; the e-mail is listed at
// /dev/mail, and a bounce of its address is published with its tags.
func TestSendListBounce(t *testing.T) {
	var published []string
	srv := ses.New(ses.Options{Events: func(body string) error { published = append(published, body); return nil }})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()
	out, err := client(hs.URL).SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("notifications@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"ann@example.com"}},
		Content: &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String("Failed: x")},
			Body: &types.Body{Text: &types.Content{Data: aws.String("text")}, Html: &types.Content{Data: aws.String("<p>html</p>")}}}},
		ConfigurationSetName: aws.String("local"),
		EmailTags:            []types.MessageTag{{Name: aws.String("user_id"), Value: aws.String("MTIz")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(hs.URL + "/dev/mail")
	if err != nil {
		t.Fatal(err)
	}
	var mails []ses.Mail
	if err := json.NewDecoder(resp.Body).Decode(&mails); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(mails) != 1 || mails[0].MessageID != aws.ToString(out.MessageId) || mails[0].Subject != "Failed: x" ||
		mails[0].Text != "text" || mails[0].HTML != "<p>html</p>" || mails[0].Tags["user_id"][0] != "MTIz" {
		t.Fatalf("/dev/mail = %+v; want the e-mail sent as %s", mails, aws.ToString(out.MessageId))
	}

	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantEvent  string // eventType published
	}{
		{name: "bounce", query: "address=ann@example.com", wantStatus: http.StatusAccepted, wantEvent: "Bounce"},
		{name: "complaint", query: "address=ann@example.com&type=complaint", wantStatus: http.StatusAccepted, wantEvent: "Complaint"},
		{name: "an address never mailed", query: "address=bob@example.com", wantStatus: http.StatusNotFound},
		{name: "an unknown type", query: "address=ann@example.com&type=delivery", wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			published = nil
			resp, err := http.Post(hs.URL+"/dev/mail/bounce?"+tt.query, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d; want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantEvent == "" {
				if len(published) != 0 {
					t.Fatalf("published %v; want nothing", published)
				}
				return
			}
			var ev struct {
				EventType string
				Mail      struct{ Tags map[string][]string }
			}
			if len(published) != 1 || json.Unmarshal([]byte(published[0]), &ev) != nil ||
				ev.EventType != tt.wantEvent || ev.Mail.Tags["user_id"][0] != "MTIz" {
				t.Fatalf("published %v; want one %s with the e-mail's tags", published, tt.wantEvent)
			}
		})
	}
}

func TestSendRefusesIncomplete(t *testing.T) {
	hs := httptest.NewServer(ses.New(ses.Options{}))
	defer hs.Close()
	_, err := client(hs.URL).SendEmail(context.Background(), &sesv2.SendEmailInput{FromEmailAddress: aws.String("a@example.com"),
		Content: &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String("s")}, Body: &types.Body{}}}})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "BadRequestException" {
		t.Fatalf("SendEmail without a destination: %v; want BadRequestException", err)
	}
}
