package discordtest

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway opcodes (topics/opcodes-and-status-codes#gateway-gateway-opcodes).
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opPresenceUpdate = 3
	opVoiceState     = 4
	opResume         = 6
	opReconnect      = 7
	opRequestMembers = 8
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatACK   = 11
)

type bufferedEvent struct {
	seq  int64
	data []byte
}

// gatewaySession is what RESUME resumes: it outlives connections.
type gatewaySession struct {
	id                  string
	shardID, shardCount int
	intents             int64
	compress            bool
	seq                 int64
	buffer              []bufferedEvent
	conn                *gatewayConn
}

func (sess *gatewaySession) handles(guildID string) bool {
	if guildID == "" || sess.shardCount <= 1 {
		return true
	}
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil {
		return false
	}
	return int((id>>22)%uint64(sess.shardCount)) == sess.shardID
}

type outFrame struct {
	data      []byte
	binary    bool
	closeCode int
	closeText string
}

// gatewayConn is one websocket. Writes go through a queue drained by a
// single writer goroutine, so dispatching under the server lock never
// blocks on a slow client.
type gatewayConn struct {
	ws      *websocket.Conn
	out     chan outFrame
	kill    chan struct{}
	mu      sync.Mutex
	closing bool
	session *gatewaySession // guarded by Server.mu
	// gateway commands (not heartbeats) in the last minute
	commandLog []time.Time
}

func (c *gatewayConn) enqueue(f outFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	select {
	case c.out <- f:
	default:
		// A client this far behind is dropped, as Discord drops it.
		c.closing = true
		close(c.kill)
	}
}

// closeWith sends a close frame with a gateway close code and ends the
// connection.
func (c *gatewayConn) closeWith(code int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.closing = true
	select {
	case c.out <- outFrame{closeCode: code, closeText: text}:
	default:
		close(c.kill)
	}
}

// drop ends the connection without a close frame (a network failure).
func (c *gatewayConn) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.closing = true
	close(c.kill)
}

func (c *gatewayConn) writeLoop() {
	defer c.ws.Close()
	for {
		select {
		case <-c.kill:
			return
		case f := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if f.closeCode != 0 {
				_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(f.closeCode, f.closeText))
				// Give the client a moment to read the close frame before the
				// TCP connection goes away.
				time.Sleep(50 * time.Millisecond)
				return
			}
			kind := websocket.TextMessage
			if f.binary {
				kind = websocket.BinaryMessage
			}
			if err := c.ws.WriteMessage(kind, f.data); err != nil {
				return
			}
		}
	}
}

func gatewayFrame(op int, d any, seq *int64, event string) []byte {
	payload := map[string]any{"op": op, "d": d, "s": nil, "t": nil}
	if seq != nil {
		payload["s"] = *seq
	}
	if event != "" {
		payload["t"] = event
	}
	return mustJSON(payload)
}

func zlibCompress(data []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, _ = w.Write(data)
	_ = w.Close()
	return buf.Bytes()
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gatewayConn{ws: ws, out: make(chan outFrame, 4096), kill: make(chan struct{})}
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		ws.Close()
		return
	default:
	}
	s.conns[c] = struct{}{}
	s.background.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.background.Done()
		c.writeLoop()
	}()
	defer s.connGone(c)

	version := q.Get("v")
	if version == "" {
		version = "9"
	}
	switch {
	case version != "9" && version != "10":
		c.closeWith(CloseInvalidAPIVersion, "Invalid API version.")
		return
	case q.Get("encoding") != "" && q.Get("encoding") != "json":
		// ETF is Discord's other encoding; this fake speaks JSON only.
		c.closeWith(CloseDecodeError, "Error while decoding payload.")
		return
	case q.Get("compress") != "":
		// zlib-stream transport compression is not implemented.
		c.closeWith(CloseDecodeError, "Error while decoding payload.")
		return
	}
	interval := s.opts.HeartbeatInterval
	c.enqueue(outFrame{data: gatewayFrame(opHello, map[string]any{"heartbeat_interval": interval.Milliseconds()}, nil, "")})
	// A client that stops heartbeating is a zombie; Discord closes it. The
	// margin is generous because test intervals are short.
	readWindow := 2*interval + 5*time.Second
	for {
		_ = ws.SetReadDeadline(time.Now().Add(readWindow))
		kind, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
				// Closing with 1000/1001 invalidates the session (events/gateway
				// #disconnecting); other codes keep it resumable.
				s.mu.Lock()
				if c.session != nil {
					delete(s.sessions, c.session.id)
				}
				s.mu.Unlock()
			}
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				c.closeWith(CloseSessionTimedOut, "Session timed out.")
			}
			return
		}
		if kind != websocket.TextMessage {
			c.closeWith(CloseDecodeError, "Error while decoding payload.")
			return
		}
		if !s.handleGatewayMessage(c, data, version) {
			return
		}
	}
}

