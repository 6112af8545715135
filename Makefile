# The README's commands. Each installs the system packages it needs, only when missing.
CARGO ?= cargo
DEMO_FIXTURE ?= fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav

.PHONY: demo test soak fuzz-check bench deps build fmt man completions

deps:
	@scripts/ensure-deps.sh

build: deps
	$(CARGO) build --release --locked

# The main job on a bundled recording: analyse it, then a claim through the whole flow.
demo: build
	scripts/demo.sh

# The whole test suite, in release (the DSP sweeps are slow unoptimised). Built once.
# postgresql: the registry tests start a throwaway server of their own (tests/support/pg.rs).
test:
	@scripts/ensure-deps.sh tmux chromium postgresql
	$(CARGO) build --release --locked --all-targets
	$(CARGO) test --release --locked --all-targets
	$(CARGO) build --release --locked --no-default-features
	$(CARGO) test --release --locked --doc

# The audit's kinds of test at soak size: mutated and random audio files, one-byte tampers of a
# signed store, kill -9 trials of a writer, concurrent writer processes (the normal suite runs
# each at a few hundred cases). Prints each test's figures (README, "Soak").
soak: deps
	@mkdir -p target
	TICKPROOF_SOAK=1 $(CARGO) test --release --locked --test source_formats --test record_store \
		--test record_crash -- --nocapture --test-threads=1 > target/soak.log 2>&1; \
		status=$$?; grep "soak figures" target/soak.log; exit $$status

# The fuzz targets still compile (cheap: a check on stable, no fuzzing; see fuzz/Cargo.toml).
fuzz-check:
	$(CARGO) check --manifest-path fuzz/Cargo.toml --bins

# Speed and memory benchmarks (x real time, peak MiB, allocations in the hot path), and claims/s
# into a PostgreSQL registry (a throwaway server, as in the tests).
bench: deps
	@scripts/ensure-deps.sh postgresql
	$(CARGO) bench --locked --bench throughput
	$(CARGO) bench --locked --bench registry

fmt:
	$(CARGO) fmt

# Manual pages (target/man/tickproof.1 and one per subcommand) and shell completions
# (target/completions/), generated from the command-line definitions.
man: build
	target/release/tickproof man --out target/man

completions: build
	mkdir -p target/completions
	for s in bash zsh fish; do target/release/tickproof completions $$s > target/completions/tickproof.$$s; done
