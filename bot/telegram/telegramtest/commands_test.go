package telegramtest

import (
	"net/http"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

func commands(n int) []tgbotapi.BotCommand {
	out := make([]tgbotapi.BotCommand, n)
	for i := range out {
		out[i] = tgbotapi.BotCommand{Command: "c" + strings.Repeat("x", i%30), Description: "does things"}
	}
	return out
}

func TestSetMyCommandsValidation(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	must(t, srv.AddGroup(-1, "Group", false))
	ok := []tgbotapi.BotCommand{{Command: "subscribe", Description: "Daily briefing at a time of day"}, {Command: "brief", Description: "Briefing now"}}
	chatScope := tgbotapi.NewBotCommandScopeChat(-1)
	tests := []struct {
		name    string
		config  tgbotapi.SetMyCommandsConfig
		wantErr string
	}{
		{"valid", tgbotapi.NewSetMyCommands(ok...), ""},
		{"100 commands", tgbotapi.NewSetMyCommands(commands(100)...), ""},
		{"101 commands", tgbotapi.NewSetMyCommands(commands(101)...), "Bad Request: BOT_COMMANDS_TOO_MUCH"},
		{"uppercase", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "Brief", Description: "x"}), "Bad Request: BOT_COMMAND_INVALID"},
		{"dash", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "my-topics", Description: "x"}), "Bad Request: BOT_COMMAND_INVALID"},
		{"32 characters", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: strings.Repeat("a", 32), Description: "x"}), ""},
		{"33 characters", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: strings.Repeat("a", 33), Description: "x"}), "Bad Request: BOT_COMMAND_INVALID"},
		{"empty command", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "", Description: "x"}), "Bad Request: BOT_COMMAND_INVALID"},
		{"empty description", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "a", Description: " "}), "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"},
		{"256-character description", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "a", Description: strings.Repeat("é", 256)}), ""},
		{"257-character description", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "a", Description: strings.Repeat("é", 257)}), "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"},
		{"chat scope", tgbotapi.NewSetMyCommandsWithScope(chatScope, ok...), ""},
		{"unknown chat in scope", tgbotapi.NewSetMyCommandsWithScope(tgbotapi.NewBotCommandScopeChat(-9), ok...), "Bad Request: chat not found"},
		{"unknown scope type", tgbotapi.NewSetMyCommandsWithScope(tgbotapi.BotCommandScope{Type: "everyone"}, ok...), "Bad Request: unsupported bot command scope type"},
		{"chat_member without user", tgbotapi.NewSetMyCommandsWithScope(tgbotapi.BotCommandScope{Type: "chat_member", ChatID: -1}, ok...), "Bad Request: invalid user_id specified"},
		{"bad language code", tgbotapi.NewSetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeDefault(), "eng", ok...), "Bad Request: LANG_CODE_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bot.Request(tt.config)
			got := ""
			if err != nil {
				e := asAPIError(t, err)
				got = e.Message
				if e.Code != http.StatusBadRequest {
					t.Errorf("code %d, want 400", e.Code)
				}
			}
			if got != tt.wantErr {
				t.Errorf("error %q, want %q", got, tt.wantErr)
			}
		})
	}

	// The last valid default-scope call and the chat-scope call stand.
	_, err := bot.Request(tgbotapi.NewSetMyCommands(ok...))
	must(t, err)
	got, err := bot.GetMyCommands()
	must(t, err)
	if diff := cmp.Diff(ok, got); diff != "" {
		t.Errorf("getMyCommands (-want +got):\n%s", diff)
	}
	got, err = bot.GetMyCommandsWithConfig(tgbotapi.NewGetMyCommandsWithScope(chatScope))
	must(t, err)
	if diff := cmp.Diff(ok, got); diff != "" {
		t.Errorf("getMyCommands for the chat scope (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]BotCommand{{"subscribe", "Daily briefing at a time of day"}, {"brief", "Briefing now"}}, srv.Commands(CommandScope{}, "")); diff != "" {
		t.Errorf("Commands (-want +got):\n%s", diff)
	}

	_, err = bot.Request(tgbotapi.NewDeleteMyCommands())
	must(t, err)
	got, err = bot.GetMyCommands()
	must(t, err)
	if len(got) != 0 {
		t.Errorf("after deleteMyCommands: %v", got)
	}
}

func TestSetMyCommandsForgivesLeadingSlash(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	_, err := bot.Request(tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "/brief", Description: "Briefing now"}))
	must(t, err)
	if got := srv.Commands(CommandScope{Type: "default"}, ""); len(got) != 1 || got[0].Command != "brief" {
		t.Errorf("stored %v, want the command without its slash", got)
	}
}
