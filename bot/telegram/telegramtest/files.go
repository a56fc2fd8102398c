package telegramtest

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Documented limits on files (https://core.telegram.org/bots/api#getfile,
// #senddocument, #sending-files).
const (
	// MaxDownloadSize is the largest file a bot may download with getFile.
	MaxDownloadSize = 20 << 20
	// MaxUploadSize is the largest document a bot may upload.
	MaxUploadSize = 50 << 20
	// MaxCaptionLength is the longest caption, in UTF-16 code units after
	// entity parsing.
	MaxCaptionLength = 1024
	// fileLinkLifetime: a getFile link is valid for at least an hour.
	fileLinkLifetime = time.Hour
)

// multipart file parts reach a method as these params: the part's bytes and
// its file name, under the part's field name.
const (
	fileDataParam = "\x00file:"
	fileNameParam = "\x00filename:"
)

// storedFile is a file users sent, as the server keeps it.
type storedFile struct {
	id, uniqueID, path, name, mime string
	data                           []byte
	linkedAt                       time.Time // when getFile last gave out its path
}

// SentDocument is a document the bot sent.
type SentDocument struct {
	ChatID   int64
	FileName string
	Data     []byte
	Caption  string
	Time     time.Time
}

// fileState is the fake's files: what users sent, what the bot sent.
type fileState struct {
	byID  map[string]*storedFile
	next  int
	sent  []SentDocument
	Stats struct{ GetFile, Downloads int }
}

func (s *Server) filesLocked() *fileState {
	if s.files.byID == nil {
		s.files.byID = map[string]*storedFile{}
	}
	return &s.files
}

// SendDocument makes a user send a file to a chat, with an optional caption,
// and queues the message update as Telegram would: a document with file_id,
// file_unique_id, file_name, mime_type and file_size, the caption with a
// bot_command entity when it starts with a command. In a group with privacy
// mode on, a document reaches the bot only when its caption is a command
// for it (ErrNotDelivered otherwise).
func (s *Server) SendDocument(chatID, fromUserID int64, name, mime string, data []byte, caption string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.chats[chatID]
	if !ok {
		return 0, fmt.Errorf("telegramtest: send document in %d: %w", chatID, ErrUnknownChat)
	}
	if c.typ == ChatPrivate && fromUserID != c.userID {
		return 0, fmt.Errorf("telegramtest: send document in private chat %d: only user %d writes there", chatID, c.userID)
	}
	if isGroup(c) {
		if c.kicked {
			return 0, fmt.Errorf("telegramtest: send document in %d: the bot was kicked: %w", chatID, ErrNotDelivered)
		}
		if c.members[fromUserID] == "" || c.members[fromUserID] == StatusLeft {
			c.members[fromUserID] = StatusMember
		}
	}
	entities, command := s.botCommandEntity(caption)
	if isGroup(c) && !s.opts.PrivacyModeDisabled && !(command != "" && s.addressedToBot(caption, command)) {
		return 0, fmt.Errorf("telegramtest: send document in %d: privacy mode: %w", chatID, ErrNotDelivered)
	}
	fs := s.filesLocked()
	fs.next++
	f := &storedFile{
		id:       fmt.Sprintf("BQACAgIAAxkBAAI%06d", fs.next),
		uniqueID: fmt.Sprintf("AgAD%06d", fs.next),
		path:     fmt.Sprintf("documents/file_%d.%s", fs.next, extension(name)),
		name:     name, mime: mime, data: append([]byte(nil), data...),
	}
	fs.byID[f.id] = f
	c.lastMessageID++
	return s.enqueueLocked("message", documentMessage{
		MessageID: c.lastMessageID,
		From:      s.apiUserLocked(fromUserID),
		Chat:      s.apiChatLocked(c),
		Date:      s.now().Unix(),
		Document: &apiDocument{FileID: f.id, FileUniqueID: f.uniqueID, FileName: name, MimeType: mime,
			FileSize: int64(len(data))},
		Caption:         caption,
		CaptionEntities: entities,
	}), nil
}

func extension(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 && i < len(name)-1 {
		return strings.ToLower(name[i+1:])
	}
	return "bin"
}

type documentMessage struct {
	MessageID       int          `json:"message_id"`
	From            *apiUser     `json:"from,omitempty"`
	Chat            apiChat      `json:"chat"`
	Date            int64        `json:"date"`
	Document        *apiDocument `json:"document,omitempty"`
	Caption         string       `json:"caption,omitempty"`
	CaptionEntities []Entity     `json:"caption_entities,omitempty"`
}

type apiDocument struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int64  `json:"file_size,omitempty"`
}

type apiFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int64  `json:"file_size,omitempty"`
	FilePath     string `json:"file_path,omitempty"`
}

// getFile gives the path to download a file from, as the Bot API does:
// files over 20 MB may not be downloaded.
func (s *Server) getFile(_ context.Context, p params) (any, *apiError) {
	id := p["file_id"]
	if id == "" {
		return nil, badRequest(RejectBadRequest, "file_id is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.filesLocked()
	fs.Stats.GetFile++
	f, ok := fs.byID[id]
	if !ok {
		return nil, badRequest(RejectBadRequest, "invalid file_id")
	}
	if len(f.data) > MaxDownloadSize {
		return nil, badRequest(RejectBadRequest, "file is too big")
	}
	f.linkedAt = s.now()
	return apiFile{FileID: f.id, FileUniqueID: f.uniqueID, FileSize: int64(len(f.data)), FilePath: f.path}, nil
}

// serveFile answers GET /file/bot<token>/<file_path>: the file's bytes, for
// a path getFile gave out within the last hour.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/file/bot")
	token, path, ok := strings.Cut(rest, "/")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.Token)) != 1 {
		http.Error(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	fs := s.filesLocked()
	var found *storedFile
	for _, f := range fs.byID {
		if f.path == path && !f.linkedAt.IsZero() && s.now().Sub(f.linkedAt) <= fileLinkLifetime {
			found = f
		}
	}
	if found != nil {
		fs.Stats.Downloads++
	}
	s.mu.Unlock()
	if found == nil {
		http.Error(w, `{"ok":false,"error_code":404,"description":"Not Found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(found.data)))
	w.Write(found.data)
}

// sendDocument takes an uploaded document (a multipart file part named
// document), with the same chat checks and flood limits as sendMessage, and
// a caption of at most 1024 characters.
func (s *Server) sendDocument(_ context.Context, p params) (any, *apiError) {
	data, uploaded := p[fileDataParam+"document"]
	if !uploaded {
		if p["document"] == "" {
			return nil, badRequest(RejectBadRequest, "there is no document in the request")
		}
		return nil, badRequest(RejectBadRequest, "wrong remote file identifier specified: the fake takes uploads only")
	}
	if len(data) == 0 {
		return nil, badRequest(RejectBadRequest, "file must be non-empty")
	}
	if len(data) > MaxUploadSize {
		return nil, &apiError{code: http.StatusRequestEntityTooLarge, description: "Request Entity Too Large", kind: RejectBadRequest}
	}
	caption := p["caption"]
	if !utf8.ValidString(caption) {
		return nil, badRequest(RejectBadRequest, "caption must be encoded in UTF-8")
	}
	if len(utf16.Encode([]rune(strings.TrimSpace(caption)))) > MaxCaptionLength {
		return nil, badRequest(RejectBadRequest, "message caption is too long")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.resolveChatLocked(p)
	if e != nil {
		return nil, e
	}
	if e := s.reachableLocked(c); e != nil {
		return nil, e
	}
	if e := s.admitSendLocked(c); e != nil {
		return nil, e
	}
	now := s.now()
	s.countWindowsLocked(c, now)
	name := p[fileNameParam+"document"]
	fs := s.filesLocked()
	fs.sent = append(fs.sent, SentDocument{ChatID: c.id, FileName: name, Data: []byte(data), Caption: caption, Time: now})
	fs.next++
	c.lastMessageID++
	return documentMessage{
		MessageID: c.lastMessageID,
		From:      s.apiUserLocked(s.botID),
		Chat:      s.apiChatLocked(c),
		Date:      now.Unix(),
		Document: &apiDocument{FileID: fmt.Sprintf("BQACAgIAAxkDAAI%06d", fs.next), FileUniqueID: fmt.Sprintf("AgAE%06d", fs.next),
			FileName: name, FileSize: int64(len(data))},
		Caption: caption,
	}, nil
}

// Documents are the documents the bot sent to a chat, in order.
func (s *Server) Documents(chatID int64) []SentDocument {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SentDocument
	for _, d := range s.filesLocked().sent {
		if d.ChatID == chatID {
			out = append(out, d)
		}
	}
	return out
}

// FileRequests counts getFile calls and file downloads served.
func (s *Server) FileRequests() (getFile, downloads int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.filesLocked()
	return fs.Stats.GetFile, fs.Stats.Downloads
}
