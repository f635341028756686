package main

import (
	"context"
	"errors"
	"fmt"
	goio "io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/model/loader"
	"github.com/bitnet-go/bitnet/models"
	"github.com/bitnet-go/bitnet/repl"
	"github.com/bitnet-go/bitnet/tokenizer"
	"github.com/bitnet-go/bitnet/tokenizer/chat"
)

// maxStdinBytes bounds the text read from stdin. The largest context
// windows hold well under a megabyte of text; the bound only keeps a
// runaway pipe from exhausting memory.
const maxStdinBytes = 16 << 20

// runFlags are the flags of the default command.
type runFlags struct {
	model, prompt, system, template string
	settings                        repl.Settings
	threads, ctxSize                int
	raw, json, noColor, version     bool
	int8Head                        bool
}

// runDefault implements `bitnet [flags]`: the chat when stdin is a terminal
// and no prompt is given; otherwise one answer to -p TEXT and/or the text
// piped on stdin, written to stdout.
func runDefault(ctx context.Context, args []string, io stdio) error {
	f, err := parseRunFlags(args, io)
	if err != nil {
		return err
	}
	if f.version {
		fmt.Fprintf(io.out, "%s %s\n", programName, version)
		return nil
	}
	stdinTerminal := repl.IsTerminal(io.in)
	interactive := f.prompt == "" && stdinTerminal
	if interactive && f.json {
		return usagef("--json needs a prompt: -p TEXT or text on stdin")
	}
	if f.model == "" {
		if _, _, ok := models.Default(); !ok {
			return usagef("no model given and this build embeds none: download one with 'bitnet pull bitnet-2b4t' and run 'bitnet -m bitnet-2b4t', or give a GGUF file with -m FILE")
		}
	}
	var prompt string
	if !interactive {
		if prompt, err = readPrompt(f.prompt, io.in, stdinTerminal); err != nil {
			return err
		}
	}

	m, closeModel, err := openModel(f.model, f.options(), io)
	if err != nil {
		return withContextHint(err, "-c")
	}
	defer closeModel()
	if ctx.Err() != nil {
		return repl.ErrInterrupted
	}
	for _, w := range m.Tokenizer.Warnings() {
		fmt.Fprintf(io.err, "%s: warning: %s\n", programName, w)
	}
	t := repl.TemplateFor(m.Model, m.Tokenizer)
	if f.template != "" {
		if t, err = chat.ByName(f.template); err != nil {
			return usageError{err}
		}
	}
	c, err := repl.NewChat(m, t, f.settings)
	if err != nil {
		return err
	}
	c.System = f.system

	colorOK := !f.noColor && repl.ColorAllowed()
	outTerminal := repl.IsTerminal(io.out)
	if interactive {
		history, err := repl.HistoryPath()
		if err != nil {
			fmt.Fprintf(io.err, "%s: no input history: %v\n", programName, err)
		}
		_, window := c.ContextUsed()
		// Ctrl+C in the chat stops an answer, not the program: the chat
		// watches for it itself, so it runs without main's interrupt.
		return repl.Run(context.WithoutCancel(ctx), c, repl.Options{
			In:          io.in,
			Out:         io.out,
			Err:         io.err,
			OutTerminal: outTerminal,
			ColorOut:    colorOK && outTerminal,
			ColorErr:    colorOK && repl.IsTerminal(io.err),
			HistoryFile: history,
			Banner:      fmt.Sprintf("%s %s · %s · %d-token context window", programName, version, m.Name, window),
		})
	}
	err = repl.Once(ctx, c, prompt, repl.OnceOptions{
		Out:         io.out,
		OutTerminal: outTerminal,
		ColorOut:    colorOK && outTerminal,
		JSON:        f.json,
	})
	var tooLong *repl.PromptTooLongError
	if errors.As(err, &tooLong) {
		return fmt.Errorf("%w: shorten it, or give a larger window with -c N (the model was trained with %d)", err, m.Model.Config.ContextLength)
	}
	return err
}

// options returns the model options the flags ask for.
func (f *runFlags) options() model.Options {
	return model.Options{Threads: f.threads, ContextLength: f.ctxSize, Int8Head: f.int8Head}
}

// withContextHint adds to a session memory error the flag that sets a
// smaller context window.
func withContextHint(err error, flag string) error {
	var me *model.SessionMemoryError
	if errors.As(err, &me) {
		return fmt.Errorf("%w (%s N)", err, flag)
	}
	return err
}

