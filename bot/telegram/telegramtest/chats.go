package telegramtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Chat types, as the Bot API names them.
const (
	ChatPrivate    = "private"
	ChatGroup      = "group"
	ChatSupergroup = "supergroup"
)

// Member statuses of getChatMember.
const (
	StatusCreator       = "creator"
	StatusAdministrator = "administrator"
	StatusMember        = "member"
	StatusRestricted    = "restricted"
	StatusLeft          = "left"
	StatusKicked        = "kicked"
)

var memberStatuses = map[string]bool{
	StatusCreator: true, StatusAdministrator: true, StatusMember: true,
	StatusRestricted: true, StatusLeft: true, StatusKicked: true,
}

// Errors of the methods that drive the fake.
var (
	// ErrUnknownChat: the chat was never added.
	ErrUnknownChat = errors.New("telegramtest: unknown chat")
	// ErrNotDelivered: Telegram would not hand this message to the bot
	// (privacy mode in a group, or a chat the bot is no longer in).
	ErrNotDelivered = errors.New("telegramtest: message would not reach the bot")
)

type chat struct {
	id            int64
	typ           string
	title         string           // groups
	userID        int64            // private chats: the user
	members       map[int64]string // groups: user id → status
	blocked       bool             // private: the user blocked the bot
	kicked        bool             // groups: the bot was removed
	muted         bool             // groups: the bot may not send messages
	migratedTo    int64            // basic groups upgraded to a supergroup
	lastMessageID int
}

type user struct {
	id          int64
	firstName   string
	deactivated bool
}

// apiUser, apiChat and apiMessage are the JSON shapes of the Bot API.
type apiUser struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	Username  string `json:"username,omitempty"`
}

type apiChat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	FirstName string `json:"first_name,omitempty"`
}

type apiMessage struct {
	MessageID         int      `json:"message_id"`
	From              *apiUser `json:"from,omitempty"`
	Chat              apiChat  `json:"chat"`
	Date              int64    `json:"date"`
	Text              string   `json:"text,omitempty"`
	Entities          []Entity `json:"entities,omitempty"`
	MigrateToChatID   int64    `json:"migrate_to_chat_id,omitempty"`
	MigrateFromChatID int64    `json:"migrate_from_chat_id,omitempty"`
}

func (s *Server) apiChatLocked(c *chat) apiChat {
	out := apiChat{ID: c.id, Type: c.typ, Title: c.title}
	if c.typ == ChatPrivate {
		out.FirstName = s.userLocked(c.userID).firstName
	}
	return out
}

// userLocked returns the user, registering an unknown one under a made-up
// name so that a test need not introduce every group member.
func (s *Server) userLocked(id int64) *user {
	u, ok := s.users[id]
	if !ok {
		u = &user{id: id, firstName: fmt.Sprintf("User%d", id)}
		s.users[id] = u
	}
	return u
}

func (s *Server) apiUserLocked(id int64) *apiUser {
	if id == s.botID {
		return &apiUser{ID: id, IsBot: true, FirstName: s.opts.BotName, Username: s.opts.BotUsername}
	}
	return &apiUser{ID: id, FirstName: s.userLocked(id).firstName}
}

func isGroup(c *chat) bool { return c.typ == ChatGroup || c.typ == ChatSupergroup }

