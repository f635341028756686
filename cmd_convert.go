package main

import (
	"context"
	"fmt"
	"os"

	"github.com/bitnet-go/bitnet/model/hf"
	"github.com/bitnet-go/bitnet/model/hub"
)

// runConvert implements `bitnet convert DIR -o FILE.gguf [--type TYPE]`.
func runConvert(ctx context.Context, args []string, io stdio) error {
	fs := newFlags("convert", io)
	var (
		out, typeName, name string
		threads             int
	)
	fs.StringVar(&out, "o", "", "output GGUF file")
	fs.StringVar(&out, "output", "", "output GGUF file")
	fs.StringVar(&typeName, "type", "i2_s", "projection encoding: i2_s, tq2_0, tq1_0 or f16")
	fs.StringVar(&name, "name", "", "general.name (default: the model's recorded name, or the directory's)")
	fs.IntVar(&threads, "t", 0, "threads (default: one per CPU)")
	fs.IntVar(&threads, "threads", 0, "threads (default: one per CPU)")
	fs.Usage = func() {
		fmt.Fprint(io.err, `Usage: bitnet convert DIR -o FILE.gguf [--type i2_s|tq2_0|tq1_0|f16]

Converts a Hugging Face model directory (config.json, safetensors weights,
tokenizer.json or tokenizer.model) to one GGUF file with the tokenizer inside.
DIR may also be the name of a model downloaded with 'bitnet pull'.

  i2_s   ternary, 2 bits per weight, one scale per tensor (default; bitnet.cpp's type)
  tq2_0  ternary, 2.06 bits per weight (llama.cpp)
  tq1_0  ternary, 1.69 bits per weight (llama.cpp)
  f16    every matrix as fp16, for tools that quantise by themselves

`)
		fs.PrintDefaults()
	}
	// Flags may come before or after DIR.
	var dirs []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(dirs) != 1 || out == "" {
		return usagef("convert needs one model directory and -o FILE.gguf")
	}
	typ, err := hf.ParseOutputType(typeName)
	if err != nil {
		return usageError{err}
	}
	dir, err := hub.Resolve(dirs[0], "")
	if err != nil {
		return err
	}
	if !hf.IsModelDir(dir) {
		return fmt.Errorf("convert %s: not a Hugging Face model directory (no %s)", dir, hf.ConfigFileName)
	}
	if err := hf.Convert(ctx, dir, out, hf.ConvertOptions{Type: typ, Name: name, Threads: threads}); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "wrote %s (%v, %.1f MiB)\n", out, typ, float64(st.Size())/(1<<20))
	return nil
}