// openModel opens the model named by -m, or the embedded default model when
// arg is empty, and returns it with the function that releases it. Loading
// that takes more than a moment shows progress on stderr.
func openModel(arg string, opts model.Options, io stdio) (repl.Model, func() error, error) {
	if arg == "" {
		return openEmbeddedModel(opts)
	}
	done := repl.Progress(io.err, repl.IsTerminal(io.err), "loading "+arg)
	l, err := loader.Load(arg, opts)
	done(err)
	if err != nil {
		return repl.Model{}, nil, err
	}
	if l.Tokenizer == nil {
		l.Close()
		return repl.Model{}, nil, l.TokenizerErr
	}
	name := arg
	if _, err := os.Stat(arg); err == nil {
		name = filepath.Base(filepath.Clean(arg))
	}
	return repl.Model{Model: l.Model, Tokenizer: l.Tokenizer, Name: name, Path: l.Path}, l.Close, nil
}

// openEmbeddedModel opens the model embedded in the binary.
func openEmbeddedModel(opts model.Options) (repl.Model, func() error, error) {
	data, name, ok := models.Default()
	if !ok {
		return repl.Model{}, nil, errors.New("this build embeds no model")
	}
	f, err := gguf.Parse(data)
	if err != nil {
		return repl.Model{}, nil, fmt.Errorf("embedded model %s: %w", name, err)
	}
	m, err := model.FromGGUF(f, opts)
	if err != nil {
		return repl.Model{}, nil, fmt.Errorf("embedded model %s: %w", name, err)
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		m.Close()
		return repl.Model{}, nil, fmt.Errorf("embedded model %s: tokenizer: %w", name, err)
	}
	return repl.Model{Model: m, Tokenizer: tok, Name: name}, m.Close, nil
}

// readPrompt makes the prompt of a one-shot answer: the -p text, then,
// when stdin is not a terminal, everything piped on it (without its final
// line break), separated by a blank line.
func readPrompt(flagText string, in goio.Reader, stdinTerminal bool) (string, error) {
	piped := ""
	if !stdinTerminal && in != nil {
		b, err := goio.ReadAll(goio.LimitReader(in, maxStdinBytes+1))
		if err != nil {
			return "", fmt.Errorf("read stdin: %w", err)
		}
		if len(b) > maxStdinBytes {
			return "", fmt.Errorf("stdin holds more than %d MiB of text, far more than any context window", maxStdinBytes>>20)
		}
		piped = strings.TrimRight(string(b), "\r\n")
	}
	hasFlag, hasPiped := strings.TrimSpace(flagText) != "", strings.TrimSpace(piped) != ""
	switch {
	case hasFlag && hasPiped:
		return flagText + "\n\n" + piped, nil
	case hasFlag:
		return flagText, nil
	case hasPiped:
		return piped, nil
	case flagText != "":
		return "", usagef("the prompt given with -p is blank")
	}
	return "", usagef("nothing to answer: stdin is empty; pipe some text in or give -p TEXT")
}

// parseRunFlags reads the flags of the default command.
func parseRunFlags(args []string, io stdio) (*runFlags, error) {
	f := &runFlags{settings: repl.DefaultSettings()}
	fs := newFlags(programName, io)
	s := &f.settings
	for _, name := range []string{"m", "model"} {
		fs.StringVar(&f.model, name, "", "")
	}
	for _, name := range []string{"p", "prompt"} {
		fs.StringVar(&f.prompt, name, "", "")
	}
	for _, name := range []string{"s", "system"} {
		fs.StringVar(&f.system, name, "", "")
	}
	for _, name := range []string{"n", "max-tokens"} {
		fs.IntVar(&s.MaxTokens, name, s.MaxTokens, "")
	}
	for _, name := range []string{"t", "threads"} {
		fs.IntVar(&f.threads, name, 0, "")
	}
	for _, name := range []string{"c", "ctx-size"} {
		fs.IntVar(&f.ctxSize, name, 0, "")
	}
	fs.Func("temp", "", floatFlag(&s.Sampler.Temperature))
	fs.IntVar(&s.Sampler.TopK, "top-k", s.Sampler.TopK, "")
	fs.Func("top-p", "", floatFlag(&s.Sampler.TopP))
	fs.Func("min-p", "", floatFlag(&s.Sampler.MinP))
	fs.Func("repeat-penalty", "", floatFlag(&s.Sampler.RepeatPenalty))
	fs.Int64Var(&s.Seed, "seed", s.Seed, "")
	fs.StringVar(&f.template, "template", "", "")
	fs.BoolVar(&f.raw, "raw", false, "")
	fs.BoolVar(&f.json, "json", false, "")
	fs.BoolVar(&f.noColor, "no-color", false, "")
	fs.BoolVar(&f.version, "version", false, "")
	fs.BoolVar(&f.int8Head, "int8-head", false, "")
	fs.Usage = func() { printRunHelp(io.out) }
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("unknown command %q (give a prompt with -p TEXT)", fs.Arg(0))
	}
	switch {
	case model.ValidateThreads(f.threads) != nil:
		return nil, usagef("-t %d: threads must be 0 (one per CPU) to %d", f.threads, model.MaxThreads)
	case f.ctxSize < 0 || f.ctxSize > model.MaxContextLength:
		return nil, usagef("-c %d: the context size must be 0 (the model's window, at most %d) to %d tokens", f.ctxSize, model.DefaultContextLength, model.MaxContextLength)
	case s.Seed < -1:
		return nil, usagef("--seed %d: want a seed >= 0, or -1 for a random one", s.Seed)
	}
	if err := s.Validate(); err != nil {
		return nil, usageError{err}
	}
	if err := f.options().Validate(); err != nil {
		return nil, usageError{err}
	}
	if f.template != "" {
		if _, err := chat.ByName(f.template); err != nil {
			return nil, usageError{err}
		}
	}
	if f.raw {
		if f.template != "" && f.template != chat.NameNone {
			return nil, usagef("--raw and --template %s contradict each other", f.template)
		}
		f.template = chat.NameNone
	}
	return f, nil
}