// AddUser registers a user (a positive id) under a first name, for the from
// field of their messages and for getChatMember.
func (s *Server) AddUser(userID int64, firstName string) error {
	if userID <= 0 {
		return fmt.Errorf("telegramtest: add user %d: user ids are positive", userID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLocked(userID).firstName = firstName
	return nil
}

// AddPrivateChat adds the private chat between the bot and a user; its chat
// id is the user's id, as on Telegram.
func (s *Server) AddPrivateChat(userID int64, firstName string) error {
	if userID <= 0 {
		return fmt.Errorf("telegramtest: add private chat %d: user ids are positive", userID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLocked(userID).firstName = firstName
	if _, ok := s.chats[userID]; !ok {
		s.chats[userID] = &chat{id: userID, typ: ChatPrivate, userID: userID}
	}
	return nil
}

// AddGroup adds a group (or a supergroup) the bot is a member of. Group ids
// are negative; supergroup ids on Telegram look like -100xxxxxxxxxx.
func (s *Server) AddGroup(chatID int64, title string, supergroup bool) error {
	if chatID >= 0 {
		return fmt.Errorf("telegramtest: add group %d: group ids are negative", chatID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.chats[chatID]; ok {
		return fmt.Errorf("telegramtest: add group %d: chat exists already", chatID)
	}
	typ := ChatGroup
	if supergroup {
		typ = ChatSupergroup
	}
	s.chats[chatID] = &chat{id: chatID, typ: typ, title: title, members: map[int64]string{}}
	return nil
}

// SetMember sets a user's status in a group, one of the Status constants.
func (s *Server) SetMember(chatID, userID int64, status string) error {
	if !memberStatuses[status] {
		return fmt.Errorf("telegramtest: set member %d of %d: unknown status %q", userID, chatID, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.groupLocked(chatID)
	if err != nil {
		return fmt.Errorf("telegramtest: set member %d of %d: %w", userID, chatID, err)
	}
	if userID != s.botID {
		s.userLocked(userID)
	}
	c.members[userID] = status
	return nil
}

func (s *Server) groupLocked(chatID int64) (*chat, error) {
	c, ok := s.chats[chatID]
	if !ok {
		return nil, ErrUnknownChat
	}
	if !isGroup(c) {
		return nil, fmt.Errorf("chat %d is a %s chat, not a group", chatID, c.typ)
	}
	return c, nil
}

func (s *Server) privateLocked(chatID int64) (*chat, error) {
	c, ok := s.chats[chatID]
	if !ok {
		return nil, ErrUnknownChat
	}
	if c.typ != ChatPrivate {
		return nil, fmt.Errorf("chat %d is a %s, not a private chat", chatID, c.typ)
	}
	return c, nil
}

// Block makes the user of a private chat block the bot: sendMessage answers
// 403 "Forbidden: bot was blocked by the user" until Unblock, or until the
// user writes to the bot again (SendText), as pressing "Restart bot" does.
func (s *Server) Block(chatID int64) error {
	return s.setBlocked(chatID, true)
}

// Unblock undoes Block.
func (s *Server) Unblock(chatID int64) error {
	return s.setBlocked(chatID, false)
}

func (s *Server) setBlocked(chatID int64, blocked bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.privateLocked(chatID)
	if err != nil {
		return fmt.Errorf("telegramtest: block %d: %w", chatID, err)
	}
	c.blocked = blocked
	return nil
}

// Kick removes the bot from a group: sendMessage answers 403 "Forbidden: bot
// was kicked from the group chat" (or "supergroup chat") until Rejoin.
func (s *Server) Kick(chatID int64) error {
	return s.setKicked(chatID, true)
}

// Rejoin undoes Kick.
func (s *Server) Rejoin(chatID int64) error {
	return s.setKicked(chatID, false)
}

func (s *Server) setKicked(chatID int64, kicked bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.groupLocked(chatID)
	if err != nil {
		return fmt.Errorf("telegramtest: kick from %d: %w", chatID, err)
	}
	c.kicked = kicked
	return nil
}

// Mute restricts the bot in a group so that it may not send messages, as an
// administrator does in the group's permissions: sendMessage answers 400
// "Bad Request: not enough rights to send text messages to the chat" until
// Unmute, and a my_chat_member update tells the bot (administrator or member
// → restricted, can_send_messages false), from the administrator byAdmin.
func (s *Server) Mute(chatID, byAdmin int64) error {
	return s.setMuted(chatID, byAdmin, true)
}

// Unmute gives the bot the right to send messages back, with the
// my_chat_member update that says so (restricted → member).
func (s *Server) Unmute(chatID, byAdmin int64) error {
	return s.setMuted(chatID, byAdmin, false)
}

func (s *Server) setMuted(chatID, byAdmin int64, muted bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.groupLocked(chatID)
	if err != nil {
		return fmt.Errorf("telegramtest: mute in %d: %w", chatID, err)
	}
	if c.kicked || c.migratedTo != 0 {
		return fmt.Errorf("telegramtest: mute in %d: the bot is not in the group", chatID)
	}
	if c.muted == muted {
		return nil
	}
	c.muted = muted
	unmuted := s.botMemberLocked(c, false)
	restricted := s.botMemberLocked(c, true)
	old, now := unmuted, restricted
	if !muted {
		old, now = restricted, unmuted
	}
	s.enqueueLocked("my_chat_member", map[string]any{
		"chat": s.apiChatLocked(c), "from": s.apiUserLocked(byAdmin), "date": s.now().Unix(),
		"old_chat_member": old, "new_chat_member": now,
	})
	return nil
}

// botMemberLocked is the bot's ChatMember in a group, muted or not.
func (s *Server) botMemberLocked(c *chat, muted bool) map[string]any {
	status := c.members[s.botID]
	if status == "" || status == StatusRestricted {
		status = StatusMember
	}
	m := map[string]any{"status": status, "user": s.apiUserLocked(s.botID)}
	if muted {
		m["status"] = StatusRestricted
		m["is_member"] = true
		m["can_send_messages"] = false
		m["until_date"] = 0
	}
	return m
}

// Deactivate deletes a user's account: sendMessage to their private chat
// answers 403 "Forbidden: user is deactivated".
func (s *Server) Deactivate(userID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return fmt.Errorf("telegramtest: deactivate user %d: unknown user", userID)
	}
	u.deactivated = true
	return nil
}

// Migrate upgrades the basic group oldID to the supergroup newID, as Telegram
// does: the members move along, sendMessage to oldID answers 400 "group chat
// was upgraded to a supergroup chat" with parameters.migrate_to_chat_id, and
// two service message updates are emitted, one in the old group with
// migrate_to_chat_id and one in the supergroup with migrate_from_chat_id.
func (s *Server) Migrate(oldID, newID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.groupLocked(oldID)
	if err != nil {
		return fmt.Errorf("telegramtest: migrate %d: %w", oldID, err)
	}
	switch {
	case old.typ != ChatGroup:
		return fmt.Errorf("telegramtest: migrate %d: only basic groups are upgraded, this is a %s", oldID, old.typ)
	case old.migratedTo != 0:
		return fmt.Errorf("telegramtest: migrate %d: migrated to %d already", oldID, old.migratedTo)
	case newID >= 0:
		return fmt.Errorf("telegramtest: migrate %d to %d: supergroup ids are negative", oldID, newID)
	}
	if _, exists := s.chats[newID]; exists {
		return fmt.Errorf("telegramtest: migrate %d to %d: chat %d exists already", oldID, newID, newID)
	}
	super := &chat{id: newID, typ: ChatSupergroup, title: old.title, members: map[int64]string{}}
	for id, status := range old.members {
		super.members[id] = status
	}
	s.chats[newID] = super
	old.migratedTo = newID

	var from *apiUser
	if upgrader := s.upgraderLocked(old); upgrader != 0 {
		from = s.apiUserLocked(upgrader)
	}
	now := s.now().Unix()
	old.lastMessageID++
	s.enqueueLocked("message", apiMessage{
		MessageID: old.lastMessageID, From: from, Chat: s.apiChatLocked(old), Date: now, MigrateToChatID: newID,
	})
	super.lastMessageID++
	s.enqueueLocked("message", apiMessage{
		MessageID: super.lastMessageID, From: from, Chat: s.apiChatLocked(super), Date: now, MigrateFromChatID: oldID,
	})
	return nil
}

// upgraderLocked picks who upgraded a group: its creator, else an
// administrator, else nobody.
func (s *Server) upgraderLocked(c *chat) int64 {
	var admin int64
	for id, status := range c.members {
		if id == s.botID {
			continue
		}
		if status == StatusCreator {
			return id
		}
		if status == StatusAdministrator && (admin == 0 || id < admin) {
			admin = id
		}
	}
	return admin
}

// SendText makes a user write text in a chat and queues the message update
// exactly as Telegram would: from, chat with its type, a bot_command entity
// at offset 0 when the text starts with a command (also /cmd@botname). It
// returns the update's id. In a group with privacy mode on (the default) a
// message that is neither a command for this bot nor mentions it is not
// delivered (ErrNotDelivered), as on Telegram.
func (s *Server) SendText(chatID, fromUserID int64, text string) (int, error) {
	if text == "" {
		return 0, fmt.Errorf("telegramtest: send text in %d: text is empty", chatID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.chats[chatID]
	if !ok {
		return 0, fmt.Errorf("telegramtest: send text in %d: %w", chatID, ErrUnknownChat)
	}
	if c.migratedTo != 0 {
		return 0, fmt.Errorf("telegramtest: send text in %d: migrated to %d: %w", chatID, c.migratedTo, ErrNotDelivered)
	}
	u := s.userLocked(fromUserID)
	if u.deactivated {
		return 0, fmt.Errorf("telegramtest: send text in %d: user %d is deactivated", chatID, fromUserID)
	}
	switch c.typ {
	case ChatPrivate:
		if fromUserID != c.userID {
			return 0, fmt.Errorf("telegramtest: send text in private chat %d: only user %d writes there, not %d", chatID, c.userID, fromUserID)
		}
		c.blocked = false // writing to a bot unblocks it
	default:
		if c.kicked {
			return 0, fmt.Errorf("telegramtest: send text in %d: the bot was kicked: %w", chatID, ErrNotDelivered)
		}
		switch c.members[fromUserID] {
		case StatusKicked:
			return 0, fmt.Errorf("telegramtest: send text in %d: user %d is banned there", chatID, fromUserID)
		case "", StatusLeft:
			c.members[fromUserID] = StatusMember
		}
	}
	entities, command := s.botCommandEntity(text)
	if isGroup(c) && !s.opts.PrivacyModeDisabled && !s.addressedToBot(text, command) {
		return 0, fmt.Errorf("telegramtest: send text in %d: privacy mode: %w", chatID, ErrNotDelivered)
	}
	c.lastMessageID++
	return s.enqueueLocked("message", apiMessage{
		MessageID: c.lastMessageID,
		From:      s.apiUserLocked(fromUserID),
		Chat:      s.apiChatLocked(c),
		Date:      s.now().Unix(),
		Text:      text,
		Entities:  entities,
	}), nil
}

// botCommandEntity finds the command a text starts with: '/', then 1–32
// letters, digits or underscores, then optionally '@' and a username.
func (s *Server) botCommandEntity(text string) ([]Entity, string) {
	if !strings.HasPrefix(text, "/") {
		return nil, ""
	}
	end := 1
	for end < len(text) && end <= MaxCommandLength && isCommandChar(text[end]) {
		end++
	}
	if end == 1 {
		return nil, ""
	}
	if end < len(text) && text[end] == '@' {
		nameEnd := end + 1
		for nameEnd < len(text) && isCommandChar(text[nameEnd]) {
			nameEnd++
		}
		if nameEnd > end+1 {
			end = nameEnd
		}
	}
	command := text[:end]
	return []Entity{{Type: "bot_command", Offset: 0, Length: UTF16Length(command)}}, command
}

func isCommandChar(c byte) bool {
	return isAlnum(c) || c == '_'
}

// addressedToBot is privacy mode's rule: a command without '@', a command
// '@' this bot, or a mention of the bot.
func (s *Server) addressedToBot(text, command string) bool {
	if command != "" {
		_, at, hasAt := strings.Cut(command, "@")
		return !hasAt || strings.EqualFold(at, s.opts.BotUsername)
	}
	return strings.Contains(strings.ToLower(text), "@"+strings.ToLower(s.opts.BotUsername))
}

// resolveChatLocked finds the chat a request addresses.
func (s *Server) resolveChatLocked(p params) (*chat, *apiError) {
	id, username, e := p.chatID()
	if e != nil {
		return nil, e
	}
	if username != "" {
		return nil, badRequest(RejectChatNotFound, "chat not found") // the fake's chats have no usernames
	}
	c, ok := s.chats[id]
	if !ok {
		return nil, badRequest(RejectChatNotFound, "chat not found")
	}
	if c.migratedTo != 0 {
		e := badRequest(RejectMigrated, "group chat was upgraded to a supergroup chat")
		e.migrateTo = c.migratedTo
		return nil, e
	}
	return c, nil
}

// reachableLocked is the 403 (or, muted, the 400) a chat gives a bot that
// may not write there.
func (s *Server) reachableLocked(c *chat) *apiError {
	switch {
	case c.typ == ChatPrivate && s.userLocked(c.userID).deactivated:
		return forbidden(RejectDeactivated, "user is deactivated")
	case c.typ == ChatPrivate && c.blocked:
		return forbidden(RejectBlocked, "bot was blocked by the user")
	case isGroup(c) && c.kicked:
		return forbidden(RejectKicked, "bot was kicked from the "+c.typ+" chat")
	case isGroup(c) && c.muted:
		return badRequest(RejectCantWrite, "not enough rights to send text messages to the chat")
	}
	return nil
}

func (s *Server) getChat(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.resolveChatLocked(p)
	if e != nil {
		return nil, e
	}
	if isGroup(c) && c.kicked {
		return nil, s.reachableLocked(c)
	}
	return s.apiChatLocked(c), nil
}

func (s *Server) getChatMember(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.resolveChatLocked(p)
	if e != nil {
		return nil, e
	}
	if isGroup(c) && c.kicked {
		return nil, s.reachableLocked(c)
	}
	userID, present, err := p.int64("user_id")
	if err != nil || !present || userID <= 0 {
		return nil, badRequest(RejectBadRequest, "invalid user_id specified")
	}
	var status string
	switch {
	case c.typ == ChatPrivate && (userID == c.userID || userID == s.botID):
		status = StatusMember
	case c.typ == ChatPrivate:
		return nil, badRequest(RejectBadRequest, "user not found")
	default:
		status = c.members[userID]
		if status == "" && userID == s.botID {
			status = StatusMember
		}
		if userID == s.botID && c.muted {
			status = StatusRestricted
		}
		if status == "" {
			if _, known := s.users[userID]; !known {
				return nil, badRequest(RejectBadRequest, "user not found")
			}
			status = StatusLeft
		}
	}
	member := map[string]any{"status": status, "user": s.apiUserLocked(userID)}
	switch status {
	case StatusCreator, StatusAdministrator:
		member["is_anonymous"] = false
	case StatusRestricted:
		member["is_member"] = true
		member["until_date"] = 0
	case StatusKicked:
		member["until_date"] = 0
	}
	return member, nil
}
