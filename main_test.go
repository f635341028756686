package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/model/golden"
)

// runCLI runs the command line in-process and returns the exit code and
// what it wrote.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdio{strings.NewReader(stdin), &out, &errb})
	return code, out.String(), errb.String()
}

func findCase(t *testing.T, name string) golden.Case {
	for _, c := range golden.Cases(t) {
		if c.Name == name {
			return c
		}
	}
	t.Skipf("golden case %s absent", name)
	return golden.Case{}
}

// TestLogitsCommand runs `bitnet logits` on a golden case and compares the
// file it writes with the float reference.
func TestLogitsCommand(t *testing.T) {
	c := findCase(t, "b158-relu2-i2_s")
	ids := make([]string, len(c.Tokens.Sequence))
	for i, id := range c.Tokens.Sequence {
		ids[i] = strconv.Itoa(id)
	}
	out := filepath.Join(t.TempDir(), "logits.f32")
	code, _, stderr := runCLI(t, "", "logits", "-m", c.ModelPath(), "--tokens", strings.Join(ids, ","), "-o", out, "--float-activations", "-t", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	vocab := c.Spec.Model.Shape.Vocab
	if len(b) != len(ids)*vocab*4 {
		t.Fatalf("wrote %d bytes, want %d", len(b), len(ids)*vocab*4)
	}
	got := make([][]float32, len(ids))
	for i := range got {
		got[i] = make([]float32, vocab)
		for v := range got[i] {
			got[i][v] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*(i*vocab+v):]))
		}
	}
	ref, err := c.Logits("ref-none")
	if err != nil {
		t.Fatal(err)
	}
	if d := golden.Compare(got, ref); d.MaxAbs > 1e-3 {
		t.Fatalf("logits command vs ref-none: %v", d)
	}
}

func TestInfoCommand(t *testing.T) {
	c := findCase(t, "b158-arch-i2_s")
	code, out, stderr := runCLI(t, "", "info", c.ModelPath())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"bitnet-b1.58", "relu2", "I2_S", "28 tensors", "F16", "gpt2", "Llama 3 split", "context length", "256"} {
		if !strings.Contains(out, want) {
			t.Errorf("info output lacks %q:\n%s", want, out)
		}
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.gguf")
	if err := os.WriteFile(garbage, []byte("GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x0f\x00\x00\x00\x00\x00\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"--no-such-flag"}, exitUsage, "not defined"},
		{[]string{"info"}, exitUsage, "one model file"},
		{[]string{"info", filepath.Join(dir, "missing.gguf")}, exitError, "no such file"},
		{[]string{"info", garbage}, exitError, "tensor count"},
		{[]string{"logits", "-m", garbage, "--tokens", "x", "-o", "o"}, exitUsage, "not a non-negative integer"},
		{[]string{"logits", "-m", garbage, "--tokens", "1", "-o", filepath.Join(dir, "o")}, exitError, "malformed GGUF"},
	}
	for _, tc := range cases {
		code, _, stderr := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.inStderr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, tc.code, tc.inStderr)
		}
		if lines := strings.Count(strings.TrimSpace(stderr), "\n"); lines > 0 {
			t.Errorf("%v: error is not one line:\n%s", tc.args, stderr)
		}
	}
}
