package app_test

import (
	"strings"
	"testing"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/summarize"
)

// TestMetricsExistBeforeAnythingHappens scrapes /metrics as soon as the bot
// listens, before any feed poll or delivery: every newsbot_ family is
// there, with a series at 0 for each value its labels are known to take, so
// a dashboard's rate() works from the first scrape.
func TestMetricsExistBeforeAnythingHappens(t *testing.T) {
	w := newDiscordWorld(t)
	env := dbEnv(t)
	addr := freeAddr(t)
	env["NEWSBOT_HTTP_ADDR"] = addr
	startDiscordBot(t, w, env)
	code, body := get(t, "http://"+addr+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	samples := map[string][]string{} // family → its sample lines
	for _, line := range strings.Split(body, "\n") {
		if name, _, ok := strings.Cut(line, "{"); ok && strings.HasPrefix(name, "newsbot_") {
			samples[name] = append(samples[name], line)
		} else if name, _, ok := strings.Cut(line, " "); ok && strings.HasPrefix(name, "newsbot_") {
			samples[name] = append(samples[name], line)
		}
	}
	type family struct {
		name   string
		label  string
		values []string
	}
	var platforms, outcomes, reasons []string
	for _, p := range briefings.Platforms() {
		platforms = append(platforms, string(p))
	}
	outcomes = bot.Outcomes()
	for _, r := range summarize.FallbackReasons() {
		reasons = append(reasons, string(r))
	}
	for _, f := range []family{
		{"newsbot_feed_fetches_total", "result", briefings.FeedFetchResults()},
		{"newsbot_items_ingested_total", "", nil},
		{"newsbot_stories_grouped_total", "kind", []string{"new", "grown"}},
		{"newsbot_delivery_events_total", "outcome", outcomes},
		{"newsbot_delivery_events_total", "platform", platforms},
		{"newsbot_rate_limited_total", "platform", platforms},
		{"newsbot_send_seconds_count", "platform", platforms},
		{"newsbot_llm_fallbacks_total", "reason", reasons},
		{"newsbot_subscriptions_active", "platform", platforms},
		{"newsbot_deliveries_due", "platform", platforms},
		{"newsbot_deliveries_overdue", "platform", platforms},
	} {
		lines := samples[f.name]
		if len(lines) == 0 {
			t.Errorf("/metrics lacks the family %s", f.name)
			continue
		}
		for _, l := range lines {
			if !strings.HasSuffix(l, " 0") {
				t.Errorf("before anything happened: %s", l)
			}
		}
		for _, v := range f.values {
			found := false
			for _, l := range lines {
				found = found || strings.Contains(l, f.label+`="`+v+`"`)
			}
			if !found {
				t.Errorf("%s has no series for %s=%q", f.name, f.label, v)
			}
		}
	}
	if got := len(samples["newsbot_delivery_events_total"]); got != len(platforms)*len(outcomes) {
		t.Errorf("%d delivery series, want every platform × outcome (%d)", got, len(platforms)*len(outcomes))
	}
	if s := samples["newsbot_store_up"]; len(s) != 1 || s[0] != "newsbot_store_up 1" {
		t.Errorf("newsbot_store_up = %v", s)
	}
}
