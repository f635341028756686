package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/models"
)

// embeddedModelFile is the embedded model's GGUF in the source tree.
func embeddedModelFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join("models", models.DefaultFile)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("embedded model absent: %v", err)
	}
	return path
}

// TestContextAndThreadFlagLimits: absurd -c, -t and --batch values of the
// commands that run a model are usage errors (exit 2) of one line naming
// the bound, before any model is loaded; they used to crash with a fatal
// out-of-memory, a makeslice panic or a hang.
func TestContextAndThreadFlagLimits(t *testing.T) {
	dir := t.TempDir()
	text := writeStories(t, dir, "t.txt", 5)
	missing := filepath.Join(dir, "missing.gguf") // never opened: the flags fail first
	out := filepath.Join(dir, "out.f32")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-c", "2000000000", "-p", "x"}, "16777216"},
		{[]string{"-c", "9223372036854775807", "-p", "x"}, "context size"},
		{[]string{"-c", "99999999999999999999", "-p", "x"}, "flag -c"},
		{[]string{"-c", "-5", "-p", "x"}, "context size"},
		{[]string{"-t", "100000", "-p", "x"}, "1024"},
		{[]string{"--threads", "1025", "-p", "x"}, "1024"},
		{[]string{"-t", "1e8", "-p", "x"}, "-t"},
		{[]string{"-m", missing, "-t", "-1", "-p", "x"}, "threads"},
		{[]string{"perplexity", "-m", missing, "-f", text, "--ctx", "2000000000"}, "context length"},
		{[]string{"perplexity", "-m", missing, "-f", text, "-t", "5000"}, "threads"},
		{[]string{"perplexity", "-m", missing, "-f", text, "-b", "2000000000"}, "batch size"},
		{[]string{"logits", "-m", missing, "--tokens", "1,2", "-o", out, "-t", "5000"}, "threads"},
		{[]string{"logits", "-m", missing, "--tokens", "1,2", "-o", out, "-c", "2000000000"}, "context length"},
	} {
		code, _, stderr := runCLI(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, exitUsage, tc.msg)
		}
		if lines := strings.Count(strings.TrimSpace(stderr), "\n"); lines > 0 {
			t.Errorf("%v: error is not one line:\n%s", tc.args, stderr)
		}
	}
}

// TestInt8HeadFlag: --int8-head reaches the model in the one-shot command
// and in `bitnet perplexity`, whose estimate moves slightly (the embedded
// model's head is F16).
func TestInt8HeadFlag(t *testing.T) {
	path := embeddedModelFile(t)
	f, err := parseRunFlags([]string{"-m", path, "--int8-head", "-p", "x"}, stdio{})
	if err != nil || !f.options().Int8Head {
		t.Fatalf("parseRunFlags: %v, options %+v", err, f.options())
	}
	code, stdout, stderr := runCLI(t, "", "-m", path, "--int8-head", "-p", "Once upon a time", "-n", "4", "--temp", "0", "-t", "1")
	if code != 0 || strings.TrimSpace(stdout) == "" {
		t.Fatalf("--int8-head -p: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	text := writeStories(t, t.TempDir(), "t.txt", 40)
	ppl := func(extra ...string) float64 {
		t.Helper()
		args := append([]string{"perplexity", "-m", path, "-f", text, "--ctx", "64", "-t", "1", "-q"}, extra...)
		code, stdout, stderr := runCLI(t, "", args...)
		m := regexp.MustCompile(`PPL = ([0-9.]+)`).FindStringSubmatch(stdout)
		if code != 0 || m == nil {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	plain, int8 := ppl(), ppl("--int8-head")
	if plain == int8 || int8 < 0.99*plain || int8 > 1.01*plain {
		t.Errorf("perplexity %v, with --int8-head %v: want a small change", plain, int8)
	}
}
