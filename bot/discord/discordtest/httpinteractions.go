package discordtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// BadSignature selects how SendBadlySignedInteraction spoils a request.
type BadSignature int

const (
	// SignatureWrongKey signs with a key that is not the application's.
	SignatureWrongKey BadSignature = iota
	// SignatureTamperedBody signs one body and sends another.
	SignatureTamperedBody
	// SignatureMissing sends no signature headers at all.
	SignatureMissing
)

// endpointClient posts to HTTP interaction endpoints; they are test servers,
// so it only ever dials loopback addresses.
func (s *Server) endpointClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
					return nil, fmt.Errorf("discordtest: refusing to POST interactions to %s: not a loopback address", addr)
				}
				return dialer.DialContext(ctx, network, addr)
			},
			DisableKeepAlives: true,
		},
	}
}

// signedRequest builds Discord's POST: Ed25519 over timestamp + body.
func signedRequest(ctx context.Context, endpoint string, body []byte, key ed25519.PrivateKey, signedBody []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("discordtest: build interaction request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	if key != nil {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		sig := ed25519.Sign(key, append([]byte(ts), signedBody...))
		req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
		req.Header.Set("X-Signature-Timestamp", ts)
	}
	return req, nil
}

// deliverHTTP POSTs an interaction and treats the HTTP answer as Discord
// does: a 2xx with an interaction response body is the initial response; an
// empty 2xx is fine only if the bot already called the callback endpoint;
// anything else, or no answer within the window, fails the interaction.
func (s *Server) deliverHTTP(rec *interactionRecord, endpoint string, body []byte) {
	ctx, cancel := context.WithDeadline(context.Background(), rec.deadline)
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	fail := func(format string, args ...any) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if rec.failure == nil && !rec.finalLocked() {
			rec.failure = fmt.Errorf("%w: %s", ErrInteractionFailed, fmt.Sprintf(format, args...))
			rec.notifyLocked()
		}
	}
	req, err := signedRequest(ctx, endpoint, body, s.privateKey, body)
	if err != nil {
		fail("%v", err)
		return
	}
	resp, err := s.endpointClient(0).Do(req)
	if err != nil {
		fail("endpoint did not answer in time: %v", err)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		fail("reading the endpoint's answer: %v", err)
		return
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fail("endpoint answered HTTP %d", resp.StatusCode)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(bytes.TrimSpace(answer)) == 0 {
		if !rec.acked && rec.failure == nil {
			rec.failure = fmt.Errorf("%w: endpoint answered HTTP %d without an interaction response", ErrInteractionFailed, resp.StatusCode)
			rec.notifyLocked()
		}
		return
	}
	var cb callbackWire
	if err := json.Unmarshal(answer, &cb); err != nil {
		rec.failure = fmt.Errorf("%w: endpoint's answer is not an interaction response: %v", ErrInteractionFailed, err)
		rec.notifyLocked()
		return
	}
	if apiErr := s.applyCallbackLocked(rec, cb, time.Now(), 0); apiErr != nil && rec.failure == nil {
		rec.failure = fmt.Errorf("%w: endpoint's interaction response refused: %s", ErrInteractionFailed, string(mustJSON(apiErr)))
		rec.notifyLocked()
	}
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		return []byte(err.Error())
	}
	return data
}

var pingBody = func(appID string) []byte {
	return mustJSON(map[string]any{"id": "1", "application_id": appID, "type": interactionTypePing, "token": "ping", "version": 1})
}

// VerifyInteractionsEndpoint does what the Developer Portal does when an
// Interactions Endpoint URL is saved: a correctly signed PING must get 200
// {"type":1} and a badly signed one 401. On success Discord sends every
// later interaction there instead of over the gateway, and so does Interact.
func (s *Server) VerifyInteractionsEndpoint(ctx context.Context, endpoint string) error {
	client := s.endpointClient(10 * time.Second)
	body := pingBody(s.appID)
	req, err := signedRequest(ctx, endpoint, body, s.privateKey, body)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("discordtest: verify endpoint: PING: %w", err)
	}
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if readErr != nil {
		return fmt.Errorf("discordtest: verify endpoint: PING answer: %w", readErr)
	}
	var pong struct {
		Type int `json:"type"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(answer, &pong) != nil || pong.Type != CallbackPong {
		return fmt.Errorf("discordtest: verify endpoint: PING answered HTTP %d %q, want 200 {\"type\":1}: %w",
			resp.StatusCode, truncate(answer, 200), ErrInteractionFailed)
	}
	status, err := s.SendBadlySignedInteraction(ctx, endpoint, SignatureWrongKey)
	if err != nil {
		return err
	}
	if status != http.StatusUnauthorized {
		return fmt.Errorf("discordtest: verify endpoint: badly signed PING answered HTTP %d, want 401: %w", status, ErrInteractionFailed)
	}
	s.mu.Lock()
	s.endpointURL = endpoint
	s.mu.Unlock()
	return nil
}

// ClearInteractionsEndpoint removes the endpoint URL: interactions go over
// the gateway again.
func (s *Server) ClearInteractionsEndpoint() {
	s.mu.Lock()
	s.endpointURL = ""
	s.mu.Unlock()
}

// SendBadlySignedInteraction POSTs a PING to an HTTP interactions endpoint
// with a spoiled signature, as Discord does to check that endpoints verify
// signatures, and returns the HTTP status it got (Discord requires 401).
func (s *Server) SendBadlySignedInteraction(ctx context.Context, endpoint string, how BadSignature) (int, error) {
	body := pingBody(s.appID)
	var (
		req *http.Request
		err error
	)
	switch how {
	case SignatureWrongKey:
		_, otherKey, genErr := ed25519.GenerateKey(nil)
		if genErr != nil {
			return 0, fmt.Errorf("discordtest: generate key: %w", genErr)
		}
		req, err = signedRequest(ctx, endpoint, body, otherKey, body)
	case SignatureTamperedBody:
		tampered := mustJSON(map[string]any{"id": "1", "application_id": s.appID, "type": interactionTypeCommand, "token": "x", "version": 1})
		req, err = signedRequest(ctx, endpoint, tampered, s.privateKey, body)
	case SignatureMissing:
		req, err = signedRequest(ctx, endpoint, body, nil, nil)
	default:
		return 0, fmt.Errorf("discordtest: unknown BadSignature %d", how)
	}
	if err != nil {
		return 0, err
	}
	resp, err := s.endpointClient(10 * time.Second).Do(req)
	if err != nil {
		return 0, fmt.Errorf("discordtest: badly signed interaction: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
