package briefings

import "errors"

// ErrNotFound is returned by a Store when the thing asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrNotSubscribed is returned for commands that need a subscription the chat
// does not have.
var ErrNotSubscribed = errors.New("not subscribed")
