package app

import (
	"context"
	"fmt"

	"github.com/newsbot/newsbot/bot/app/config"
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

// OpenStore opens the database DATABASE_URL names, for the bot and for every
// subcommand (newsbot feeds …): a SQLite file, or PostgreSQL.
func OpenStore(ctx context.Context, cfg config.Config) (Store, error) {
	kind, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	switch kind {
	case config.DatabasePostgres:
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
		return db, nil
	}
}

// openBotStore is OpenStore for the bot process. A SQLite file admits one
// bot: a second one is refused with the reason, since two would deliver
// every briefing twice (a feeds subcommand beside it is fine). PostgreSQL
// admits several, which split the work through claims with leases.
func openBotStore(ctx context.Context, cfg config.Config) (Store, error) {
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if db, ok := store.(*sqlite.DB); ok {
		if err := db.LockInstance(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	return store, nil
}
