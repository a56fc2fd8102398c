package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestAdminTokenConfig(t *testing.T) {
	const token = "correct-horse-battery-staple-42"
	c, err := Parse(map[string]string{"NEWSBOT_ADMIN_TOKEN": token, "NEWSBOT_HTTP_ADDR": ":8080"})
	if err != nil || c.AdminToken != token {
		t.Fatalf("ParseConfig = %q, %v; want the token", c.AdminToken, err)
	}
	for _, shown := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
		if strings.Contains(shown, token) {
			t.Errorf("the configuration shows the admin token: %s", shown)
		}
	}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"NEWSBOT_ADMIN_TOKEN": "short", "NEWSBOT_HTTP_ADDR": ":8080"}, "NEWSBOT_ADMIN_TOKEN: too short"},
		{map[string]string{"NEWSBOT_ADMIN_TOKEN": token}, "NEWSBOT_HTTP_ADDR is not"},
	} {
		_, err := Parse(c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%v) = %v; want an error saying %q", c.env, err, c.want)
		} else if strings.Contains(err.Error(), "short\"") || strings.Contains(err.Error(), token) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}
