package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// writeStories writes a small made-up corpus of stories separated by
// <|endoftext|> lines and returns its path.
func writeStories(t *testing.T, dir, name string, n int) string {
	t.Helper()
	names := []string{"Tom", "Lily", "Ben", "Sue"}
	things := []string{"ball", "cat", "tree", "boat", "cake"}
	var b strings.Builder
	for i := range n {
		who, what := names[i%len(names)], things[(i*3)%len(things)]
		fmt.Fprintf(&b, "Once upon a time, %s had a red %s. %s liked the %s very much.\nThe end.\n<|endoftext|>\n", who, what, who, what)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTrainAndPerplexityCommands trains a tiny model from the command line,
// resumes its checkpoint to export it, and scores held-out text with
// `bitnet perplexity`.
func TestTrainAndPerplexityCommands(t *testing.T) {
	dir := t.TempDir()
	train := writeStories(t, dir, "train.txt", 300)
	valid := writeStories(t, dir, "valid.txt", 40)
	ckpt, out := filepath.Join(dir, "ckpt.gguf"), filepath.Join(dir, "tiny.gguf")
	shape := []string{"--vocab", "300", "--dim", "128", "--layers", "1", "--heads", "2", "--kv-heads", "1", "--ffn", "128", "--ctx", "16"}
	args := append([]string{"train", "--checkpoint", ckpt, "--valid", valid, "--steps", "6", "--batch", "2", "--log-every", "2", "-t", "2"}, shape...)
	code, _, stderr := runCLI(t, "", append(args, train)...)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"step 6/6  loss", "valid loss", "checkpoint saved"} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("train progress lacks %q:\n%s", want, stderr)
		}
	}

	// Resuming a finished run validates again and exports.
	code, _, stderr = runCLI(t, "", "train", "--resume", ckpt, "-o", out, "--embeddings", "f32", "-t", "2")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "resuming") || !strings.Contains(stderr, "exported "+out) {
		t.Fatalf("resume output:\n%s", stderr)
	}

	code, stdout, stderr := runCLI(t, "", "perplexity", "-m", out, "-f", valid, "--ctx", "16", "--parse-special", "-t", "2")
	if code != 0 {
		t.Fatalf("perplexity: exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)`).FindStringSubmatch(stdout)
	if m == nil || !strings.HasPrefix(stdout, "[1]") {
		t.Fatalf("perplexity output:\n%s", stdout)
	}
	// The vocabulary has 300 tokens; a model that learned anything scores
	// far below that.
	if ppl, _ := strconv.ParseFloat(m[1], 64); !(ppl > 1 && ppl < 300) {
		t.Fatalf("perplexity %v", ppl)
	}
}

func TestTrainAndPerplexityUsageErrors(t *testing.T) {
	dir := t.TempDir()
	text := writeStories(t, dir, "t.txt", 5)
	for _, args := range [][]string{
		{"train", "-o", filepath.Join(dir, "m.gguf")}, // no text
		{"train", text}, // nowhere to keep the result
		{"train", "--resume", filepath.Join(dir, "c.gguf"), "--dim", "64", "-o", "x"}, // hyperparameters with --resume
		{"train", "-o", "x", "--act", "gelu", text},
		{"train", "-o", "x", "--weights", "q4_0", text},
		{"perplexity", "-f", text},
		{"perplexity", "-m", "x.gguf"},
		{"perplexity", "-m", "x.gguf", "-f", text, "--ctx", "2"},
	} {
		if code, _, stderr := runCLI(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitUsage, stderr)
		}
	}
}

// Export flags the model cannot be written with are refused before the
// tokenizer is trained or any step runs, with the export's own message.
func TestTrainChecksExportFlagsFirst(t *testing.T) {
	dir := t.TempDir()
	text := writeStories(t, dir, "t.txt", 50)
	out, ckpt := filepath.Join(dir, "m.gguf"), filepath.Join(dir, "c.gguf")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--float", "--weights", "i2_s"}, "a float model's projections are written as F32 or F16, not I2_S"},
		{[]string{"--dim", "96"}, "I2_S row length 96 is not a multiple of its block size 128"},
		{[]string{"--weights", "tq2_0", "--dim", "128", "--ffn", "384"}, "TQ2_0 row length 128 is not a multiple of its block size 256"},
		{[]string{"--weights", "f32"}, "--weights f32 is for --float models"},
	} {
		args := append([]string{"train", "-o", out, "--checkpoint", ckpt, "--steps", "2", "--vocab", "280", "-t", "1"}, c.args...)
		code, _, stderr := runCLI(t, "", append(args, text)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want %d with %q: %s", c.args, code, exitUsage, c.want, stderr)
		}
		for _, trained := range []string{"tokenizer:", "step ", "exported"} {
			if strings.Contains(stderr, trained) {
				t.Errorf("%v: the refused run got as far as %q:\n%s", c.args, trained, stderr)
			}
		}
		for _, f := range []string{out, ckpt} {
			if _, err := os.Stat(f); err == nil {
				t.Fatalf("%v: the refused run wrote %s", c.args, f)
			}
		}
	}
}
