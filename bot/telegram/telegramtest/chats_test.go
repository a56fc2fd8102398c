package telegramtest

import (
	"errors"
	"net/http"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func TestGetChatMember(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	must(t, srv.AddGroup(-1, "Group", false))
	for user, status := range map[int64]string{
		10: StatusCreator, 11: StatusAdministrator, 12: StatusMember,
		13: StatusRestricted, 14: StatusLeft, 15: StatusKicked,
	} {
		must(t, srv.SetMember(-1, user, status))
	}
	must(t, srv.AddUser(16, "Stranger"))
	tests := []struct {
		chatID, userID int64
		wantStatus     string
		wantErr        string
	}{
		{-1, 10, StatusCreator, ""},
		{-1, 11, StatusAdministrator, ""},
		{-1, 12, StatusMember, ""},
		{-1, 13, StatusRestricted, ""},
		{-1, 14, StatusLeft, ""},
		{-1, 15, StatusKicked, ""},
		{-1, 16, StatusLeft, ""},
		{-1, testBotID, StatusMember, ""},
		{1, 1, StatusMember, ""},
		{-1, 999, "", "Bad Request: user not found"},
		{-9, 10, "", "Bad Request: chat not found"},
	}
	for _, tt := range tests {
		member, err := bot.GetChatMember(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: tt.chatID, UserID: tt.userID}})
		if tt.wantErr != "" {
			if e := asAPIError(t, err); e.Message != tt.wantErr {
				t.Errorf("member %d of %d: %q, want %q", tt.userID, tt.chatID, e.Message, tt.wantErr)
			}
			continue
		}
		must(t, err)
		if member.Status != tt.wantStatus || member.User == nil || member.User.ID != tt.userID {
			t.Errorf("member %d of %d = %q (%+v), want %q", tt.userID, tt.chatID, member.Status, member.User, tt.wantStatus)
		}
	}
	must(t, srv.Kick(-1))
	_, err := bot.GetChatMember(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: -1, UserID: 10}})
	if e := asAPIError(t, err); e.Code != http.StatusForbidden {
		t.Errorf("after the bot was kicked: %d %q, want 403", e.Code, e.Message)
	}
}

func TestGetChat(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	must(t, srv.AddGroup(-1001, "Newsroom", true))
	private, err := bot.GetChat(tgbotapi.ChatInfoConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: 1}})
	must(t, err)
	if private.Type != "private" || private.FirstName != "Ann" {
		t.Errorf("private chat = %+v", private)
	}
	group, err := bot.GetChat(tgbotapi.ChatInfoConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: -1001}})
	must(t, err)
	if group.Type != "supergroup" || group.Title != "Newsroom" {
		t.Errorf("supergroup = %+v", group)
	}
}

func TestDriverRejectsMisuse(t *testing.T) {
	srv := newServer(t, Options{})
	must(t, srv.AddPrivateChat(1, "Ann"))
	must(t, srv.AddGroup(-1, "Group", true))
	checks := []struct {
		name string
		err  error
	}{
		{"private chat with a negative id", srv.AddPrivateChat(-5, "x")},
		{"group with a positive id", srv.AddGroup(5, "x", false)},
		{"the same group twice", srv.AddGroup(-1, "again", false)},
		{"unknown status", srv.SetMember(-1, 2, "owner")},
		{"member of a private chat", srv.SetMember(1, 2, StatusMember)},
		{"block a group", srv.Block(-1)},
		{"kick from a private chat", srv.Kick(1)},
		{"migrate a supergroup", srv.Migrate(-1, -100)},
		{"migrate an unknown chat", srv.Migrate(-7, -100)},
	}
	for _, c := range checks {
		if c.err == nil {
			t.Errorf("%s was accepted", c.name)
		}
	}
	if _, err := srv.SendText(7, 7, "/start"); !errors.Is(err, ErrUnknownChat) {
		t.Errorf("text in an unknown chat: %v, want ErrUnknownChat", err)
	}
	if _, err := srv.SendText(1, 2, "/start"); err == nil {
		t.Error("a stranger wrote in Ann's private chat")
	}
	if _, err := Start(Options{Faults: Faults{Rate429: 1.5}}); err == nil {
		t.Error("Start accepted a fault rate of 1.5")
	}
	if _, err := Start(Options{Limits: Limits{PerChat: Rate{Count: 1}}}); err == nil {
		t.Error("Start accepted a rate without a period")
	}
}
