package main

import (
	"context"

	"github.com/bitnet-go/bitnet/model/hub"
)

func init() {
	usageSentinels = append(usageSentinels, hub.ErrUsage)
}

// runPull implements `bitnet pull`: download models from the Hugging Face hub.
func runPull(ctx context.Context, args []string, io stdio) error {
	return hub.RunPull(ctx, args, io.out, io.err)
}

// runList implements `bitnet list`: the models in the cache.
func runList(ctx context.Context, args []string, io stdio) error {
	return hub.RunList(ctx, args, io.out, io.err)
}

// runRm implements `bitnet rm`: remove a model from the cache.
func runRm(ctx context.Context, args []string, io stdio) error {
	return hub.RunRm(ctx, args, io.out, io.err)
}
