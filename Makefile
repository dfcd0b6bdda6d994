# Lint everything the way CI does; `make lint` needs the test extras installed.
.PHONY: lint test

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets --all-features -- -D warnings
	ruff check .
	ruff format --check .
	python -m mypy.stubtest seltzer._core --allowlist stubtest-allowlist.txt
	mypy python/seltzer

test:
	cargo test
	pytest
