package telegramtest

import (
	"net/http"
	"sync/atomic"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// BenchmarkSendMessage measures what one sendMessage costs through the real
// library with 16×GOMAXPROCS requests in flight, flood control and HTML
// parsing on; 1e9/ns_per_op is the fake's capacity in messages per second,
// beyond which scaling its limits up is pointless.
func BenchmarkSendMessage(b *testing.B) {
	srv, err := Start(Options{Token: testToken, RateScale: 1e6})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	const chats = 10000
	for id := int64(1); id <= chats; id++ {
		if err := srv.AddPrivateChat(id, "user"); err != nil {
			b.Fatal(err)
		}
	}
	// http.DefaultTransport keeps 2 idle connections per host: with many
	// requests in flight it would open and close one per request.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	bot, err := tgbotapi.NewBotAPIWithClient(testToken, srv.Endpoint(), client)
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.SetParallelism(16) // a sender keeps many requests in flight
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			chat := next.Add(1)%chats + 1
			if _, err := bot.Send(htmlMessage(chat, `<b>Headline</b> <a href="https://example.org/a?b=1&amp;c=2">story</a>`)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
