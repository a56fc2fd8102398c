package postgres

import (
	"testing"

	"github.com/newsbot/newsbot/briefings/postgres/pgtest"
	"github.com/newsbot/newsbot/briefings/storetest"
)

func TestAdminStoreContract(t *testing.T) {
	pgtest.URL(t)
	t.Parallel()
	storetest.RunAdmin(t, func(t *testing.T) storetest.AdminStore { return openTest(t) })
}
