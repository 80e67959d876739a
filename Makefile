# The two commands of the README: `make run` and `make test`. Everything else is optional.
SWIFT ?= swift
RATEL = .build/debug/ratel

.PHONY: run test build deps fuzz bench bench-clients bench-ledger bench-radius ratesheets clean

deps:
	@scripts/ensure-deps.sh

build: deps
	$(SWIFT) build

# The main job on the embedded default: the RADIUS server, with a loopback demo client and demo PINs.
run: build
	$(RATEL) serve --demo

# Builds everything once (the CLI tests run the real binary), starts a throwaway PostgreSQL on
# loopback for the shared-store tests, then runs every test. The Kamailio end-to-end test runs on
# its own afterwards: it checks that calls are cut at the granted second, and Kamailio waits for
# each cut call's Stop to be on Ratel's disk before the next cut, so the other suites' disk load
# would show up as late cuts.
test: deps
	$(SWIFT) build --build-tests
	RATEL_TEST_POSTGRES="$$(scripts/start-postgres.sh)" $(SWIFT) test --skip-build --skip KamailioTests
	$(SWIFT) test --skip-build --filter KamailioTests
	scripts/fuzz.sh 60

# libFuzzer on the RADIUS packet decoder (fuzz/, its own package): `make fuzz SECONDS=1800`.
SECONDS ?= 60
fuzz: deps
	scripts/fuzz.sh $(SECONDS)

# Benchmarks (package-benchmark, release build; the first run takes a few minutes). The ledger's
# PostgreSQL pair runs against the same throwaway server the tests use.
bench: deps
	cd benchmarks && RATEL_BENCH_POSTGRES="$$(../scripts/start-postgres.sh)" $(SWIFT) package benchmark --no-progress

# The NAS client lookup only: thousands of clients against two.
bench-clients: deps
	cd benchmarks && $(SWIFT) package benchmark --no-progress --target ClientBenchmarks

# The ledger benchmarks only: reserve+commit pairs per second against naive baselines.
bench-ledger: deps
	cd benchmarks && RATEL_BENCH_POSTGRES="$$(../scripts/start-postgres.sh)" $(SWIFT) package benchmark --no-progress --target LedgerBenchmarks

# Ratel against FreeRADIUS 3.2 with one million accounts, one load generator, alternating in three rounds,
# each with the PAP floor (PAPFloor: the codec alone)
# (benchmarks/radius-compare.sh; installs freeradius; the first run builds and generates for ~5 min).
bench-radius: deps
	benchmarks/radius-compare.sh

# Rebuilds ratesheets/ from ../shared/data/e164-prefixes.csv.gz.
ratesheets:
	python3 scripts/make-ratesheets.py

clean:
	rm -rf .build benchmarks/.build fuzz/.build
