package workspace

import "context"

// demoCustomers starts the demo fake's customer simulator (api/wechattest/customers.go).
func (w *Workspace) demoCustomers(ctx context.Context) {}
