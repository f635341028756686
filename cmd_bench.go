package main

import (
	"context"
	"encoding/json"
	"fmt"
	goio "io"
	"strconv"
	"strings"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/bench"
)

// runBench implements `bitnet bench`: prompt-processing and generation speed
// like llama-bench, with the memory read bandwidth measured in the same run.
func runBench(ctx context.Context, args []string, io stdio) error {
	fs := newFlags("bench", io)
	var (
		o                  bench.Options
		threads, weightTyp string
		asJSON, verbose    bool
	)
	fs.StringVar(&o.Model, "m", "", "model: GGUF file, Hugging Face directory or downloaded name")
	fs.StringVar(&o.Model, "model", "", "model: GGUF file, Hugging Face directory or downloaded name")
	fs.StringVar(&o.Synthetic, "synthetic", "", "benchmark a random-weight model of this shape instead (2b4t: BitNet b1.58 2B4T), written to a temporary file")
	fs.StringVar(&weightTyp, "synthetic-type", "tq2_0", "projection weights of the synthetic model: tq2_0, tq1_0 or i2_s")
	fs.IntVar(&o.PromptTokens, "p", 128, "prompt tokens processed in one pass (pp test; 0 skips it)")
	fs.IntVar(&o.GenTokens, "n", 64, "tokens generated one at a time (tg test; 0 skips it)")
	fs.StringVar(&threads, "t", "", "comma-separated thread counts (default: one per CPU)")
	fs.IntVar(&o.Repetitions, "r", 5, "repetitions of each test; medians are reported")
	fs.IntVar(&o.BatchSize, "b", 0, "prompt batch size (default 64)")
	fs.BoolVar(&o.Int8Head, "int8-head", false, "re-encode a float lm head to int8 per row (fewer bytes per token)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	fs.BoolVar(&verbose, "v", false, "report progress on stderr")
	fs.Usage = func() {
		fmt.Fprint(io.err, "Usage: bitnet bench (-m MODEL | --synthetic 2b4t) [-p 128] [-n 64] [-t 1,2] [-r 5] [--int8-head] [--json]\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if (o.Model == "") == (o.Synthetic == "") {
		return usagef("bench needs -m MODEL or --synthetic SHAPE (not both)")
	}
	if o.PromptTokens < 0 || o.GenTokens < 0 || o.Repetitions <= 0 || o.BatchSize < 0 {
		return usagef("-p, -n and -b must not be negative, -r must be positive")
	}
	if o.PromptTokens == 0 && o.GenTokens == 0 {
		return usagef("-p 0 and -n 0 leave nothing to measure")
	}
	// In bench.Options a negative count skips a test and 0 means the default.
	if o.PromptTokens == 0 {
		o.PromptTokens = -1
	}
	if o.GenTokens == 0 {
		o.GenTokens = -1
	}
	if threads != "" {
		for _, f := range strings.Split(threads, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				return usagef("-t: %q is not a positive thread count", f)
			}
			o.Threads = append(o.Threads, n)
		}
	}
	if o.Synthetic != "" {
		t, err := parseTernaryType(weightTyp)
		if err != nil {
			return usageError{err}
		}
		o.SyntheticType = t
	}
	if verbose {
		o.Progress = func(msg string) { fmt.Fprintln(io.err, msg) }
	}
	res, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(io.out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printBench(io.out, res)
	return nil
}

func parseTernaryType(s string) (kernels.Type, error) {
	for _, t := range []kernels.Type{kernels.TQ2_0, kernels.TQ1_0, kernels.I2_S} {
		if strings.EqualFold(s, t.String()) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown synthetic weight type %q (want tq2_0, tq1_0 or i2_s)", s)
}

// printBench writes the result as a table in the manner of llama-bench.
func printBench(w goio.Writer, r *bench.Result) {
	const gb = 1e9
	fmt.Fprintf(w, "model: %s, %.2f GB on disk, %s projections, %s lm head\n", r.Model, float64(r.ModelBytes)/gb, r.WeightType, r.HeadType)
	fmt.Fprintf(w, "weights read per generated token: %.3f GB\n", float64(r.BytesPerToken)/gb)
	fmt.Fprintf(w, "cpu: %s, %d logical CPUs, kernels: %s\n\n", r.CPU, r.CPUs, r.SIMD)
	fmt.Fprintf(w, "| threads | test   | tokens/s (median, min-max)     | weights GB/s | read bandwidth GB/s | of bandwidth |\n")
	fmt.Fprintf(w, "|--------:|:-------|-------------------------------:|-------------:|--------------------:|-------------:|\n")
	for _, run := range r.Runs {
		if len(run.PromptSamples) > 0 {
			fmt.Fprintf(w, "| %7d | %-6s | %30s | %12s | %19s | %12s |\n", run.Threads, fmt.Sprintf("pp%d", r.PromptTokens),
				spread(run.PromptTokensPerSec, run.PromptSamples), "", "", "")
		}
		if len(run.GenSamples) > 0 {
			fmt.Fprintf(w, "| %7d | %-6s | %30s | %12.2f | %19.2f | %11.1f%% |\n", run.Threads, fmt.Sprintf("tg%d", r.GenTokens),
				spread(run.GenTokensPerSec, run.GenSamples), float64(r.BytesPerToken)*run.GenTokensPerSec/gb,
				run.ReadBandwidth/gb, 100*run.BandwidthUtilisation)
		}
	}
}

// spread formats a median with the range of its samples.
func spread(median float64, samples []float64) string {
	lo, hi := samples[0], samples[0]
	for _, v := range samples {
		lo, hi = min(lo, v), max(hi, v)
	}
	return fmt.Sprintf("%.2f (%.2f-%.2f)", median, lo, hi)
}
