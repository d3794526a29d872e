//go:build server

package desktop

import (
	"fmt"
	"os"

	"kfdesk/ui/workspace"
)

// NoWindow is what a server build says when started with no command.
const NoWindow = "kfdesk: 此版本没有窗口（服务器版），请使用 kfdesk serve …（kfdesk help 列出全部命令）。 / " +
	"This build has no window (server build); use kfdesk serve … (kfdesk help lists every command)."

func run(*workspace.Workspace, string) int {
	fmt.Fprintln(os.Stderr, NoWindow)
	return 2
}

func runFailed(_, _ string, openErr error) int {
	fmt.Fprintln(os.Stderr, "kfdesk:", openErr)
	return 1
}
