package hub

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunPullHonoursEnvironment(t *testing.T) {
	h := newFakeHub(t)
	content := randomBytes(30, 2048)
	h.addRepo("org/private", map[string][]byte{"ggml-model-i2_s.gguf": content}).private = true
	t.Setenv("HF_ENDPOINT", h.hub.URL+"/") // a trailing slash is tolerated
	t.Setenv("HF_TOKEN", h.token)
	cache := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := RunPull(context.Background(), []string{"-cache", cache, "org/private"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	want := filepath.Join(cache, "org", "private", "ggml-model-i2_s.gguf")
	if strings.TrimSpace(stdout.String()) != want {
		t.Errorf("stdout %q, want the path %q", stdout.String(), want)
	}
	if strings.Contains(stderr.String(), "\r") {
		t.Errorf("a progress bar was drawn on a non-terminal: %q", stderr.String())
	}
	if !strings.Contains(stderr.String(), "ggml-model-i2_s.gguf: downloaded") {
		t.Errorf("stderr %q", stderr.String())
	}
	if got, _ := os.ReadFile(want); !bytes.Equal(got, content) {
		t.Error("content differs")
	}
	for _, r := range h.requestsTo("hub") {
		if r.auth != "Bearer "+h.token {
			t.Errorf("HF_TOKEN not sent on %s", r.path)
		}
	}

	// Without the token the same pull explains what to do.
	t.Setenv("HF_TOKEN", "")
	stdout.Reset()
	err = RunPull(context.Background(), []string{"-q", "-cache", t.TempDir(), "org/private"}, &stdout, &stderr)
	if !errors.Is(err, ErrAccess) || !strings.Contains(err.Error(), "HF_TOKEN") || stdout.Len() != 0 {
		t.Errorf("pull without the token: %v (stdout %q)", err, stdout.String())
	}
}

func TestRunListAndRm(t *testing.T) {
	_, opts := pullFixture(t)
	var out, errOut bytes.Buffer
	if err := RunList(context.Background(), []string{"-cache", opts.CacheDir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "MODEL") {
		t.Fatalf("list output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "bitnet-2b4t") || !strings.Contains(out.String(), "4.0 KiB") ||
		!strings.Contains(out.String(), "unfinished") || !strings.Contains(out.String(), "org/hf-model") {
		t.Errorf("list output:\n%s", out.String())
	}

	out.Reset()
	if err := RunList(context.Background(), []string{"-cache", opts.CacheDir, "-names"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, sn := range ShortNames {
		if !strings.Contains(out.String(), sn.Name) || !strings.Contains(out.String(), sn.Repo) {
			t.Errorf("-names lacks %s", sn.Name)
		}
	}
	if !strings.Contains(out.String(), "(downloaded)") {
		t.Errorf("-names does not mark downloaded models:\n%s", out.String())
	}

	out.Reset()
	if err := RunRm(context.Background(), []string{"-cache", opts.CacheDir, "bitnet-2b4t", "org/hf-model"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "removed microsoft/bitnet-b1.58-2B-4T-gguf (4.0 KiB)") || !strings.Contains(out.String(), "removed org/hf-model") {
		t.Errorf("rm output %q", out.String())
	}
	if err := RunRm(context.Background(), []string{"-cache", opts.CacheDir, "org/hf-model"}, &out, &errOut); !errors.Is(err, ErrNotCached) {
		t.Errorf("rm of a model not cached: %v", err)
	}

	empty := t.TempDir()
	out.Reset()
	if err := RunList(context.Background(), []string{"-cache", empty}, &out, &errOut); err != nil || !strings.Contains(out.String(), "bitnet pull") {
		t.Errorf("empty list: %v %q", err, out.String())
	}
}

func TestCommandUsageErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(context.Context, []string, io.Writer, io.Writer) error
		args []string
	}{
		{"pull without model", RunPull, nil},
		{"pull bad flag", RunPull, []string{"-bogus", "x/y"}},
		{"pull bad ref", RunPull, []string{"not-a-model"}},
		{"pull bad file", RunPull, []string{"org/repo:../x"}},
		{"list with argument", RunList, []string{"extra"}},
		{"rm without model", RunRm, nil},
		{"rm a file", RunRm, []string{"org/repo:file.gguf"}},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		err := c.run(ctx, c.args, &out, &errOut)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%s: %v does not wrap ErrUsage", c.name, err)
		}
	}
	var out, errOut bytes.Buffer
	if err := RunPull(ctx, []string{"-h"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("pull -h: %v", err)
	}
	if !strings.Contains(errOut.String(), "HF_TOKEN") || !strings.Contains(errOut.String(), "bitnet-2b4t") {
		t.Errorf("pull usage lacks the environment or short names:\n%s", errOut.String())
	}
}
