package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/finance/fbdi-notify/internal/local/devtoken"
)

// TestManagementClient: the client the local functions post through reaches
// the running gateway in-process and decodes its answers as the SDK does
// over HTTP: a post arrives at the client, GetConnection describes the
// connection, and an unknown connection is a GoneException (which the
// notifier acts on by deleting the connection).
func TestManagementClient(t *testing.T) {
	s, _ := benchStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := devtoken.Mint([]byte(s.cfg.JWTSecret), "mgmt-user", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.Dial(ctx, "ws"+s.base[len("http"):], &websocket.DialOptions{Subprotocols: []string{tok}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var welcome struct {
		Type         string `json:"type"`
		ConnectionID string `json:"connection_id"`
	}
	if err := wsjson.Read(ctx, c, &welcome); err != nil || welcome.Type != "connection_established" || welcome.ConnectionID == "" {
		t.Fatalf("first message %+v, %v; want connection_established with the connection id", welcome, err)
	}
	id := welcome.ConnectionID
	mgmt := managementClient(s.base, &s.gateway)

	if _, err := mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(`{"n":1}`)}); err != nil {
		t.Fatalf("PostToConnection: %v", err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != `{"n":1}` {
		t.Errorf("client read %q, %v; want {\"n\":1}", got, err)
	}
	out, err := mgmt.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
	if err != nil || aws.ToString(out.Identity.SourceIp) != "127.0.0.1" {
		t.Errorf("GetConnection = %+v, %v; want the connection from 127.0.0.1", out, err)
	}
	var gone *types.GoneException
	_, err = mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String("L0SM9cOFvHcCIhw="), Data: []byte("x")})
	if !errors.As(err, &gone) {
		t.Errorf("PostToConnection to an unknown connection: %v, want GoneException", err)
	}
}
