package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite .env.example")

// envExample is .env.example as Vars describes it.
func envExample() string {
	var b strings.Builder
	b.WriteString("# newsbot configuration. Copy to .env and edit; the real environment wins over .env.\n")
	b.WriteString("# Every variable is optional: with none set, newsbot runs the console on a SQLite file\n")
	b.WriteString("# in the working directory and the embedded sample feeds.\n")
	for _, v := range Vars() {
		fmt.Fprintf(&b, "\n# %s (default: %s)\n", v.Doc, orNone(v.Default))
		fmt.Fprintf(&b, "%s=%s\n", v.Name, v.Default)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

// TestEnvExample keeps .env.example in step with the variables Parse
// reads: every one listed, with its comment and default.
func TestEnvExample(t *testing.T) {
	const path = "../../../.env.example"
	want := envExample()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf(".env.example is out of date with Vars; run go test ./bot/app/config -run TestEnvExample -update")
	}
	// And the defaults it states are the ones Parse applies.
	env := map[string]string{}
	for _, v := range Vars() {
		env[v.Name] = v.Default
	}
	withDefaults, err := Parse(env)
	if err != nil {
		t.Fatalf("the documented defaults do not parse: %v", err)
	}
	zero, _ := Parse(map[string]string{})
	if fmt.Sprint(withDefaults) != fmt.Sprint(zero) {
		t.Errorf("documented defaults differ from the real ones:\n%+v\n%+v", withDefaults, zero)
	}
}
