package discordtest_test

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/bot/discord/discordtest"
)

// interactionsEndpoint is what the adapter's HTTP mode does: verify the
// signature with discordgo, answer PING, answer commands in the body.
func interactionsEndpoint(t *testing.T, key ed25519.PublicKey, verify bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if verify && !discordgo.VerifyInteraction(r, key) {
			http.Error(w, "invalid request signature", http.StatusUnauthorized)
			return
		}
		var i discordgo.Interaction
		if err := json.NewDecoder(r.Body).Decode(&i); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch i.Type {
		case discordgo.InteractionPing:
			_ = json.NewEncoder(w).Encode(discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		default:
			_ = json.NewEncoder(w).Encode(discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{
					Content:         "Hello " + i.Member.User.ID,
					AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
				},
			})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPInteractionsAreSignedAndAnswered(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	registerCommands(t, f.session(t), f)
	endpoint := interactionsEndpoint(t, f.srv.PublicKey(), true)

	if err := f.srv.VerifyInteractionsEndpoint(ctxT(t), endpoint.URL); err != nil {
		t.Fatalf("VerifyInteractionsEndpoint: %v", err)
	}
	// With an endpoint URL saved, interactions no longer need the gateway.
	h, err := f.srv.Interact(ctxT(t), discordtest.Interaction{GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.Await(ctxT(t))
	if err != nil || r.Content != "Hello "+f.userID || !r.Pings.Nobody() {
		t.Fatalf("reply = %+v, %v", r, err)
	}

	for _, how := range []discordtest.BadSignature{discordtest.SignatureWrongKey, discordtest.SignatureTamperedBody, discordtest.SignatureMissing} {
		status, err := f.srv.SendBadlySignedInteraction(ctxT(t), endpoint.URL, how)
		if err != nil || status != http.StatusUnauthorized {
			t.Errorf("bad signature %d: HTTP %d, %v, want 401", how, status, err)
		}
	}
}

func TestEndpointThatSkipsVerificationIsNotAccepted(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	endpoint := interactionsEndpoint(t, f.srv.PublicKey(), false)
	if err := f.srv.VerifyInteractionsEndpoint(ctxT(t), endpoint.URL); !errors.Is(err, discordtest.ErrInteractionFailed) {
		t.Errorf("VerifyInteractionsEndpoint = %v, want ErrInteractionFailed", err)
	}
	status, err := f.srv.SendBadlySignedInteraction(ctxT(t), endpoint.URL, discordtest.SignatureWrongKey)
	if err != nil || status == http.StatusUnauthorized {
		t.Errorf("unverifying endpoint answered %d, %v", status, err)
	}
}

func TestHTTPEndpointFailureFailsTheInteraction(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	registerCommands(t, f.session(t), f)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	h, err := f.srv.Interact(ctxT(t), discordtest.Interaction{
		GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief", EndpointURL: broken.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Await(ctxT(t)); !errors.Is(err, discordtest.ErrInteractionFailed) {
		t.Errorf("Await = %v, want ErrInteractionFailed", err)
	}
}

func TestHTTPDeferThenEditThroughREST(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	registerCommands(t, f.session(t), f)
	bot := f.session(t)
	received := make(chan discordgo.Interaction, 1)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !discordgo.VerifyInteraction(r, f.srv.PublicKey()) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var i discordgo.Interaction
		_ = json.NewDecoder(r.Body).Decode(&i)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
		received <- i
	}))
	t.Cleanup(endpoint.Close)
	h, err := f.srv.Interact(ctxT(t), discordtest.Interaction{
		GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief", EndpointURL: endpoint.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	i := waitFor(t, received, "interaction at the endpoint")
	// The deferral only counts once Discord has read the HTTP answer; an
	// edit racing ahead of it would get 404 Unknown Webhook.
	if _, err := h.AwaitFunc(ctxT(t), func(r discordtest.Reply) bool { return r.Acknowledged }); err != nil {
		t.Fatal(err)
	}
	content := "done"
	if _, err := bot.InteractionResponseEdit(&i, &discordgo.WebhookEdit{Content: &content}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	if r, err := h.Await(ctxT(t)); err != nil || r.Content != "done" || r.CallbackType != discordtest.CallbackDeferredChannelMessage {
		t.Errorf("reply = %+v, %v", r, err)
	}
}
