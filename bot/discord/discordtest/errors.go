package discordtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Errors returned by the driving API (Interact, the handle's Await, …).
var (
	// ErrNotAcknowledged: the bot did not answer within the interaction
	// window; the user sees "The application did not respond".
	ErrNotAcknowledged = errors.New("discordtest: interaction not acknowledged within the response window")
	// ErrInteractionFailed: the HTTP interactions endpoint answered with
	// something Discord does not accept (non-2xx, bad body, too late).
	ErrInteractionFailed = errors.New("discordtest: interaction failed")
	// ErrTokenExpired: a deferred interaction was never completed before its
	// token expired.
	ErrTokenExpired = errors.New("discordtest: interaction token expired before a final response")
	// ErrGatewayNotConnected: no identified gateway session can receive the
	// event.
	ErrGatewayNotConnected = errors.New("discordtest: no gateway session connected for this guild")
	// ErrUnknownEntity: a guild, channel, role, member or command named by the
	// test does not exist in the fake.
	ErrUnknownEntity = errors.New("discordtest: unknown entity")
	// ErrInvalidInteraction: the interaction could not be produced by a real
	// Discord client (unknown option, wrong value type, missing permission…).
	ErrInvalidInteraction = errors.New("discordtest: interaction Discord would not send")
	// ErrServerClosed: the fake was closed.
	ErrServerClosed = errors.New("discordtest: server closed")
)

// apiError is Discord's JSON error body, plus the HTTP status it travels with.
type apiError struct {
	status  int
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Errors  map[string]any `json:"errors,omitempty"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d: %d %s", e.status, e.Code, e.Message)
}

func newAPIError(status, code int, message string) *apiError {
	return &apiError{status: status, Code: code, Message: message}
}

func errUnauthorized() *apiError {
	return newAPIError(http.StatusUnauthorized, CodeGeneral, "401: Unauthorized")
}
func errNotFound() *apiError {
	return newAPIError(http.StatusNotFound, CodeGeneral, "404: Not Found")
}
func errMethodNotAllowed() *apiError {
	return newAPIError(http.StatusMethodNotAllowed, CodeGeneral, "405: Method Not Allowed")
}
func errMissingAccess() *apiError {
	return newAPIError(http.StatusForbidden, CodeMissingAccess, "Missing Access")
}
func errMissingPermissions() *apiError {
	return newAPIError(http.StatusForbidden, CodeMissingPermissions, "Missing Permissions")
}
func errUnknownChannel() *apiError {
	return newAPIError(http.StatusNotFound, CodeUnknownChannel, "Unknown Channel")
}
func errUnknownGuild() *apiError {
	return newAPIError(http.StatusNotFound, CodeUnknownGuild, "Unknown Guild")
}
func errUnknownInteraction() *apiError {
	return newAPIError(http.StatusNotFound, CodeUnknownInteraction, "Unknown interaction")
}
func errUnknownWebhook() *apiError {
	return newAPIError(http.StatusNotFound, CodeUnknownWebhook, "Unknown Webhook")
}
func errUnknownMessage() *apiError {
	return newAPIError(http.StatusNotFound, CodeUnknownMessage, "Unknown Message")
}
func errInvalidWebhookToken() *apiError {
	return newAPIError(http.StatusUnauthorized, CodeInvalidWebhookToken, "Invalid Webhook Token")
}
func errEmptyMessage() *apiError {
	return newAPIError(http.StatusBadRequest, CodeEmptyMessage, "Cannot send an empty message")
}
func errInvalidJSON() *apiError {
	return newAPIError(http.StatusBadRequest, CodeInvalidJSON, "The request body contains invalid JSON.")
}

// fieldError is one entry of a 50035 Invalid Form Body answer, at a path such
// as ["embeds", "0", "title"].
type fieldError struct {
	Path    []string
	Code    string
	Message string
}

// formErrors collects field errors; Discord reports all of them at once.
type formErrors []fieldError

func (f *formErrors) add(path []string, code, message string) {
	*f = append(*f, fieldError{Path: append([]string(nil), path...), Code: code, Message: message})
}

func (f *formErrors) maxLength(path []string, limit int) {
	f.add(path, "BASE_TYPE_MAX_LENGTH", "Must be "+strconv.Itoa(limit)+" or fewer in length.")
}

func (f *formErrors) badLength(path []string, lo, hi int) {
	f.add(path, "BASE_TYPE_BAD_LENGTH", "Must be between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi)+" in length.")
}

func (f *formErrors) required(path []string) {
	f.add(path, "BASE_TYPE_REQUIRED", "This field is required")
}

// apiError turns the collected errors into Discord's nested "errors" object,
// or nil when there are none.
func (f formErrors) apiError() *apiError {
	if len(f) == 0 {
		return nil
	}
	root := map[string]any{}
	for _, fe := range f {
		node := root
		for _, key := range fe.Path {
			child, ok := node[key].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[key] = child
			}
			node = child
		}
		list, _ := node["_errors"].([]map[string]string)
		node["_errors"] = append(list, map[string]string{"code": fe.Code, "message": fe.Message})
	}
	e := newAPIError(http.StatusBadRequest, CodeInvalidFormBody, "Invalid Form Body")
	e.Errors = root
	return e
}

func pathWith(path []string, more ...string) []string {
	out := make([]string, 0, len(path)+len(more))
	return append(append(out, path...), more...)
}

// jsonDecodeError maps a json.Unmarshal failure to Discord's answer: a body
// that is not JSON is 50109, a value of the wrong type is a 50035 on its field.
func jsonDecodeError(err error) *apiError {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		var f formErrors
		path := splitFieldPath(typeErr.Field)
		f.add(path, "MODEL_TYPE_CONVERT", fmt.Sprintf("Could not interpret %q as %s.", typeErr.Value, typeErr.Type))
		return f.apiError()
	}
	return errInvalidJSON()
}

func splitFieldPath(field string) []string {
	if field == "" {
		return []string{"_root"}
	}
	var out []string
	start := 0
	for i := 0; i <= len(field); i++ {
		if i == len(field) || field[i] == '.' {
			if i > start {
				out = append(out, field[start:i])
			}
			start = i + 1
		}
	}
	if len(out) == 0 {
		return []string{"_root"}
	}
	return out
}
