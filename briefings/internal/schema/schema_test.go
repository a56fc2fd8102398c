package schema

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestLoadInOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"0002_more.sql": {Data: []byte("CREATE TABLE b (id int);")},
		"0001_init.sql": {Data: []byte("CREATE TABLE a (id int);")},
		"README.md":     {Data: []byte("not a step")},
	}
	steps, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{Version: 1, Name: "0001_init.sql", SQL: "CREATE TABLE a (id int);"},
		{Version: 2, Name: "0002_more.sql", SQL: "CREATE TABLE b (id int);"},
	}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

func TestLoadRefusesBadSets(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"gap":      {"0001_a.sql": {Data: []byte("SELECT 1;")}, "0003_c.sql": {Data: []byte("SELECT 1;")}},
		"bad name": {"0001_a.sql": {Data: []byte("SELECT 1;")}, "2_b.sql": {Data: []byte("SELECT 1;")}},
		"none":     {},
	}
	for name, fsys := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(fsys); err == nil {
				t.Errorf("Load accepted %v", fsys)
			}
		})
	}
}
