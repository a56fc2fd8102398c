package briefings

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := time.Date(2025, 7, 10, 7, 30, 0, 0, time.UTC)
	tooLate := time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC)
	chat := ChatRef{Platform: PlatformTelegram, ID: "1"}
	tests := []struct {
		name string
		err  error
		want string // "" for valid
	}{
		{"subscription", Subscription{Chat: chat, At: 450, NextDue: ok}.Validate(), ""},
		{"subscription, zero times", Subscription{Chat: chat}.Validate(), ""},
		{"subscription without chat id", Subscription{Chat: ChatRef{Platform: PlatformTelegram}}.Validate(), "platform and an id"},
		{"subscription at 24:00", Subscription{Chat: chat, At: 24 * 60}.Validate(), "outside 00:00–23:59"},
		{"subscription due in year 10001", Subscription{Chat: chat, NextDue: tooLate}.Validate(), "outside years 1–9999"},
		{"delivery", Delivery{LocalDate: "2025-07-10", Due: ok}.Validate(), ""},
		{"delivery without date", Delivery{Due: ok}.Validate(), "empty local date"},
		{"result", DeliveryResult{LocalDate: "2025-07-10", State: DeliverySent, NextDue: ok}.Validate(), ""},
		{"result still pending", DeliveryResult{LocalDate: "2025-07-10", State: DeliveryPending}.Validate(), "not final"},
		{"result without date", DeliveryResult{State: DeliverySent}.Validate(), "empty local date"},
		{"result due in year 10001", DeliveryResult{LocalDate: "x", State: DeliveryFailed, NextDue: tooLate}.Validate(), "outside years"},
	}
	for _, tt := range tests {
		switch {
		case tt.want == "" && tt.err != nil:
			t.Errorf("%s: %v, want valid", tt.name, tt.err)
		case tt.want != "" && (tt.err == nil || !strings.Contains(tt.err.Error(), tt.want)):
			t.Errorf("%s: %v, want an error saying %q", tt.name, tt.err, tt.want)
		}
	}
}

func TestClampStoreTime(t *testing.T) {
	in := time.Date(2025, 7, 10, 0, 0, 0, 0, time.UTC)
	if got := ClampStoreTime(in); !got.Equal(in) {
		t.Errorf("a storable time moved: %v", got)
	}
	if got := ClampStoreTime(time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)); CheckStoreTimes(got.Add(-time.Nanosecond)) != nil {
		t.Errorf("a late bound clamps to %v, past what stores keep", got)
	}
	if got := ClampStoreTime(time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)); !got.IsZero() {
		t.Errorf("an early bound clamps to %v, want the zero time", got)
	}
}
