package main

import (
	"context"

	"github.com/bitnet-go/bitnet/model/loader"
	"github.com/bitnet-go/bitnet/tokenizer"
)

func init() {
	usageSentinels = append(usageSentinels, tokenizer.ErrUsage)
}

// runTokenize implements `bitnet tokenize`: the token ids of a text.
func runTokenize(ctx context.Context, args []string, io stdio) error {
	return tokenizer.RunTokenize(args, io.in, io.out, io.err, tokenizer.TokenizeOptions{OpenModel: loader.LoadTokenizer})
}
