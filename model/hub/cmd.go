package hub

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// ErrUsage is wrapped by the errors of RunPull, RunList and RunRm that report
// a command line they cannot use; the caller should print the error and exit
// with status 2. A -h request returns flag.ErrHelp after printing the usage.
var ErrUsage = errors.New("usage")

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// parseFlags parses args and maps flag errors to ErrUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return err
	}
	return usageError("%v", err)
}

func cacheFlag(fs *flag.FlagSet) *string {
	def, err := DefaultCacheDir()
	if err != nil {
		def = "(none: " + err.Error() + ")"
	}
	return fs.String("cache", "", "model cache directory (default "+def+")")
}

// RunPull implements `bitnet pull [flags] MODEL...`: it downloads each MODEL
// (a short name, REPO or REPO:FILE) into the cache and prints the path to
// give -m on stdout. Progress and log lines go to stderr; the progress bar
// only when stderr is a terminal. HF_ENDPOINT and HF_TOKEN are honoured.
func RunPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pull", flag.ContinueOnError)
	fs.SetOutput(stderr)
	revision := fs.String("revision", DefaultRevision, "branch, tag or commit to download")
	cache := cacheFlag(fs)
	quiet := fs.Bool("q", false, "print only the resulting paths")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: bitnet pull [flags] MODEL...

Downloads models from the Hugging Face hub into the model cache and prints
the path to give -m. MODEL is a short name, a repository id (owner/name) or
owner/name:FILE for one file. A repository with GGUF files yields its only
(or its I2_S) .gguf; a Hugging Face model yields config.json, the tokenizer
and the .safetensors weights. Interrupted downloads resume.

Environment: HF_TOKEN (access token for gated or private models),
HF_ENDPOINT (hub address, for mirrors; default https://huggingface.co).

Short names:
`)
		printShortNames(stderr, "")
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("pull needs a MODEL: a short name, owner/name or owner/name:FILE (bitnet pull -h lists the short names)")
	}
	refs := make([]Ref, fs.NArg())
	for i, a := range fs.Args() {
		r, err := ParseRef(a)
		if err != nil {
			return usageError("%v", err)
		}
		refs[i] = r
	}
	opts := EnvOptions()
	opts.Revision = *revision
	opts.CacheDir = *cache
	if !*quiet {
		opts.Log = stderr
		if isTerminal(stderr) {
			opts.Progress = stderr
		}
	}
	for _, r := range refs {
		p, err := Pull(ctx, r, opts)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, p.Path)
	}
	return nil
}

// RunList implements `bitnet list [flags]`: the cached models with their
// sizes and paths, or with -names the known short names.
func RunList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cache := cacheFlag(fs)
	names := fs.Bool("names", false, "list the short names bitnet pull and -m accept")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bitnet list [flags]\n\nLists the downloaded models.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("list takes no arguments, got %q", fs.Args())
	}
	if *names {
		printShortNames(stdout, *cache)
		return nil
	}
	models, err := List(*cache)
	if err != nil {
		return err
	}
	if len(models) == 0 {
		dir := *cache
		if dir == "" {
			dir, _ = DefaultCacheDir()
		}
		fmt.Fprintf(stdout, "no models in %s; download one with: bitnet pull bitnet-2b4t (bitnet list -names shows more)\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tSIZE\tSHORT NAME\tPATH")
	for _, m := range models {
		size := formatSize(m.Size)
		if m.Partial > 0 {
			size += fmt.Sprintf(" (+%s unfinished)", formatSize(m.Partial))
		}
		short := strings.Join(m.ShortNames, ",")
		if short == "" {
			short = "-"
		}
		path := m.Path
		if path == "" {
			path = m.Dir + " (no single model; use REPO:FILE)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Repo, size, short, path)
	}
	return tw.Flush()
}

// RunRm implements `bitnet rm [flags] MODEL...`: it deletes cached models
// named by short name or repository id.
func RunRm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cache := cacheFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bitnet rm [flags] MODEL...\n\nDeletes downloaded models (short name or owner/name) from the cache.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("rm needs a MODEL: a short name or owner/name (bitnet list shows the downloaded ones)")
	}
	for _, name := range fs.Args() {
		if strings.Contains(name, ":") {
			return usageError("rm removes whole models; %q names a file", name)
		}
		m, err := Remove(*cache, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s (%s)\n", m.Repo, formatSize(m.Size+m.Partial))
	}
	return nil
}

// printShortNames writes the short-name table, marking the models found in
// cacheDir (DefaultCacheDir() when empty).
func printShortNames(w io.Writer, cacheDir string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, sn := range ShortNames {
		target := sn.Repo
		if sn.File != "" {
			target += ":" + sn.File
		}
		mark := ""
		if _, err := Resolve(sn.Name, cacheDir); err == nil {
			mark = "  (downloaded)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s%s\n", sn.Name, target, sn.About, mark)
	}
	tw.Flush()
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
