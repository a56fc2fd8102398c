package sqlite

import (
	"testing"

	"github.com/newsbot/newsbot/briefings/storetest"
)

func TestAdminStoreContract(t *testing.T) {
	storetest.RunAdmin(t, func(t *testing.T) storetest.AdminStore {
		db, _ := openFile(t)
		return db
	})
}
