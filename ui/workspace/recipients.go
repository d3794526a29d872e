package workspace

import (
	"context"
	"sort"
	"time"

	"kfdesk/api"
	"kfdesk/storage"
)

// recentLimit: how many customers seen in the chat records the composer lists.
const recentLimit = 500

// SeenCustomer is a customer found in the chat records (last message, replies since).
type SeenCustomer = storage.Customer

// SeenCustomersFunc lists the customers of an account seen in its chat records,
// most recent first (storage.DB.RecentCustomers).
type SeenCustomersFunc func(ctx context.Context, accountID int64, limit int) ([]SeenCustomer, error)

// Recipient is one person the composer can send to.
type Recipient struct {
	OpenID   string
	Note     string // the operator's own name for them
	Follower bool   // in the cached follower list
	Seen     bool   // in the chat records
	SeenCustomer
}

// Reply estimates the recipient's reply window at now from the chat records
// (api.ReplyWindowAt). Without chat records nothing is known.
func (r Recipient) Reply(now time.Time) api.ReplyStatus {
	if !r.Seen {
		return api.ReplyStatus{State: api.ReplyUnknown}
	}
	return r.SeenCustomer.Reply(now)
}

// Recipients lists who the composer can send to: customers seen in chat records
// (most recent first, with their window), then the cached followers (newest
// follower first), each once, with the operator's notes.
func (w *Workspace) Recipients(ctx context.Context, a storage.Account) ([]Recipient, error) {
	notes, err := w.DB.Notes(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	fol, err := w.DB.Followers(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return w.recipients(ctx, a, notes, fol)
}

func (w *Workspace) recipients(ctx context.Context, a storage.Account, notes map[string]string, fol storage.SyncedFollowers) ([]Recipient, error) {
	following := make(map[string]bool, len(fol.OpenIDs))
	for _, id := range fol.OpenIDs {
		following[id] = true
	}
	var out []Recipient
	seen := map[string]bool{}
	seenIn := w.SeenCustomers
	if seenIn == nil {
		seenIn = w.DB.RecentCustomers
	}
	cs, err := seenIn(ctx, a.ID, recentLimit)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].LastActivity.After(cs[j].LastActivity) })
	for _, c := range cs {
		if seen[c.OpenID] {
			continue
		}
		seen[c.OpenID] = true
		out = append(out, Recipient{OpenID: c.OpenID, Note: notes[c.OpenID], Follower: following[c.OpenID], Seen: true, SeenCustomer: c})
	}

	for i := len(fol.OpenIDs) - 1; i >= 0; i-- {
		id := fol.OpenIDs[i]
		if !seen[id] {
			seen[id] = true
			out = append(out, Recipient{OpenID: id, Note: notes[id], Follower: true})
		}
	}
	// Notes on people in neither list (a pasted openid) keep them findable.
	var rest []string
	for id := range notes {
		if !seen[id] {
			rest = append(rest, id)
		}
	}
	sort.Strings(rest)
	for _, id := range rest {
		out = append(out, Recipient{OpenID: id, Note: notes[id]})
	}
	return out, nil
}
