// Command local runs the whole system on one machine (`make run`): an
// API Gateway WebSocket emulator with its management API, an SQS-compatible
// intake for upstream systems, the same handlers as the Lambda functions wired
// the same way, embedded stores, an Oracle ERP simulator and the browser test
// page, all on one port (default 3001).
//
//	go run ./infra/local            start the stack
//	go run ./infra/local token 123  print a dev token for user 123
//
// Configuration comes from the environment; see
// docs/operations.md#local-stack-variables.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/finance/fbdi-notify/internal/local/devtoken"
)

func main() {
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "configuration:", err)
		os.Exit(2)
	}
	if len(os.Args) > 1 {
		os.Exit(command(cfg, os.Args[1:]))
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := newStack(ctx, cfg, log)
	if err != nil {
		log.Error("stack did not start", "error", err)
		os.Exit(1)
	}
	s.printBanner(os.Stdout)
	if err := s.run(ctx); err != nil {
		log.Error("stack stopped with an error", "error", err)
		os.Exit(1)
	}
}

// command runs a subcommand and returns the exit code.
func command(cfg config, args []string) int {
	switch {
	case args[0] == "token" && len(args) == 2:
		tok, err := devtoken.Mint([]byte(cfg.JWTSecret), args[1], time.Now(), devtoken.DefaultTTL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "token:", err)
			return 1
		}
		fmt.Println(tok)
		return 0
	default:
		fmt.Fprintln(os.Stderr, "usage: local [token USER_ID]")
		return 2
	}
}
