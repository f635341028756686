package main

import (
	"context"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/model/hf"
	"github.com/bitnet-go/bitnet/model/hub"
)

// runInfo implements `bitnet info MODEL`.
func runInfo(ctx context.Context, args []string, io stdio) error {
	fs := newFlags("info", io)
	fs.Usage = func() {
		io.err.Write([]byte("Usage: bitnet info MODEL\n\nDescribes a model (a GGUF file, a Hugging Face directory or a downloaded model's name):\narchitecture, shape, tensor types and sizes, tokenizer, context length.\n"))
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("info takes one model file or directory")
	}
	path, err := hub.Resolve(fs.Arg(0), "")
	if err != nil {
		return err
	}
	if hf.IsModelDir(path) {
		return hf.WriteInfo(io.out, path)
	}
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return model.WriteInfo(io.out, f)
}
