package app

import (
	"context"
	"net/http"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/admin"
	"github.com/newsbot/newsbot/bot/discord"
	"github.com/newsbot/newsbot/bot/telegram"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/postgres"
	"github.com/newsbot/newsbot/briefings/sqlite"
)

var (
	_ admin.Store         = (*sqlite.DB)(nil)
	_ admin.Store         = (*postgres.DB)(nil)
	_ admin.FetchRecorder = (*sqlite.DB)(nil)
	_ admin.FetchRecorder = (*postgres.DB)(nil)
)

// recordFetches keeps each fetch's result for the operator's panel, when the
// panel is on.
func (m *Main) recordFetches(f briefings.Fetcher) briefings.Fetcher {
	rec, ok := m.store.(admin.FetchRecorder)
	if m.Config.AdminToken == "" || !ok {
		return f
	}
	return admin.RecordFetches(f, rec, m.Logger)
}

// mountAdmin serves the operator's panel under /admin/ when
// NEWSBOT_ADMIN_TOKEN is set; without it /admin/ does not exist.
func (m *Main) mountAdmin(ctx context.Context, mux *http.ServeMux) error {
	if m.Config.AdminToken == "" {
		return nil
	}
	store, ok := m.store.(admin.Store)
	if !ok {
		m.Logger.Warn("the operator's panel is off: this store does not answer its queries")
		return nil
	}
	var poll func(ctx context.Context) error
	if m.poller != nil {
		// A round the panel starts ends with the process, too.
		poll = func(pollCtx context.Context) error {
			pollCtx, cancel := context.WithCancel(pollCtx)
			defer cancel()
			defer context.AfterFunc(ctx, cancel)()
			_, err := m.poller.Poll(pollCtx)
			return err
		}
	}
	h, err := admin.New(admin.Options{
		Token:      m.Config.AdminToken,
		Store:      store,
		Resumer:    m.Service,
		Poll:       poll,
		SendLimits: m.sendLimits(),
		Location:   m.Config.Timezone.Location(),
		Now:        m.Now,
		Logger:     m.Logger,
	})
	if err != nil {
		return err
	}
	h.Register(mux)
	m.Logger.Info("operator's panel on", "path", "/admin/")
	return nil
}

// sendLimits is each configured platform's bot-wide send budget per minute,
// as its adapter paces it.
func (m *Main) sendLimits() map[briefings.Platform]float64 {
	perMinute := func(r bot.Rate) float64 { return float64(r.Count) / r.Per.Minutes() }
	limits := map[briefings.Platform]float64{}
	if m.Config.Telegram.Token != "" {
		limits[briefings.PlatformTelegram] = perMinute(telegram.DefaultLimits().Global.Scaled(m.Config.Telegram.RateScale))
	}
	if m.Config.Discord.Token != "" {
		limits[briefings.PlatformDiscord] = perMinute(discord.DefaultLimits().Global)
	}
	return limits
}
