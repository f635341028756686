// Command bitnet runs 1.58-bit BitNet b1.58 language models on the CPU: chat
// in the terminal, one-shot prompts, prompts piped through stdin, and tools to
// inspect, tokenize, benchmark, train and convert models.
//
// main.go holds the command table and exit-code policy; each command's flags
// live in a cmd_*.go file beside it and its work in the package it belongs to.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	programName = "bitnet"
)

// stdio is the program's standard streams, passed to commands so tests can
// run them in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, io stdio) error
}

// commands is the subcommand table; with no subcommand bitnet chats or
// answers a one-shot prompt (see cmd_run.go).
var commands = map[string]command{
	"bench":      {"measure prompt and generation speed, like llama-bench", runBench},
	"convert":    {"convert a Hugging Face model directory to GGUF", runConvert},
	"info":       {"describe a model: GGUF file or Hugging Face directory", runInfo},
	"logits":     {"write teacher-forced logits of token ids as float32", runLogits},
	"perplexity": {"measure a model's perplexity on a text file (llama-perplexity's method)", runPerplexity},
	"pull":       {"download a model from the Hugging Face hub", runPull},
	"list":       {"list downloaded models", runList},
	"rm":         {"remove a downloaded model", runRm},
	"tokenize":   {"show the token ids of a text", runTokenize},
	"train":      {"train a small BitNet b1.58 model on text files and export it", runTrain},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}))
}

// run executes the command line and returns the exit code. Errors are
// printed as one line on stderr.
func run(ctx context.Context, args []string, io stdio) int {
	var err error
	if len(args) > 0 {
		if cmd, ok := commands[args[0]]; ok {
			err = cmd.run(ctx, args[1:], io)
			return report(err, io, programName+" "+args[0])
		}
		if args[0] == "help" {
			printUsage(io.out)
			return exitOK
		}
	}
	err = runDefault(ctx, args, io)
	return report(err, io, programName)
}

// usageError marks an error caused by the command line rather than by what
// the program found while running.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// usageSentinels are the usage errors other packages' commands return.
var usageSentinels []error

// report prints err for the command line cmd and returns the exit code.
func report(err error, io stdio, cmd string) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case isUsage(err):
		fmt.Fprintf(io.err, "%s: %v (see '%s --help')\n", programName, oneLine(err), cmd)
		return exitUsage
	default:
		fmt.Fprintf(io.err, "%s: %v\n", programName, oneLine(err))
		return exitError
	}
}

func isUsage(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return true
	}
	for _, s := range usageSentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, `%s runs 1.58-bit BitNet b1.58 language models on the CPU.

Usage:
  %s [flags]                 chat, or answer -p PROMPT / text piped on stdin
  %s COMMAND [flags]

Commands:
`, programName, programName, programName)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags, '%s --help' for the chat flags.\n", programName, programName)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, io stdio) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	return fs
}

// parseFlags parses args, turning flag errors into usage errors. The flag
// package's own messages are suppressed so an error stays one line; the
// usage text is shown only when asked for with -h or --help.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
		return err
	case err != nil:
		return usageError{err}
	}
	return nil
}