func (s *Server) connGone(c *gatewayConn) {
	s.mu.Lock()
	delete(s.conns, c)
	if c.session != nil && c.session.conn == c {
		c.session.conn = nil
	}
	s.mu.Unlock()
	c.drop()
}

type gatewayPayload struct {
	Op   *int            `json:"op"`
	Data json.RawMessage `json:"d"`
}

// handleGatewayMessage processes one client payload; false ends the read
// loop (the connection is being closed).
func (s *Server) handleGatewayMessage(c *gatewayConn, data []byte, version string) bool {
	var p gatewayPayload
	if err := json.Unmarshal(data, &p); err != nil || p.Op == nil {
		c.closeWith(CloseDecodeError, "Error while decoding payload.")
		return false
	}
	op := *p.Op
	if op == opHeartbeat {
		s.mu.Lock()
		s.stats.Heartbeats++
		s.mu.Unlock()
		c.enqueue(outFrame{data: gatewayFrame(opHeartbeatACK, nil, nil, "")})
		return true
	}
	now := time.Now()
	cut := 0
	for cut < len(c.commandLog) && now.Sub(c.commandLog[cut]) >= time.Minute {
		cut++
	}
	c.commandLog = append(c.commandLog[cut:], now)
	if len(c.commandLog) > GatewayCommandsPerMinute {
		c.closeWith(CloseRateLimited, "You are being rate limited.")
		return false
	}
	s.mu.Lock()
	identified := c.session != nil
	s.mu.Unlock()
	switch op {
	case opIdentify:
		if identified {
			c.closeWith(CloseAlreadyAuthenticated, "Already authenticated.")
			return false
		}
		return s.identify(c, p.Data, version)
	case opResume:
		if identified {
			c.closeWith(CloseAlreadyAuthenticated, "Already authenticated.")
			return false
		}
		return s.resume(c, p.Data)
	case opPresenceUpdate, opVoiceState, opRequestMembers:
		if !identified {
			c.closeWith(CloseNotAuthenticated, "Not authenticated.")
			return false
		}
		return true
	default:
		c.closeWith(CloseUnknownOpcode, "Unknown opcode.")
		return false
	}
}

func (s *Server) tokenMatches(token string) bool {
	return strings.TrimPrefix(token, "Bot ") == s.token
}

