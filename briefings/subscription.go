package briefings

import "time"

// Platform names a chat platform. The core treats it as an opaque label.
type Platform string

const (
	PlatformConsole  Platform = "console"
	PlatformTelegram Platform = "telegram"
	PlatformDiscord  Platform = "discord"
)

// Platforms is every platform, for metrics whose series start at zero.
func Platforms() []Platform { return []Platform{PlatformConsole, PlatformTelegram, PlatformDiscord} }

// ChatRef names one place briefings are delivered to: a private chat, a group,
// a Discord channel.
type ChatRef struct {
	Platform Platform
	ID       string // the platform's own id, as text
}

func (c ChatRef) String() string { return string(c.Platform) + ":" + c.ID }

// Subscription is a chat's standing order for a daily briefing.
type Subscription struct {
	ID     int64
	Chat   ChatRef
	At     TimeOfDay // local time of day of the delivery
	Zone   Zone      // the zone the time of day is read in
	Topics Topics
	Active bool

	// NextDue is the instant of the next delivery, computed from At and Zone by
	// NextDelivery; everything downstream of the schedule works in instants.
	NextDue time.Time

	LastDeliveredAt time.Time
	LastError       string // why the last delivery failed; empty when it succeeded
	CreatedAt       time.Time
}

// SubscriptionCount is the state of one platform's subscriptions, for
// operators.
type SubscriptionCount struct {
	Platform Platform
	Active   int // subscriptions with deliveries on
	Due      int // active and due now
	Overdue  int // active and due for longer than a threshold
}
