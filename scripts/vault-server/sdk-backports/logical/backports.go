// Copyright (c) HashiCorp, Inc.
// SPDX-License-Identifier: MPL-2.0

// Compiled into github.com/hashicorp/vault/sdk@v0.9.2's logical package (go build -overlay, see
// ../../README.md): declarations that Vault v1.14.8's in-tree sdk has and the published sdk v0.9.2
// lacks, copied unchanged from github.com/hashicorp/vault/sdk@v0.11.0 logical/request.go.

package logical

import (
	"context"
	"io"
)

type CtxKeyRequestRole struct{}

func (c CtxKeyRequestRole) String() string {
	return "request-role"
}

type ctxKeyOriginalBody struct{}

func ContextOriginalBodyValue(ctx context.Context) (io.ReadCloser, bool) {
	value, ok := ctx.Value(ctxKeyOriginalBody{}).(io.ReadCloser)
	return value, ok
}

func CreateContextOriginalBody(parent context.Context, body io.ReadCloser) context.Context {
	return context.WithValue(parent, ctxKeyOriginalBody{}, body)
}