// floatFlag parses a float32 flag value into p.
func floatFlag(p *float32) func(string) error {
	return func(s string) error {
		v, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		*p = float32(v)
		return nil
	}
}

// printRunHelp is `bitnet --help`: the default command's flags, examples
// and the other commands.
func printRunHelp(w goio.Writer) {
	d := repl.DefaultSettings()
	fmt.Fprintf(w, `%[1]s runs 1.58-bit BitNet b1.58 language models on the CPU.

Usage:
  %[1]s [flags]                chat in the terminal
  %[1]s [flags] -p TEXT        answer TEXT and exit
  ... | %[1]s [flags]          answer the text piped on stdin (after -p TEXT, if given)
  %[1]s COMMAND [flags]        run a command (listed below)

Model:
  -m, --model NAME        GGUF file, Hugging Face directory, or a model downloaded
                          with 'bitnet pull' (default: the model embedded in bitnet)
  -t, --threads N         threads, at most %[8]d (default 0: one per CPU)
  -c, --ctx-size N        context window in tokens (default 0: the model's
                          training context, at most %[9]d)
      --int8-head         re-encode a float lm head to int8 per row: faster
                          generation, logits move slightly

Prompt:
  -p, --prompt TEXT       answer TEXT and exit
  -s, --system TEXT       system prompt
      --template NAME     chat template: %[2]s
                          (default: the model's; none continues text)
      --raw               no chat template: the model continues the text (--template none)

Sampling:
  -n, --max-tokens N      longest answer in tokens (default 0: until the model stops
                          or the context window is full)
      --temp T            temperature; 0 always takes the most likely token (default %[3]v)
      --top-k K           sample among the K most likely tokens; 0 = all (default %[4]v)
      --top-p P           sample among the likeliest tokens up to probability P (default %[5]v)
      --min-p P           drop tokens less likely than P times the best (default %[6]v)
      --repeat-penalty R  penalise recently used tokens; 1 = off (default %[7]v)
      --seed N            random seed, to repeat answers (default -1: random)

Output:
      --json              write one JSON object: text, token counts, timings
      --no-color          no colour (NO_COLOR=1 in the environment does the same)
      --version           print the version
  -h, --help              show this help

When stdout is not a terminal only the answer is written to it; everything
else goes to stderr. Exit status: 0 success, 1 error, 2 wrong usage.

In the chat, type /help for its commands (/set, /show, /save, /load, ...),
""" to start and end a message of several lines, Ctrl+C to stop an answer,
and Ctrl+D or /bye to leave.

Examples:
  %[1]s pull bitnet-2b4t                       download BitNet b1.58 2B4T (1.2 GB)
  %[1]s -m bitnet-2b4t                         chat with it
  %[1]s -m bitnet-2b4t -p "Why is the sky blue?"
  cat notes.txt | %[1]s -m bitnet-2b4t -p "Summarize:"
  echo "Once upon a time" | %[1]s --raw -n 100 --temp 0
  %[1]s -m model.gguf -p "Hello" --json

Commands:
`, programName, strings.Join(chat.Names(), ", "), d.Sampler.Temperature, d.Sampler.TopK, d.Sampler.TopP, d.Sampler.MinP, d.Sampler.RepeatPenalty,
		model.MaxThreads, model.DefaultContextLength)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", programName)
}
