package main

import (
	"context"
	"errors"
)

func runStack(ctx context.Context, args []string) error {
	return errors.New("not yet")
}
