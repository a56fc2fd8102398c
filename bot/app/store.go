package app

import (
	"context"
	"fmt"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/metrics"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/postgres"
	"github.com/newsbot/newsbot/briefings/sqlite"
)

// Store is what Main needs of a store, whichever database holds it.
type Store interface {
	briefings.Store
	briefings.DeliveryStore
	metrics.SubscriptionCounter
	// InstanceID names this process in delivery claims.
	InstanceID() string
	Ping(ctx context.Context) error
	Close() error
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// openStore opens the database DATABASE_URL names. A SQLite file admits one
// process: a second one is refused with the reason, since two would deliver
// every briefing twice. PostgreSQL admits several, which split the work
// through claims with leases.
func openStore(ctx context.Context, cfg bot.Config) (Store, error) {
	kind, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	switch kind {
	case bot.DatabasePostgres:
		db, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return db, nil
	default:
		db, err := sqlite.Open(ctx, cfg.SQLitePath())
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		if err := db.LockInstance(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
		return db, nil
	}
}
