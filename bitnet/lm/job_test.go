package lm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/kernels"
)

// writeTinyStories writes n short made-up stories separated by the EOS
// token to dir/name.
func writeTinyStories(t *testing.T, dir, name string, n int) {
	t.Helper()
	names := []string{"Tom", "Lily", "Ben", "Sue"}
	things := []string{"ball", "cat", "tree", "boat", "cake"}
	var b strings.Builder
	for i := range n {
		who, what := names[i%len(names)], things[(i*3)%len(things)]
		fmt.Fprintf(&b, "Once upon a time, %s had a red %s. %s liked the %s.\n%s\n", who, what, who, what, DefaultEOS)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tinyJob is a job on a model small enough to train a few steps in well
// under a second.
func tinyJob(steps int, files ...string) Job {
	o := DefaultOptions(steps)
	o.Batch, o.TrainFiles = 2, files
	return Job{
		Config:    Config{Dim: 128, Layers: 1, Heads: 2, KVHeads: 1, FFN: 128, Context: 16, Activation: bitnet.ReLU2},
		Options:   o,
		Run:       RunOptions{Threads: 1},
		VocabSize: 280,
	}
}

// Export options the model cannot be written with are refused before any
// data is read or any step trained: the same check (and message) as Export's.
func TestJobChecksExportBeforeTraining(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no such file.txt")
	for _, c := range []struct {
		name string
		edit func(*Job)
		want string
	}{
		{"float model as I2_S", func(j *Job) { j.Config.Float, j.Export.Weights = true, kernels.I2_S },
			"a float model's projections are written as F32 or F16, not I2_S"},
		{"width 96 as I2_S", func(j *Job) { j.Config.Dim, j.Config.FFN, j.Config.Heads = 96, 96, 2 },
			"dimension 96 is an input width of its projections: I2_S row length 96 is not a multiple of its block size 128"},
		{"ffn 128 as TQ2_0", func(j *Job) { j.Config.Dim, j.Export.Weights = 256, kernels.TQ2_0 },
			"feed-forward width 128 is an input width of its projections: TQ2_0 row length 128 is not a multiple of its block size 256"},
		{"Q8_0 embeddings", func(j *Job) { j.Export.Embeddings = kernels.Q8_0 }, "embeddings are written as F32 or F16, not Q8_0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := tinyJob(2, missing)
			j.Output = filepath.Join(dir, "m.gguf")
			c.edit(&j)
			var log strings.Builder
			j.Run.Log = &log
			_, err := j.Execute(context.Background())
			// The training file does not exist: the error is the export's, so
			// it was raised before the data was read.
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Execute: %v, want an error containing %q", err, c.want)
			}
			if log.Len() != 0 {
				t.Fatalf("the refused job logged:\n%s", log.String())
			}
			// Export itself refuses the same options with the same message.
			cfg := j.Config
			cfg.Vocab = 300
			if m, err := NewModel(cfg, newRand(1, 1)); err == nil {
				if _, err := m.Exported(j.Export); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Exported: %v", err)
				}
			}
			if err := j.Export.Validate(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate: %v", err)
			}
		})
	}

	// A resumed checkpoint's shape is checked against the export options
	// as soon as it is loaded: the run does not continue.
	writeTinyStories(t, dir, "train.txt", 60)
	ckpt := filepath.Join(dir, "ckpt.gguf")
	j := tinyJob(4, filepath.Join(dir, "train.txt"))
	j.Run.Checkpoint = ckpt
	j.Run.SaveEvery = 2
	ctx, cancel := context.WithCancel(context.Background())
	j.Run.Log = cancelAfter{&strings.Builder{}, "step 2/4  checkpoint saved", cancel}
	j.Run.LogEvery = 1
	if _, err := j.Execute(ctx); err == nil {
		t.Fatal("the interrupted run reported no error")
	}
	var log strings.Builder
	resume := Job{Resume: ckpt, Output: filepath.Join(dir, "m.gguf"), Export: ExportOptions{Weights: kernels.TQ2_0}, Run: RunOptions{Log: &log, Checkpoint: ckpt}}
	_, err := resume.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "TQ2_0 row length 128 is not a multiple of its block size 256") {
		t.Fatalf("resuming for TQ2_0: %v", err)
	}
	if strings.Contains(log.String(), "step 3/4") {
		t.Fatalf("the refused resume trained:\n%s", log.String())
	}
	if s, err := LoadCheckpoint(ckpt); err != nil || s.Step != 2 {
		t.Fatalf("checkpoint after the refused resume: %v, %v", s, err)
	}
}

// Checkpoints record the data files as absolute paths, so a run started
// with relative paths resumes from any directory; a relative path recorded
// by an older checkpoint is found beside the checkpoint.
func TestResumeFindsDataFromAnotherDirectory(t *testing.T) {
	work, elsewhere := t.TempDir(), t.TempDir()
	writeTinyStories(t, work, "train.txt", 60)
	writeTinyStories(t, work, "valid.txt", 10)
	t.Chdir(work)
	j := tinyJob(3, "train.txt")
	j.Options.ValidFiles = []string{"valid.txt"}
	j.Run.Checkpoint = "ckpt.gguf"
	if _, err := j.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(work, "ckpt.gguf")
	s, err := LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	wantTrain, wantValid := filepath.Join(work, "train.txt"), filepath.Join(work, "valid.txt")
	if len(s.Options.TrainFiles) != 1 || s.Options.TrainFiles[0] != wantTrain || len(s.Options.ValidFiles) != 1 || s.Options.ValidFiles[0] != wantValid {
		t.Fatalf("the checkpoint records %q and %q, want %q and %q", s.Options.TrainFiles, s.Options.ValidFiles, wantTrain, wantValid)
	}

	t.Chdir(elsewhere)
	resume := func(what string) {
		t.Helper()
		out := filepath.Join(elsewhere, "m.gguf")
		var log strings.Builder
		if _, err := (Job{Resume: ckpt, Output: out, Run: RunOptions{Threads: 1, Log: &log}}).Execute(context.Background()); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !strings.Contains(log.String(), "exported "+out) {
			t.Fatalf("%s:\n%s", what, log.String())
		}
	}
	resume("resuming from another directory")

	// A checkpoint written with relative paths (as before they were made
	// absolute) resumes from another directory too.
	s.Options.TrainFiles, s.Options.ValidFiles = []string{"train.txt"}, []string{"valid.txt"}
	if err := SaveCheckpoint(ckpt, s); err != nil {
		t.Fatal(err)
	}
	resume("resuming a checkpoint with relative paths")

	// A file found nowhere is named in the error.
	if err := os.Remove(filepath.Join(work, "valid.txt")); err != nil {
		t.Fatal(err)
	}
	_, err = (Job{Resume: ckpt, Run: RunOptions{Threads: 1}}).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "valid.txt") {
		t.Fatalf("resuming without the held-out file: %v", err)
	}
}
