package workspace

import (
	"context"

	"kfdesk/storage"
)

// The keys desktops connect to kfdesk serve with (issue 11 §5), for `kfdesk serve key`.

// AddDesktopKey makes a key for the desktop called name (issue 11 §5) and returns
// it: show it once, it cannot be read back (only its hash is kept).
func (w *Workspace) AddDesktopKey(ctx context.Context, name string) (string, error) {
	return w.DB.AddDesktopKey(ctx, name)
}

// DesktopKeys lists the desktop keys (never the keys themselves), revoked ones too.
func (w *Workspace) DesktopKeys(ctx context.Context) ([]storage.DesktopKey, error) {
	return w.DB.DesktopKeys(ctx)
}

// RevokeDesktopKey makes the desktop key called name fail from now on.
func (w *Workspace) RevokeDesktopKey(ctx context.Context, name string) error {
	return w.DB.RevokeDesktopKey(ctx, name)
}
