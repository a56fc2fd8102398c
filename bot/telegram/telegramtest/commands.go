package telegramtest

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BotCommand is one entry of the bot's command menu.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// CommandScope is a BotCommandScope. Type is one of default,
// all_private_chats, all_group_chats, all_chat_administrators, chat,
// chat_administrators, chat_member ("" means default).
type CommandScope struct {
	Type   string `json:"type"`
	ChatID int64  `json:"chat_id,omitempty"`
	UserID int64  `json:"user_id,omitempty"`
}

// commandKey identifies one command list: scope and language.
type commandKey struct {
	scope    CommandScope
	language string
}

var scopeNeeds = map[string]struct{ chat, user bool }{
	"default":                 {},
	"all_private_chats":       {},
	"all_group_chats":         {},
	"all_chat_administrators": {},
	"chat":                    {chat: true},
	"chat_administrators":     {chat: true},
	"chat_member":             {chat: true, user: true},
}

// Commands returns the commands published for a scope and language code
// ("" for all languages), as getMyCommands would.
func (s *Server) Commands(scope CommandScope, languageCode string) []BotCommand {
	if scope.Type == "" {
		scope.Type = "default"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[commandKey{scope, languageCode}])
}

// commandKeyFrom reads and validates scope and language_code.
func (s *Server) commandKeyFrom(p params) (commandKey, *apiError) {
	key := commandKey{scope: CommandScope{Type: "default"}, language: p["language_code"]}
	if l := key.language; l != "" && (len(l) != 2 || !isLower(l[0]) || !isLower(l[1])) {
		return key, badRequest(RejectBadRequest, "LANG_CODE_INVALID")
	}
	if !p.has("scope") {
		return key, nil
	}
	var raw struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
		UserID int64           `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(p["scope"]), &raw); err != nil {
		return key, badRequest(RejectBadRequest, "can't parse BotCommandScope JSON object")
	}
	needs, known := scopeNeeds[raw.Type]
	if !known {
		return key, badRequest(RejectBadRequest, "unsupported bot command scope type")
	}
	key.scope.Type = raw.Type
	if needs.chat {
		id, err := strconv.ParseInt(strings.Trim(string(raw.ChatID), `"`), 10, 64)
		if err != nil || id == 0 {
			return key, badRequest(RejectChatNotFound, "chat not found")
		}
		s.mu.Lock()
		_, exists := s.chats[id]
		s.mu.Unlock()
		if !exists {
			return key, badRequest(RejectChatNotFound, "chat not found")
		}
		key.scope.ChatID = id
	}
	if needs.user {
		if raw.UserID <= 0 {
			return key, badRequest(RejectBadRequest, "invalid user_id specified")
		}
		key.scope.UserID = raw.UserID
	}
	return key, nil
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// validCommandName is the documented rule: 1–32 of a-z 0-9 _.
func validCommandName(name string) bool {
	if name == "" || len(name) > MaxCommandLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isLower(c) && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func (s *Server) setMyCommands(_ context.Context, p params) (any, *apiError) {
	var commands []BotCommand
	if p.has("commands") {
		if err := json.Unmarshal([]byte(p["commands"]), &commands); err != nil {
			return nil, badRequest(RejectBadRequest, "can't parse commands JSON object")
		}
	} else if _, sent := p["commands"]; !sent {
		return nil, badRequest(RejectBadRequest, `parameter "commands" is required`)
	}
	if len(commands) > MaxCommands {
		return nil, badRequest(RejectBadRequest, "BOT_COMMANDS_TOO_MUCH")
	}
	for i, c := range commands {
		// The server forgives surrounding spaces and a leading slash.
		name := strings.TrimPrefix(strings.TrimSpace(c.Command), "/")
		if !validCommandName(name) {
			return nil, badRequest(RejectBadRequest, "BOT_COMMAND_INVALID")
		}
		description := strings.TrimSpace(c.Description)
		if n := utf8.RuneCountInString(description); n < 1 || n > MaxCommandDescriptionLength || !utf8.ValidString(description) {
			return nil, badRequest(RejectBadRequest, "BOT_COMMAND_DESCRIPTION_INVALID")
		}
		commands[i] = BotCommand{Command: name, Description: description}
	}
	key, e := s.commandKeyFrom(p)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(commands) == 0 {
		delete(s.commands, key)
	} else {
		s.commands[key] = commands
	}
	return true, nil
}

func (s *Server) getMyCommands(_ context.Context, p params) (any, *apiError) {
	key, e := s.commandKeyFrom(p)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	commands := s.commands[key]
	if commands == nil {
		return []BotCommand{}, nil
	}
	return slices.Clone(commands), nil
}

func (s *Server) deleteMyCommands(_ context.Context, p params) (any, *apiError) {
	key, e := s.commandKeyFrom(p)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, key)
	return true, nil
}