func (s *Server) identify(c *gatewayConn, raw json.RawMessage, version string) bool {
	var d struct {
		Token    string  `json:"token"`
		Intents  *int64  `json:"intents"`
		Shard    *[2]int `json:"shard"`
		Compress bool    `json:"compress"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		c.closeWith(CloseDecodeError, "Error while decoding payload.")
		return false
	}
	if !s.tokenMatches(d.Token) {
		c.closeWith(CloseAuthenticationFailed, "Authentication failed.")
		return false
	}
	if d.Intents == nil || *d.Intents < 0 || *d.Intents&^knownIntentsMask != 0 {
		c.closeWith(CloseInvalidIntents, "Invalid intent(s).")
		return false
	}
	if *d.Intents&privilegedIntentsMask&^s.opts.PrivilegedIntents != 0 {
		c.closeWith(CloseDisallowedIntents, "Disallowed intent(s).")
		return false
	}
	shard := [2]int{0, 1}
	if d.Shard != nil {
		shard = *d.Shard
	}
	if shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1] {
		c.closeWith(CloseInvalidShard, "Invalid shard.")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := &gatewaySession{
		id: randomHex(16), shardID: shard[0], shardCount: shard[1], intents: *d.Intents,
		compress: d.Compress, conn: c,
	}
	var guildIDs []string
	for _, id := range sortedKeys(s.guilds) {
		if !s.guilds[id].left && sess.handles(id) {
			guildIDs = append(guildIDs, id)
		}
	}
	if len(guildIDs) > MaxGuildsPerShard {
		c.closeWith(CloseShardingRequired, "Sharding required.")
		return false
	}
	s.pruneIdentifiesLocked(time.Now())
	s.identifyLog = append(s.identifyLog, time.Now())
	s.stats.Identifies++
	s.sessions[sess.id] = sess
	c.session = sess
	unavailable := make([]map[string]any, 0, len(guildIDs))
	for _, id := range guildIDs {
		unavailable = append(unavailable, map[string]any{"id": id, "unavailable": true})
	}
	botUser := s.userJSONLocked(s.botUserID)
	botUser["verified"] = true
	botUser["mfa_enabled"] = false
	apiVersion, _ := strconv.Atoi(version)
	s.sendDispatchLocked(sess, "READY", map[string]any{
		"v": apiVersion, "user": botUser, "guilds": unavailable, "session_id": sess.id,
		"resume_gateway_url": s.GatewayURL(), "shard": shard, "private_channels": []any{},
		"application": map[string]any{"id": s.appID, "flags": 0},
	})
	if sess.intents&intentGuilds != 0 {
		for _, id := range guildIDs {
			s.sendDispatchLocked(sess, "GUILD_CREATE", s.guildCreateJSONLocked(s.guilds[id]))
		}
	}
	return true
}

func (s *Server) resume(c *gatewayConn, raw json.RawMessage) bool {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		c.closeWith(CloseDecodeError, "Error while decoding payload.")
		return false
	}
	if !s.tokenMatches(d.Token) {
		c.closeWith(CloseAuthenticationFailed, "Authentication failed.")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[d.SessionID]
	lost := ok && len(sess.buffer) > 0 && sess.buffer[0].seq > d.Seq+1
	if !ok || lost {
		// Not resumable: the client must identify again.
		c.enqueue(outFrame{data: gatewayFrame(opInvalidSession, false, nil, "")})
		return true
	}
	if d.Seq > sess.seq {
		c.closeWith(CloseInvalidSeq, "Invalid seq.")
		return false
	}
	if old := sess.conn; old != nil && old != c {
		old.closeWith(CloseSessionTimedOut, "Session timed out.")
		old.session = nil
	}
	sess.conn = c
	c.session = sess
	s.stats.Resumes++
	for _, ev := range sess.buffer {
		if ev.seq > d.Seq {
			s.sendFrameLocked(sess, ev.data)
		}
	}
	s.sendDispatchLocked(sess, "RESUMED", map[string]any{})
	return true
}

// sendDispatchLocked numbers an event for the session, keeps it for RESUME
// and sends it if the session is connected.
func (s *Server) sendDispatchLocked(sess *gatewaySession, event string, d any) {
	sess.seq++
	seq := sess.seq
	data := gatewayFrame(opDispatch, d, &seq, event)
	sess.buffer = append(sess.buffer, bufferedEvent{seq: seq, data: data})
	if len(sess.buffer) > resumeReplayBufferCapacity {
		sess.buffer = slices.Delete(sess.buffer, 0, len(sess.buffer)-resumeReplayBufferCapacity)
	}
	s.sendFrameLocked(sess, data)
}

func (s *Server) sendFrameLocked(sess *gatewaySession, data []byte) {
	if sess.conn == nil {
		return
	}
	if sess.compress {
		// Identify's compress flag: Discord then sends payloads as
		// zlib-compressed binary frames, which discordgo inflates.
		sess.conn.enqueue(outFrame{data: zlibCompress(data), binary: true})
		return
	}
	sess.conn.enqueue(outFrame{data: data})
}

// dispatchLocked sends a guild event (which needs the GUILDS intent) to every
// session whose shard covers the guild.
func (s *Server) dispatchLocked(guildID, event string, d any) {
	for _, id := range sortedKeys(s.sessions) {
		sess := s.sessions[id]
		if sess.intents&intentGuilds != 0 && sess.handles(guildID) {
			s.sendDispatchLocked(sess, event, d)
		}
	}
}

// dispatchInteractionLocked sends INTERACTION_CREATE (no intent needed) to the
// connected sessions of the guild's shard and reports whether any got it.
func (s *Server) dispatchInteractionLocked(guildID string, payload map[string]any) bool {
	sent := false
	for _, id := range sortedKeys(s.sessions) {
		sess := s.sessions[id]
		if sess.conn != nil && sess.handles(guildID) {
			s.sendDispatchLocked(sess, "INTERACTION_CREATE", payload)
			sent = true
		}
	}
	return sent
}

// RequestReconnect sends opcode 7 Reconnect to every connection, as Discord
// does before maintenance; clients should reconnect and RESUME.
func (s *Server) RequestReconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.enqueue(outFrame{data: gatewayFrame(opReconnect, nil, nil, "")})
	}
}

// DropGatewayConnections cuts every gateway connection without a close
// frame, like a network failure; sessions stay resumable.
func (s *Server) DropGatewayConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.drop()
	}
}

// ConnectedSessions counts identified gateway sessions with a live connection.
func (s *Server) ConnectedSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.sessions {
		if sess.conn != nil {
			n++
		}
	}
	return n
}
