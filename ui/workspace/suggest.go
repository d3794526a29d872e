package workspace

import (
	"context"

	"kfdesk/api/clock"
	"kfdesk/storage"
)

// Suggestion is a suggested reply: a text the shop's KF staff gave to similar
// customer messages, how often and when last, and the exchanges it comes from.
type Suggestion = storage.Suggestion

// Suggest returns up to three replies for a customer's message (issue 15), computed
// on this machine from the account's archive (storage/suggest.go); none when nothing
// similar was ever asked. openid is the customer asking: replies to other customers
// that hold personal data are left out.
func (w *Workspace) Suggest(ctx context.Context, a storage.Account, openid, text string) ([]Suggestion, error) {
	return w.DB.Suggest(ctx, a.ID, text, clock.Now(), storage.SuggestOptions{OpenID: openid})
}
