package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/local/ses"
)

// newMailServer returns the stack's e-mail service (/v2/email/...,
// /dev/mail), which publishes SES events to the mail events queue as the
// template's configuration set, topic and subscription do.
func (s *system) newMailServer() *ses.Server {
	return ses.New(ses.Options{Logger: s.log, Events: func(body string) error {
		_, err := s.queues.client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(s.queues.URL("mail-events")), MessageBody: aws.String(body)})
		return err
	}})
}

// sesClient is the functions' SES client: the real SDK client, pointed at
// this stack's e-mail service, or with AWS_ENDPOINT_URL at that API.
func (s *system) sesClient(awsCfg aws.Config) *sesv2.Client {
	if s.cfg.AWSEndpoint != "" {
		return sesv2.NewFromConfig(awsCfg)
	}
	return sesv2.New(sesv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.base),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

// verifySender makes the sender's domain an identity of the SES API at
// AWS_ENDPOINT_URL, as the operator verifies it on AWS (moto_server
// refuses mail from an unverified identity).
func verifySender(ctx context.Context, client *sesv2.Client, sender string) error {
	_, domain, ok := strings.Cut(sender, "@")
	if !ok {
		return fmt.Errorf("EMAIL_SENDER %q is not an address", sender)
	}
	_, err := client.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)})
	var exists *sestypes.AlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("verify %s on SES: %w", domain, err)
	}
	return nil
}
