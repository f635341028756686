package main

import (
	"context"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/gguf"
)

// runInfo implements `bitnet info FILE`.
func runInfo(ctx context.Context, args []string, io stdio) error {
	fs := newFlags("info", io)
	fs.Usage = func() {
		io.err.Write([]byte("Usage: bitnet info FILE.gguf\n\nDescribes a model: architecture, shape, tensor types and sizes, tokenizer, context length.\n"))
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("info takes one model file")
	}
	f, err := gguf.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	return model.WriteInfo(io.out, f)
}
