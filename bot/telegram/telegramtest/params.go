package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxRequestBody bounds what one request may upload; sendMessage needs far
// less, and the fake stores nothing bigger.
const maxRequestBody = 10 << 20

// params are a request's parameters the way the Bot API sees them: every
// value a string, nested objects as their JSON text. A form field, a multipart
// field and a JSON member all end up the same.
type params map[string]string

// readParams merges the query string with the body, whatever its encoding.
func readParams(r *http.Request) (params, *apiError) {
	p := params{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			p[k] = v[0]
		}
	}
	if r.Body == nil {
		return p, nil
	}
	body := http.MaxBytesReader(nil, r.Body, maxRequestBody)
	mediaType, mediaParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		raw, err := io.ReadAll(body)
		if err != nil {
			return nil, badRequest(RejectBadRequest, "request body is too large")
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			return p, nil
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, badRequest(RejectBadRequest, "can't parse JSON encoded request")
		}
		for k, v := range fields {
			var s string
			if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
				p[k] = s
				continue
			}
			p[k] = string(v)
		}
	case "multipart/form-data":
		if mediaParams["boundary"] == "" {
			return nil, badRequest(RejectBadRequest, "multipart body without boundary")
		}
		r.Body = body
		if err := r.ParseMultipartForm(maxRequestBody); err != nil {
			return nil, badRequest(RejectBadRequest, "can't parse multipart request")
		}
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				p[k] = v[0]
			}
		}
		for k, fhs := range r.MultipartForm.File {
			if len(fhs) == 0 {
				continue
			}
			f, err := fhs[0].Open()
			if err != nil {
				return nil, badRequest(RejectBadRequest, "can't read an uploaded file")
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, badRequest(RejectBadRequest, "can't read an uploaded file")
			}
			p[fileDataParam+k], p[fileNameParam+k] = string(data), fhs[0].Filename
		}
	default:
		raw, err := io.ReadAll(body)
		if err != nil {
			return nil, badRequest(RejectBadRequest, "request body is too large")
		}
		if len(raw) == 0 {
			return p, nil
		}
		form, err := parseQuery(string(raw))
		if err != nil {
			return nil, badRequest(RejectBadRequest, "can't parse request body")
		}
		for k, v := range form {
			p[k] = v
		}
	}
	return p, nil
}

// parseQuery reads a form-urlencoded body; the first value of a key wins.
func parseQuery(body string) (map[string]string, error) {
	values, err := url.ParseQuery(body)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(values))
	for k, v := range values {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out, nil
}

// has reports whether the parameter was sent, and not as JSON null (the
// library sends a nil slice as "null").
func (p params) has(name string) bool {
	v, ok := p[name]
	return ok && v != "" && v != "null"
}

var errNotInteger = errors.New("not an integer")

// int64 reads an integer parameter; absent is (0, false, nil).
func (p params) int64(name string) (int64, bool, error) {
	if !p.has(name) {
		return 0, false, nil
	}
	v, err := strconv.ParseInt(strings.TrimSpace(p[name]), 10, 64)
	if err != nil {
		return 0, true, errNotInteger
	}
	return v, true, nil
}

// bool reads a boolean parameter the way the server does: "true" or a
// non-zero number is true.
func (p params) bool(name string) bool {
	switch v := strings.ToLower(strings.TrimSpace(p[name])); v {
	case "", "false", "0", "null":
		return false
	case "true":
		return true
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		return err == nil && n != 0
	}
}

// chatID reads chat_id. A "@username" is looked up by the caller.
func (p params) chatID() (id int64, username string, e *apiError) {
	raw := strings.TrimSpace(p["chat_id"])
	if raw == "" || raw == "null" {
		return 0, "", badRequest(RejectBadRequest, "chat_id is empty")
	}
	if strings.HasPrefix(raw, "@") {
		return 0, raw[1:], nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id == 0 {
		return 0, "", badRequest(RejectChatNotFound, "chat not found")
	}
	return id, "", nil
}
